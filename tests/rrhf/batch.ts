/**
 * Builds RRHF loss inputs for tests from readable row descriptions: ragged
 * log-probs with the query-grouped batch's offsets, as the model's forward
 * and the tokenize layer hand them to the loss.
 */
import { rrhfLoss, rrhfLossWithGrad } from "../../src/rrhf/loss.js";
import type { LogpArray, RrhfLossBatch } from "../../src/rrhf/layout.js";
import type { RrhfLossOptions } from "../../src/rrhf/options.js";

export interface RowSpec {
  /** Query of the row; rows of one query must be contiguous (they become one group). */
  query: number;
  /** Reward r_i. */
  score: number;
  /** Log-probabilities of the response's tokens, in order. */
  logps: number[];
  /** Query tokens before the response (only the padded length depends on it); 1 by default. */
  prefix?: number;
}

export interface BuildOptions {
  /** Padded length; by default the longest row (prefix + response). */
  T?: number;
  /** float32 (as the model produces) or float64 (for exact checks). */
  precision?: "f32" | "f64";
}

/** Ragged log-probs plus the offsets and rewards the loss reads. */
export type TestBatch = RrhfLossBatch & { tokenLogps: LogpArray };

export function makeBatch(rows: RowSpec[], opts: BuildOptions = {}): TestBatch {
  const need = Math.max(0, ...rows.map((r) => (r.prefix ?? 1) + r.logps.length));
  const T = opts.T ?? need;
  if (T < need) throw new Error(`T = ${T} is shorter than the longest row (${need})`);
  const flat = rows.flatMap((r) => r.logps);
  const tokenLogps = opts.precision === "f64" ? Float64Array.from(flat) : Float32Array.from(flat);
  const responseTokenStart = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => {
    responseTokenStart[i + 1] = responseTokenStart[i] + r.logps.length;
  });
  const starts: number[] = [];
  rows.forEach((r, i) => {
    if (i === 0 || r.query !== rows[i - 1].query) starts.push(i);
  });
  starts.push(rows.length);
  return {
    tokenLogps,
    responseTokenStart,
    queryRowStart: Int32Array.from(starts),
    scores: Float64Array.from(rows.map((r) => r.score)),
    paddedLength: T,
  };
}

/** `rrhfLoss` on a test batch. */
export function lossOf(b: TestBatch, options?: RrhfLossOptions): ReturnType<typeof rrhfLoss> {
  return rrhfLoss(b.tokenLogps, b, options);
}

/** `rrhfLossWithGrad` on a test batch. */
export function lossWithGradOf(b: TestBatch, options?: RrhfLossOptions, dLoss?: number): ReturnType<typeof rrhfLossWithGrad> {
  return rrhfLossWithGrad(b.tokenLogps, b, options, dLoss);
}

/** Asserts |actual − expected| <= tol with a readable message. */
export function close(actual: number, expected: number, tol = 1e-12, what = "value"): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: expected ${expected} ± ${tol}, got ${actual}`);
  }
}
