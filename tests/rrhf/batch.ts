/**
 * Builds RRHF batch layouts for tests from readable row descriptions.
 * Unscored positions are filled with NaN by default, so every test also
 * proves that the loss never reads them.
 */
import type { RrhfBatchLayout } from "../../src/rrhf/layout.js";

export interface RowSpec {
  /** Query id of the row. */
  query: number;
  /** Reward r_i. */
  score: number;
  /** Log-probabilities of the scored positions, in order. */
  logps: number[];
  /** Unscored positions before the response (the query); 1 by default (position 0 is never scored). */
  prefix?: number;
}

export interface BuildOptions {
  /** Padded length; by default the longest row. */
  T?: number;
  /** Value of unscored positions. */
  fill?: number;
  /** float32 (as the model produces) or float64 (for exact checks). */
  precision?: "f32" | "f64";
}

export function makeBatch(rows: RowSpec[], opts: BuildOptions = {}): RrhfBatchLayout {
  const need = Math.max(...rows.map((r) => (r.prefix ?? 1) + r.logps.length));
  const T = opts.T ?? need;
  if (T < need) throw new Error(`T = ${T} is shorter than the longest row (${need})`);
  const fill = opts.fill ?? Number.NaN;
  const n = rows.length * T;
  const tokenLogps = opts.precision === "f64" ? new Float64Array(n) : new Float32Array(n);
  tokenLogps.fill(fill);
  const labelMask = new Uint8Array(n);
  rows.forEach((row, r) => {
    const start = r * T + (row.prefix ?? 1);
    row.logps.forEach((v, t) => {
      tokenLogps[start + t] = v;
      labelMask[start + t] = 1;
    });
  });
  return {
    tokenLogps,
    labelMask,
    rowQuery: Int32Array.from(rows.map((r) => r.query)),
    scores: Float64Array.from(rows.map((r) => r.score)),
  };
}

/** Asserts |actual − expected| <= tol with a readable message. */
export function close(actual: number, expected: number, tol = 1e-12, what = "value"): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: expected ${expected} ± ${tol}, got ${actual}`);
  }
}
