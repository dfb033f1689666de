/**
 * Helpers for the packed-layout tests: a batch with very unequal rows, a
 * forward + backward run that returns log-probs and every parameter
 * gradient, and a tolerance check between two layouts.
 */
import assert from "node:assert/strict";
import type { CausalLM, ForwardOptions } from "../../src/models/causal-lm.js";
import { buildQueryBatch, rowLength, type QueryBatch } from "../../src/tokenize/batch.js";

/**
 * Queries = [queryLength, [responseLengths]] (response lengths count the
 * EOS); ids from a fixed LCG, EOS `eos` last; padded length the longest
 * row + `extraPad` (what the plain layout computes).
 */
export function unequalBatch(queries: [number, number[]][], V: number, opts: { eos?: number; extraPad?: number } = {}): QueryBatch {
  const eos = opts.eos ?? 0;
  let seed = 2024;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    let id = seed % V;
    if (id === eos) id = (id + 1) % V;
    return id;
  };
  const groups = queries.map(([qlen, resp]) => ({
    queryIds: Array.from({ length: qlen }, next),
    responses: resp.map((n, i) => ({ ids: [...Array.from({ length: n - 1 }, next), eos], score: i })),
  }));
  const longest = Math.max(...queries.flatMap(([qlen, resp]) => resp.map((n) => qlen + n)));
  return buildQueryBatch(groups, { padTokenId: eos, paddedLength: longest + (opts.extraPad ?? 2) });
}

/**
 * The batch in official compat mode with the pad id equal to the EOS (0):
 * every EOS is masked out of attention, and token 2 of query 0 becomes the
 * pad id, a hole inside the query its rows share.
 */
export function withHoles(batch: QueryBatch): QueryBatch {
  const queryIds = Int32Array.from(batch.queryIds);
  queryIds[2] = 0;
  return { ...batch, compat: "official", padTokenId: 0, queryIds };
}

/** Log-probs and the gradient of Σ w·logp for fixed pseudo-random weights w (gradients zeroed first). */
export function runLayout(model: CausalLM, batch: QueryBatch, opts: ForwardOptions): { logps: Float32Array; grads: Float32Array } {
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

/** Σ real lengths of the rows that have a response token to score: the tokens a packed layout computes. */
export function realTokens(batch: QueryBatch): number {
  let n = 0;
  for (let r = 0; r < batch.rows; r++) {
    if (batch.responseTokenStart[r + 1] > batch.responseTokenStart[r]) n += rowLength(batch, r);
  }
  return n;
}
