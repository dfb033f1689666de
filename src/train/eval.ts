/**
 * Evaluation during training (`--eval-data`): the training metrics on
 * held-out queries, forward only (no gradients, no update). Batches are
 * visited in file order. Loss parts are means over queries (each batch's
 * mean weighted by its query count); ranking accuracy is pooled over all
 * reward-ordered pairs and the margin over all queries that have one.
 *
 * @example
 * const m = evaluate(model, evalBatches, resolveLossOptions({ rrhf_weight: 1 }));
 * logger.logEval(step, epoch, m);   // eval_loss, eval_ranking_accuracy, ...
 */
import type { CausalLM, ForwardOptions } from "../models/causal-lm.js";
import type { RankingMetrics } from "../rrhf/metrics.js";
import type { RrhfLossOptions } from "../rrhf/options.js";
import type { QueryBatch } from "../tokenize/batch.js";
import type { TrainObjective } from "./settings.js";
import { poolRanking, runMicroBatch } from "./step.js";

/** Evaluation results with the metric names of training lines (the logger adds `eval_`). */
export interface EvalMetrics extends Record<string, number> {
  loss: number;
  rank_loss: number;
  sft_loss: number;
  /** NaN when no pair had different rewards. */
  ranking_accuracy: number;
  /** NaN when no query had different rewards. */
  margin: number;
  /** Queries evaluated. */
  queries: number;
}

/**
 * Metrics of `model` on `batches` (each non-empty). A batch whose
 * log-probs are not finite makes the loss NaN (reported as null), so a
 * diverged model is visible instead of being averaged away.
 */
export function evaluate(
  model: CausalLM,
  batches: Iterable<QueryBatch>,
  lossOptions: RrhfLossOptions,
  forwardOptions: ForwardOptions = {},
  objective: TrainObjective = "rrhf",
): EvalMetrics {
  let queries = 0;
  let loss = 0;
  let rankLoss = 0;
  let sftLoss = 0;
  const rankings: RankingMetrics[] = [];
  for (const batch of batches) {
    const out = runMicroBatch(model, batch, lossOptions, null, forwardOptions, objective);
    if (out === null) {
      loss = rankLoss = sftLoss = Number.NaN;
      continue;
    }
    const q = out.ranking.queries;
    queries += q;
    loss += out.loss * q;
    rankLoss += out.rankLoss * q;
    sftLoss += out.sftLoss * q;
    rankings.push(out.ranking);
  }
  const pooled = poolRanking(rankings);
  const per = (x: number): number => (queries > 0 ? x / queries : Number.NaN);
  return {
    loss: per(loss),
    rank_loss: per(rankLoss),
    sft_loss: per(sftLoss),
    ranking_accuracy: pooled.accuracy ?? Number.NaN,
    margin: pooled.margin ?? Number.NaN,
    queries,
  };
}
