/**
 * The RRHF loss on plain numbers (spec "The loss"), forward and backward.
 *
 * Per query q with rows i (policy scores p_i, rewards r_i):
 *   L_rank(q) = Σ over ordered pairs (i, j) with r_i < r_j of max(0, p_i − p_j)
 *   L_sft(q)  = −mean_t logp[b, t], b = first row with the largest reward
 *   L(q)      = rrhf_weight · L_rank(q) + L_sft(q)
 * Batch loss = mean over queries (that have a row) of L(q). A query with one row has
 * L_rank = 0 and still contributes its SFT term.
 *
 * The loss is piecewise linear in tokenLogps, so its gradient is exact:
 * the subgradient of max(0, d) at d = 0 is taken as 0 (a pair with equal
 * policy scores contributes nothing, as in the official code's `diff < 0`).
 *
 * Inputs (see layout.ts): the ragged per-response log-probs the model's
 * forward returns, and the query-grouped batch's offsets and rewards.
 *
 * @example
 * const pass = model.forward(batch);                 // batch: a QueryBatch
 * const out = rrhfLoss(pass.tokenLogps, batch, { length_penalty: 1 });
 * const dTokenLogps = new Float32Array(pass.tokenLogps.length);
 * rrhfLossBackward(dTokenLogps, batch, out);
 * pass.backward(dTokenLogps);
 */
import { UserError } from "../errors.js";
import { checkLossBatch, queryCount, type LogpArray, type RrhfLossBatch } from "./layout.js";
import { resolveLossOptions, type ResolvedLossOptions, type RrhfLossOptions } from "./options.js";
import { computePolicyScores, type PolicyScores } from "./scores.js";

/**
 * Everything the forward pass computed; the backward pass reads it back.
 *
 * @example
 * const out: RrhfLossResult = rrhfLoss(tokenLogps, batch, { rrhf_weight: 1 });
 * console.log(out.loss, out.rankLoss, out.sftLoss, out.queryLoss); // batch and per-query losses
 * const d = new Float32Array(tokenLogps.length);
 * rrhfLossBackward(d, batch, out); // the backward reads the result back
 */
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
  /** [queries] row index (in the batch) of the SFT target of each query; -1 for a query with no row. */
  bestRow: Int32Array;
  /** [queries + 1] the batch's queryRowStart: query q owns rows queryRowStart[q] .. queryRowStart[q+1]-1. */
  queryRowStart: Int32Array;
  /** [rows] ∂L_rank(q)/∂p_i: (# active pairs where i is the worse row) − (# where it is the better one). */
  rankGradCoef: Float64Array;
  rows: number;
  /** Σ|y_i|: the length of tokenLogps and of its gradient. */
  tokens: number;
  /** The options used, defaults filled in. */
  options: ResolvedLossOptions;
}

/** Queries that have at least one row: the batch loss is their mean. */
function rankedQueries(queryRowStart: Int32Array): number {
  let n = 0;
  for (let q = 0; q < queryCount(queryRowStart); q++) if (queryRowStart[q + 1] > queryRowStart[q]) n++;
  return n;
}

/** Forward pass: the batch loss, its parts per query, and the policy scores. */
export function rrhfLoss(tokenLogps: LogpArray, batch: RrhfLossBatch, options: RrhfLossOptions = {}): RrhfLossResult {
  const opts = resolveLossOptions(options);
  const rows = checkLossBatch(tokenLogps, batch);
  const { queryRowStart } = batch;
  const T = batch.paddedLength;
  const ranked = rankedQueries(queryRowStart);
  const ps = computePolicyScores(tokenLogps, batch, opts);
  const p = ps.policyScores;
  const r = batch.scores;
  const nq = queryCount(queryRowStart);
  const queryRankLoss = new Float64Array(nq);
  const querySftLoss = new Float64Array(nq);
  const queryLoss = new Float64Array(nq);
  const bestRow = new Int32Array(nq);
  const rankGradCoef = new Float64Array(rows);
  let rankSum = 0;
  let sftSum = 0;
  for (let q = 0; q < nq; q++) {
    const lo = queryRowStart[q];
    const hi = queryRowStart[q + 1];
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
    if (hi === lo) {
      bestRow[q] = -1; // a query left with no row takes no part (nor counts in the mean)
      continue;
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
  const rankLoss = rankSum / ranked;
  const sftLoss = sftSum / ranked;
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
    queryRowStart,
    rankGradCoef,
    rows,
    tokens: tokenLogps.length,
    options: opts,
  };
}

/**
 * Backward pass: overwrites `dTokenLogps` (ragged, as tokenLogps) with
 * dLoss · ∂(batch loss)/∂tokenLogps. `forward` must be `rrhfLoss`'s result
 * for this same batch. `dLoss` scales the result (e.g. 1 / gradient-accumulation steps).
 */
export function rrhfLossBackward(dTokenLogps: LogpArray, batch: RrhfLossBatch, forward: RrhfLossResult, dLoss = 1): void {
  const { tokens, queryRowStart, bestRow, rankGradCoef, lengthNorm, scoredTokens, options } = forward;
  if (dTokenLogps.length !== tokens || batch.responseTokenStart[batch.responseTokenStart.length - 1] !== tokens) {
    throw new RangeError(`dTokenLogps has ${dTokenLogps.length} entries; the forward pass had ${tokens}`);
  }
  const starts = batch.responseTokenStart;
  const nq = queryCount(queryRowStart);
  const perQuery = dLoss / rankedQueries(queryRowStart); // d(batch mean)/d(query loss)
  const rankScale = perQuery * options.rrhf_weight;
  dTokenLogps.fill(0);
  for (let q = 0; q < nq; q++) {
    if (queryRowStart[q + 1] === queryRowStart[q]) continue;
    const b = bestRow[q];
    const sftLength = options.compat === "official" ? batch.paddedLength : scoredTokens[b];
    for (let i = queryRowStart[q]; i < queryRowStart[q + 1]; i++) {
      // ∂p_i/∂logp[i, t] = 1 / |y_i|^λ on every scored token.
      let g = (rankScale * rankGradCoef[i]) / lengthNorm[i];
      if (i === b) g -= perQuery / sftLength;
      if (g !== 0) dTokenLogps.fill(g, starts[i], starts[i + 1]);
    }
  }
}

/**
 * Forward and backward in one call; allocates the float32 gradient (ragged, as tokenLogps).
 *
 * @example
 * const { result, dTokenLogps } = rrhfLossWithGrad(pass.tokenLogps, batch);
 * pass.backward(dTokenLogps); // result.loss is the batch loss
 */
export function rrhfLossWithGrad(
  tokenLogps: LogpArray,
  batch: RrhfLossBatch,
  options: RrhfLossOptions = {},
  dLoss = 1,
): { result: RrhfLossResult; dTokenLogps: Float32Array } {
  const result = rrhfLoss(tokenLogps, batch, options);
  const dTokenLogps = new Float32Array(result.tokens);
  rrhfLossBackward(dTokenLogps, batch, result, dLoss);
  return { result, dTokenLogps };
}
