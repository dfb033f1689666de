/**
 * Helpers for the packed-layout tests: a batch with very unequal rows, a
 * forward + backward run that returns log-probs and every parameter
 * gradient, and a tolerance check between two layouts.
 */
import assert from "node:assert/strict";
import type { CausalLM, ForwardOptions, TokenBatch } from "../../src/models/causal-lm.js";

export type Batch = TokenBatch & { rowQuery: Int32Array; attention_mask: Uint8Array };

/**
 * Rows for `queries` = [queryLength, [responseLengths]] (response lengths
 * count the EOS); ids from a fixed LCG, EOS `eos` last; right-padded to the
 * longest row + `extraPad`, plus `paddingRows` all-padding rows (rowQuery -1).
 */
export function unequalBatch(queries: [number, number[]][], V: number, opts: { eos?: number; extraPad?: number; paddingRows?: number } = {}): Batch {
  const eos = opts.eos ?? 0;
  let seed = 2024;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    let id = seed % V;
    if (id === eos) id = (id + 1) % V;
    return id;
  };
  const spec: { q: number; ids: number[]; qlen: number }[] = [];
  queries.forEach(([qlen, resp], q) => {
    const query = Array.from({ length: qlen }, next);
    for (const n of resp) spec.push({ q, qlen, ids: [...query, ...Array.from({ length: n - 1 }, next), eos] });
  });
  const T = Math.max(...spec.map((r) => r.ids.length)) + (opts.extraPad ?? 2);
  const rows = spec.length + (opts.paddingRows ?? 0);
  const input_ids = new Int32Array(rows * T).fill(eos);
  const labels = new Int32Array(rows * T).fill(-100);
  const attention_mask = new Uint8Array(rows * T);
  const rowQuery = new Int32Array(rows).fill(-1);
  spec.forEach((r, i) => {
    rowQuery[i] = r.q;
    r.ids.forEach((id, t) => {
      input_ids[i * T + t] = id;
      attention_mask[i * T + t] = 1;
      if (t >= r.qlen) labels[i * T + t] = id;
    });
  });
  return { rows, seqLen: T, input_ids, labels, attention_mask, rowQuery };
}

/** Log-probs and the gradient of Σ w·logp for fixed pseudo-random weights w (gradients zeroed first). */
export function runLayout(model: CausalLM, batch: TokenBatch, opts: ForwardOptions): { logps: Float32Array; grads: Float32Array } {
  assert.ok(model.grads, "model must be trainable");
  model.grads.data.fill(0);
  const pass = model.forward(batch, opts);
  try {
    const d = Float32Array.from(pass.tokenLogps, (_, i) => ((i * 7919) % 13) / 13 - 0.4);
    pass.backward(d);
    return { logps: Float32Array.from(pass.tokenLogps), grads: Float32Array.from(model.grads.data) };
  } finally {
    pass.release();
  }
}

/** |a - b| <= 1e-5 |b| + 1e-6 max|b| elementwise (float32 sums in another order, nothing more). */
export function assertSameNumbers(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 0;
  for (const x of b) scale = Math.max(scale, Math.abs(x));
  assert.ok(scale > 0, `${what}: all zero, nothing compared`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-6 * scale)) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]} (scale ${scale})`);
  }
}

/** Σ real lengths of the rows that have a scored label: the tokens a packed layout computes. */
export function realTokens(batch: Batch): number {
  const T = batch.seqLen;
  let n = 0;
  for (let r = 0; r < batch.rows; r++) {
    let scored = false;
    let len = 0;
    for (let t = 0; t < T; t++) {
      if (batch.labels[r * T + t] !== -100) scored = true;
      len += batch.attention_mask[r * T + t];
    }
    if (scored) n += len;
  }
  return n;
}
