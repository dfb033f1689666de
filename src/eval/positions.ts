/**
 * Per-token numbers an evaluation needs from a query-grouped batch: the
 * log-probability of every scored token (the model's fused forward, as
 * training computes it) and, for KL, the full next-token distributions of
 * two models at the same scored positions.
 */
import { UserError } from "../errors.js";
import type { CausalLM, ForwardLayout } from "../models/causal-lm.js";
import { queryLength, responseLength, rowLength, rowTokenAt, type QueryBatch } from "../tokenize/batch.js";

/** Sums over the scored tokens of a batch; pooled over batches before dividing. */
export interface TokenSums {
  /** Scored positions (response tokens + EOS; a first token after an empty query has no predictor and is left out). */
  tokens: number;
  /** Σ −log p(token) over those positions. */
  nll: number;
}

/** Number of positions of row i that something predicts (all its tokens, but the first after an empty query). */
export function predictedTokens(batch: QueryBatch, i: number): number {
  const n = responseLength(batch, i);
  return queryLength(batch, batch.rowQuery[i]) === 0 ? Math.max(n - 1, 0) : n;
}

/** The ragged token log-probs of `batch` under `model` (no gradients), as the training forward computes them. */
export function tokenLogProbs(model: CausalLM, batch: QueryBatch, layout: ForwardLayout): Float32Array {
  const pass = model.forward(batch, { grad: false, layout });
  try {
    return Float32Array.from(pass.tokenLogps);
  } finally {
    pass.release();
  }
}

/** Σ NLL and the count of scored tokens of a batch, from its ragged log-probs. */
export function nllSums(batch: QueryBatch, tokenLogps: Float32Array): TokenSums {
  let nll = 0;
  let tokens = 0;
  for (let i = 0; i < batch.rows; i++) {
    const start = batch.responseTokenStart[i];
    const skip = responseLength(batch, i) - predictedTokens(batch, i);
    for (let k = start + skip; k < batch.responseTokenStart[i + 1]; k++) nll -= tokenLogps[k];
    tokens += predictedTokens(batch, i);
  }
  return { tokens, nll };
}

/** log-softmax of `logits[offset .. offset + V)` into `out` (float64: the KL subtracts close numbers). */
function logSoftmaxInto(logits: Float32Array, offset: number, V: number, out: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < V; v++) if (logits[offset + v] > max) max = logits[offset + v];
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[offset + v] - max);
  const lse = max + Math.log(sum);
  for (let v = 0; v < V; v++) out[v] = logits[offset + v] - lse;
}

/** KL(p ‖ q) = Σ_v p_v (log p_v − log q_v) of two log-distributions. */
export function klOfLogDistributions(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0;
  for (let v = 0; v < logP.length; v++) {
    const p = Math.exp(logP[v]);
    if (p > 0) kl += p * (logP[v] - logQ[v]);
  }
  return kl;
}

/**
 * Σ over the scored positions of `batch` of the full-vocabulary
 * KL(policy ‖ ref) of the next-token distributions given the same prefix,
 * and the number of positions. One row at a time through each model's
 * `logits` (memory: one row's T × V logits per model).
 */
export function klSums(policy: CausalLM, ref: CausalLM, batch: QueryBatch): { tokens: number; kl: number } {
  const V = policy.config.vocabSize;
  if (ref.config.vocabSize !== V) {
    throw new UserError(`--ref: KL needs one vocabulary, but the policy has ${V} tokens and the reference ${ref.config.vocabSize}`);
  }
  const logP = new Float64Array(V);
  const logQ = new Float64Array(V);
  let kl = 0;
  let tokens = 0;
  for (let i = 0; i < batch.rows; i++) {
    const predicted = predictedTokens(batch, i);
    if (predicted === 0) continue;
    const T = rowLength(batch, i);
    const input = {
      rows: 1,
      seqLen: T,
      input_ids: Int32Array.from({ length: T }, (_, t) => rowTokenAt(batch, i, t)),
      attention_mask: new Int32Array(T).fill(1),
    };
    const policyLogits = policy.logits(input);
    const refLogits = ref.logits(input);
    // The last `predicted` tokens of the row are scored; position t is predicted from the logits at t - 1.
    for (let t = T - predicted; t < T; t++) {
      logSoftmaxInto(policyLogits, (t - 1) * V, V, logP);
      logSoftmaxInto(refLogits, (t - 1) * V, V, logQ);
      kl += klOfLogDistributions(logP, logQ);
    }
    tokens += predicted;
  }
  return { tokens, kl };
}
