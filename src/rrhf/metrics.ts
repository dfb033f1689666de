/**
 * What a training run reports about ranking (spec "What a training run
 * reports"), computed from the loss's own numbers; the trainer pools the
 * counts over the steps between two log lines.
 *
 * Definitions:
 * - A pair is two rows of one query with different rewards (pairs with equal
 *   rewards are counted in `tiedPairs` and otherwise ignored, as in the loss).
 * - Ranking accuracy = share of pairs where the policy score agrees strictly
 *   (the better-rewarded row has the larger p). Equal p counts as
 *   disagreement: a policy that scores everything alike has not learnt the order.
 *   Pooled over all pairs of all queries (and steps), not averaged per query.
 * - Margin of a query = p_best − p_worst, best = first row with the largest
 *   reward (the SFT target), worst = first row with the smallest reward.
 *   Queries whose rewards are all equal (or that have one row) have no margin.
 *   The mean margin is over the queries that have one.
 * `accuracy` / `margin` are null when no pair / no query qualifies.
 *
 * @example
 * const out = rrhfLoss(pass.tokenLogps, batch);
 * const m = rankingMetrics(out.policyScores, batch.scores, out.queryRowStart);
 * console.log(m.accuracy, m.margin); // pool m.correctPairs / m.pairs over steps, not the accuracies
 */
import { queryCount } from "./layout.js";

/**
 * Ranking metrics of one batch, with the counts needed to pool them.
 *
 * @example
 * const out = rrhfLoss(tokenLogps, batch);
 * const m: RankingMetrics = rankingMetrics(out.policyScores, batch.scores, out.queryRowStart);
 * console.log(m.accuracy, m.margin, `${m.correctPairs}/${m.pairs}`);
 */
export interface RankingMetrics {
  queries: number;
  /** Pairs of rows of one query with different rewards. */
  pairs: number;
  /** Pairs whose policy scores are strictly in the reward order. */
  correctPairs: number;
  /** Pairs with equal rewards (left out of accuracy and loss). */
  tiedPairs: number;
  /** correctPairs / pairs, or null when there is no pair. */
  accuracy: number | null;
  /** Σ over queries with a margin of p_best − p_worst. */
  marginSum: number;
  /** Queries whose largest reward exceeds their smallest. */
  marginQueries: number;
  /** marginSum / marginQueries, or null when no query has a margin. */
  margin: number | null;
}

/**
 * Ranking accuracy and margin of one batch. `policyScores` and `scores`
 * are [rows]; `queryRowStart` is the batch's [queries + 1] offsets (a
 * query with no row is not counted).
 */
export function rankingMetrics(policyScores: Float64Array, scores: Float64Array, queryRowStart: Int32Array): RankingMetrics {
  const rows = queryRowStart[queryRowStart.length - 1];
  if (policyScores.length !== rows || scores.length !== rows) {
    throw new RangeError(`rankingMetrics: ${policyScores.length} policy scores and ${scores.length} rewards for ${rows} rows`);
  }
  let queries = 0;
  let pairs = 0;
  let correctPairs = 0;
  let tiedPairs = 0;
  let marginSum = 0;
  let marginQueries = 0;
  for (let q = 0; q < queryCount(queryRowStart); q++) {
    const lo = queryRowStart[q];
    const hi = queryRowStart[q + 1];
    if (hi === lo) continue;
    queries++;
    let best = lo;
    let worst = lo;
    for (let i = lo; i < hi; i++) {
      if (scores[i] > scores[best]) best = i;
      if (scores[i] < scores[worst]) worst = i;
      for (let j = i + 1; j < hi; j++) {
        const dr = scores[j] - scores[i];
        if (dr === 0) {
          tiedPairs++;
          continue;
        }
        pairs++;
        const dp = policyScores[j] - policyScores[i];
        if ((dr > 0 && dp > 0) || (dr < 0 && dp < 0)) correctPairs++;
      }
    }
    if (scores[best] > scores[worst]) {
      marginSum += policyScores[best] - policyScores[worst];
      marginQueries++;
    }
  }
  return {
    queries,
    pairs,
    correctPairs,
    tiedPairs,
    accuracy: pairs > 0 ? correctPairs / pairs : null,
    marginSum,
    marginQueries,
    margin: marginQueries > 0 ? marginSum / marginQueries : null,
  };
}
