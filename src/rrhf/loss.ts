/**
 * The RRHF loss on plain numbers (spec "The loss"), forward and backward.
 *
 * Per query q with rows i (policy scores p_i, rewards r_i):
 *   L_rank(q) = Σ over ordered pairs (i, j) with r_i < r_j of max(0, p_i − p_j)
 *   L_sft(q)  = −mean_t logp[b, t], b = first row with the largest reward
 *   L(q)      = rrhf_weight · L_rank(q) + L_sft(q)
 * Batch loss = mean over queries of L(q). A query with one row has
 * L_rank = 0 and still contributes its SFT term.
 *
 * The loss is piecewise linear in tokenLogps, so its gradient is exact:
 * the subgradient of max(0, d) at d = 0 is taken as 0 (a pair with equal
 * policy scores contributes nothing, as in the official code's `diff < 0`).
 *
 * @example
 * const out = rrhfLoss({ tokenLogps, labelMask, rowQuery, scores }, { length_penalty: 1 });
 * const dTokenLogps = new Float32Array(tokenLogps.length);
 * rrhfLossBackward(dTokenLogps, { tokenLogps, labelMask, rowQuery, scores }, out);
 */
import { UserError } from "../errors.js";
import { checkLayout, queryCount, type LogpArray, type RrhfBatchLayout } from "./layout.js";
import { resolveLossOptions, type ResolvedLossOptions, type RrhfLossOptions } from "./options.js";
import { computePolicyScores, type PolicyScores } from "./scores.js";

/** Everything the forward pass computed; the backward pass reads it back. */
export interface RrhfLossResult extends PolicyScores {
  /** Batch loss: mean over queries of rrhf_weight · L_rank(q) + L_sft(q). */
  loss: number;
  /** Mean over queries of L_rank(q), before rrhf_weight. */
  rankLoss: number;
  /** Mean over queries of L_sft(q). */
  sftLoss: number;
  /** [queries] L_rank(q), unweighted. */
  queryRankLoss: Float64Array;
  /** [queries] L_sft(q). */
  querySftLoss: Float64Array;
  /** [queries] rrhf_weight · L_rank(q) + L_sft(q). */
  queryLoss: Float64Array;
  /** [queries] row index (in the batch) of the SFT target of each query. */
  bestRow: Int32Array;
  /** [queries + 1] first row of each query, then the row count. */
  queryStart: Int32Array;
  /** [rows] ∂L_rank(q)/∂p_i: (# active pairs where i is the worse row) − (# where it is the better one). */
  rankGradCoef: Float64Array;
  rows: number;
  T: number;
  /** The options used, defaults filled in. */
  options: ResolvedLossOptions;
}

/** Forward pass: the batch loss, its parts per query, and the policy scores. */
export function rrhfLoss(batch: RrhfBatchLayout, options: RrhfLossOptions = {}): RrhfLossResult {
  const opts = resolveLossOptions(options);
  const shape = checkLayout(batch);
  const { rows, T, queryStart } = shape;
  const ps = computePolicyScores(batch, shape, opts);
  const p = ps.policyScores;
  const r = batch.scores;
  const nq = queryCount(queryStart);
  const queryRankLoss = new Float64Array(nq);
  const querySftLoss = new Float64Array(nq);
  const queryLoss = new Float64Array(nq);
  const bestRow = new Int32Array(nq);
  const rankGradCoef = new Float64Array(rows);
  let rankSum = 0;
  let sftSum = 0;
  for (let q = 0; q < nq; q++) {
    const lo = queryStart[q];
    const hi = queryStart[q + 1];
    let rank = 0;
    let best = lo;
    for (let i = lo; i < hi; i++) {
      if (r[i] > r[best]) best = i; // strict: the first row wins ties
      for (let j = lo; j < hi; j++) {
        if (!(r[i] < r[j])) continue; // only strictly ordered pairs, i worse than j
        const d = p[i] - p[j];
        if (d > 0) {
          rank += d;
          rankGradCoef[i] += 1;
          rankGradCoef[j] -= 1;
        }
      }
    }
    // Compat: the official code averages the best row over all T positions (masked ones count as 0).
    const sftLength = opts.compat === "official" ? T : ps.scoredTokens[best];
    const sft = -ps.logpSums[best] / sftLength;
    queryRankLoss[q] = rank;
    querySftLoss[q] = sft;
    queryLoss[q] = opts.rrhf_weight * rank + sft;
    bestRow[q] = best;
    rankSum += rank;
    sftSum += sft;
  }
  const rankLoss = rankSum / nq;
  const sftLoss = sftSum / nq;
  const loss = opts.rrhf_weight * rankLoss + sftLoss;
  if (!Number.isFinite(loss)) {
    // Inputs are finite, so only an extreme length_penalty (|y|^λ overflowing or vanishing) gets here.
    throw new UserError(`RRHF loss is ${loss} with length_penalty ${opts.length_penalty}; choose a smaller |length_penalty|`);
  }
  return {
    ...ps,
    loss,
    rankLoss,
    sftLoss,
    queryRankLoss,
    querySftLoss,
    queryLoss,
    bestRow,
    queryStart,
    rankGradCoef,
    rows,
    T,
    options: opts,
  };
}

/**
 * Backward pass: overwrites `dTokenLogps` [rows, T] with dLoss · ∂(batch loss)/∂tokenLogps.
 * Unscored positions get 0. `forward` must be `rrhfLoss`'s result for this same batch.
 * `dLoss` scales the result (e.g. 1 / gradient-accumulation steps).
 */
export function rrhfLossBackward(
  dTokenLogps: LogpArray,
  batch: RrhfBatchLayout,
  forward: RrhfLossResult,
  dLoss = 1,
): void {
  const { rows, T, queryStart, bestRow, rankGradCoef, lengthNorm, scoredTokens, options } = forward;
  if (dTokenLogps.length !== rows * T || batch.labelMask.length !== rows * T) {
    throw new RangeError(`dTokenLogps has ${dTokenLogps.length} entries; the forward pass had [${rows}, ${T}]`);
  }
  const nq = queryCount(queryStart);
  const perQuery = dLoss / nq; // d(batch mean)/d(query loss)
  const rankScale = perQuery * options.rrhf_weight;
  dTokenLogps.fill(0);
  for (let q = 0; q < nq; q++) {
    const b = bestRow[q];
    const sftLength = options.compat === "official" ? T : scoredTokens[b];
    for (let i = queryStart[q]; i < queryStart[q + 1]; i++) {
      // ∂p_i/∂logp[i, t] = 1 / |y_i|^λ on every scored position.
      let g = (rankScale * rankGradCoef[i]) / lengthNorm[i];
      if (i === b) g -= perQuery / sftLength;
      if (g === 0) continue;
      const base = i * T;
      for (let t = 0; t < T; t++) {
        if (batch.labelMask[base + t] !== 0) dTokenLogps[base + t] = g;
      }
    }
  }
}

/** Forward and backward in one call; allocates the float32 gradient. */
export function rrhfLossWithGrad(
  batch: RrhfBatchLayout,
  options: RrhfLossOptions = {},
  dLoss = 1,
): { result: RrhfLossResult; dTokenLogps: Float32Array } {
  const result = rrhfLoss(batch, options);
  const dTokenLogps = new Float32Array(result.rows * result.T);
  rrhfLossBackward(dTokenLogps, batch, result, dLoss);
  return { result, dTokenLogps };
}
