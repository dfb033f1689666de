/**
 * What a training run reports about ranking (spec "What a training run
 * reports"), computed from the loss's own numbers, and an accumulator that
 * averages them over the steps between two log lines.
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
 * const acc = new RrhfMetricsAccumulator();
 * acc.add(out, rankingMetrics(out.policyScores, batch.scores, out.queryRowStart));
 * console.log(acc.summary()); // { loss: …, "loss/rank": …, "ranking/accuracy": … }
 */
import { queryCount } from "./layout.js";

/** Ranking metrics of one batch, with the counts needed to pool them. */
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

/** The loss parts a log line needs (an `RrhfLossResult` has them). */
export interface LossParts {
  loss: number;
  rankLoss: number;
  sftLoss: number;
}

/** One log record, TRL-style slash keys. */
export interface RrhfLogRecord {
  /** Mean over steps of the batch loss. */
  loss: number;
  /** Mean over steps of the ranking loss (before rrhf_weight). */
  "loss/rank": number;
  /** Mean over steps of the SFT loss. */
  "loss/sft": number;
  /** Pooled over the steps' pairs; null when there was none. */
  "ranking/accuracy": number | null;
  /** Pooled over the steps' queries with a margin; null when there was none. */
  "ranking/margin": number | null;
  /** Reward-ordered pairs seen. */
  "ranking/pairs": number;
  /** Steps averaged into this record. */
  steps: number;
}

/** Averages loss parts and ranking metrics over the steps between two log lines. */
export class RrhfMetricsAccumulator {
  private steps = 0;
  private lossSum = 0;
  private rankSum = 0;
  private sftSum = 0;
  private pairs = 0;
  private correctPairs = 0;
  private marginSum = 0;
  private marginQueries = 0;

  /** Adds one step. */
  add(loss: LossParts, ranking: RankingMetrics): void {
    this.steps++;
    this.lossSum += loss.loss;
    this.rankSum += loss.rankLoss;
    this.sftSum += loss.sftLoss;
    this.pairs += ranking.pairs;
    this.correctPairs += ranking.correctPairs;
    this.marginSum += ranking.marginSum;
    this.marginQueries += ranking.marginQueries;
  }

  /** Steps added since the last reset. */
  get count(): number {
    return this.steps;
  }

  /** The averaged record, or null when no step was added. */
  summary(): RrhfLogRecord | null {
    if (this.steps === 0) return null;
    return {
      loss: this.lossSum / this.steps,
      "loss/rank": this.rankSum / this.steps,
      "loss/sft": this.sftSum / this.steps,
      "ranking/accuracy": this.pairs > 0 ? this.correctPairs / this.pairs : null,
      "ranking/margin": this.marginQueries > 0 ? this.marginSum / this.marginQueries : null,
      "ranking/pairs": this.pairs,
      steps: this.steps,
    };
  }

  /** Starts a new logging window. */
  reset(): void {
    this.steps = 0;
    this.lossSum = 0;
    this.rankSum = 0;
    this.sftSum = 0;
    this.pairs = 0;
    this.correctPairs = 0;
    this.marginSum = 0;
    this.marginQueries = 0;
  }
}
