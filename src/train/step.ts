/**
 * One optimizer update of `rrhf train`, as a function of its inputs: the
 * micro-batches of the step go forward, through the RRHF loss and backward
 * (gradients summed in the model's gradient arena, each micro-batch's loss
 * scaled by 1 / micro-batches, as HF does under gradient accumulation), the
 * gradient is clipped, the non-finite guard looks at loss and norm, and the
 * optimizer updates the parameter arena at the schedule's learning rate.
 * The loop (`loop.ts`) and the parity tests call this same function.
 *
 * @example
 * const out = trainStep(ctx, [batchA, batchB], globalStep);   // globalStep: updates done before
 * if (out.applied) logger.logStep(globalStep + 1, epoch, out.metrics);
 * else logger.logSkipped(globalStep + 1, out.reason);
 */
import { poolFor } from "../autodiff/context.js";
import type { Backend } from "../kernels/backend.js";
import type { CausalLM, ForwardOptions } from "../models/causal-lm.js";
import { rrhfLossWithGrad } from "../rrhf/loss.js";
import { rankingMetrics, type RankingMetrics } from "../rrhf/metrics.js";
import type { RrhfLossOptions } from "../rrhf/options.js";
import { NonFiniteLogpError } from "../rrhf/scores.js";
import { rowTokens, type QueryBatch } from "../tokenize/batch.js";
import type { StepMetrics } from "./metrics-log.js";
import type { NonFiniteGuard } from "./nonfinite-guard.js";
import { clipGradNorm } from "./optim/clip.js";
import type { Optimizer } from "./optim/types.js";
import type { LrSchedule } from "./schedule.js";
import type { TrainObjective } from "./settings.js";
import { sftLossWithGrad } from "./sft-loss.js";

/** What stays the same from step to step. */
export interface StepContext {
  /** A trainable model (`grads` not null). */
  model: CausalLM;
  optimizer: Optimizer;
  schedule: LrSchedule;
  guard: NonFiniteGuard;
  lossOptions: RrhfLossOptions;
  /** clip_grad_norm_ max norm; 0 disables clipping. */
  maxGradNorm: number;
  forwardOptions?: ForwardOptions;
  /** What the loss is (default "rrhf"); "sft" ignores `lossOptions`. */
  objective?: TrainObjective;
}

/**
 * Metrics the SFT objective has no value for (no ranking): left out of its
 * log lines and metrics.jsonl.
 *
 * @example
 * new MetricsLogger({ outputDir: "out", totalSteps: 10, loggingSteps: 1, omit: SFT_OMITTED_METRICS });
 */
export const SFT_OMITTED_METRICS: readonly string[] = ["rank_loss", "ranking_accuracy", "margin"];

/** The loss parts and ranking numbers of one batch without an update (training step or evaluation). */
export interface BatchLoss {
  loss: number;
  rankLoss: number;
  sftLoss: number;
  ranking: RankingMetrics;
}

export type StepOutcome =
  | { applied: true; metrics: StepMetrics; ranking: RankingMetrics }
  | { applied: false; reason: string; loss: number; gradNorm: number };

/** Sums ranking counts of several batches (accuracy and margin pooled, as the metrics module defines them). */
export function poolRanking(parts: readonly RankingMetrics[]): RankingMetrics {
  const sum = (k: "queries" | "pairs" | "correctPairs" | "tiedPairs" | "marginSum" | "marginQueries"): number =>
    parts.reduce((a, p) => a + p[k], 0);
  const pairs = sum("pairs");
  const marginQueries = sum("marginQueries");
  return {
    queries: sum("queries"),
    pairs,
    correctPairs: sum("correctPairs"),
    tiedPairs: sum("tiedPairs"),
    accuracy: pairs > 0 ? sum("correctPairs") / pairs : null,
    marginSum: sum("marginSum"),
    marginQueries,
    margin: marginQueries > 0 ? sum("marginSum") / marginQueries : null,
  };
}

/** Ranking counts of a batch that has no ranking (SFT): only its queries count. */
function noRanking(queries: number): RankingMetrics {
  return { queries, pairs: 0, correctPairs: 0, tiedPairs: 0, accuracy: null, marginSum: 0, marginQueries: 0, margin: null };
}

/**
 * Forward (+ backward when `dLoss` is given) of one micro-batch. Returns
 * null when a scored log-prob is NaN/inf (the step is then non-finite).
 */
export function runMicroBatch(
  model: CausalLM,
  batch: QueryBatch,
  lossOptions: RrhfLossOptions,
  dLoss: number | null,
  forwardOptions: ForwardOptions = {},
  objective: TrainObjective = "rrhf",
): BatchLoss | null {
  const pass = model.forward(batch, { ...forwardOptions, grad: dLoss !== null });
  try {
    if (objective === "sft") {
      const out = sftLossWithGrad(pass.tokenLogps, dLoss ?? 1);
      if (out === null) return null;
      if (dLoss !== null) pass.backward(out.dTokenLogps);
      return { loss: out.loss, rankLoss: 0, sftLoss: out.loss, ranking: noRanking(batch.queries) };
    }
    let out: ReturnType<typeof rrhfLossWithGrad>;
    try {
      out = rrhfLossWithGrad(pass.tokenLogps, batch, lossOptions, dLoss ?? 1);
    } catch (err) {
      if (err instanceof NonFiniteLogpError) return null;
      throw err;
    }
    const { result, dTokenLogps } = out;
    if (dLoss !== null) pass.backward(dTokenLogps);
    return {
      loss: result.loss,
      rankLoss: result.rankLoss,
      sftLoss: result.sftLoss,
      ranking: rankingMetrics(result.policyScores, batch.scores, result.queryRowStart),
    };
  } finally {
    pass.release();
  }
}

/**
 * One update from `microBatches` (at least one). `globalStep` is the number
 * of updates done before this one: the learning rate is the schedule's at
 * `globalStep`. `forceNonFinite` makes the step's loss NaN (test hook of the
 * loop, see `TrainHooks.forceNonFinite`). Throws the guard's UserError when too
 * many steps in a row were non-finite.
 */
export function trainStep(ctx: StepContext, microBatches: readonly QueryBatch[], globalStep: number, forceNonFinite = false): StepOutcome {
  const { model } = ctx;
  const grads = model.grads;
  if (grads === null) throw new Error("trainStep: the model was loaded without a gradient arena (trainable: false)");
  if (microBatches.length === 0) throw new Error("trainStep: no micro-batch");
  poolFor(model.backend).beginStep();
  zeroGradients(grads.data, model.backend);
  const n = microBatches.length;
  let loss = 0;
  let rankLoss = 0;
  let sftLoss = 0;
  let numTokens = 0;
  const rankings: RankingMetrics[] = [];
  for (const mb of microBatches) {
    const out = runMicroBatch(model, mb, ctx.lossOptions, 1 / n, ctx.forwardOptions, ctx.objective);
    numTokens += rowTokens(mb);
    if (out === null) {
      loss = Number.NaN;
      break;
    }
    loss += out.loss / n;
    rankLoss += out.rankLoss / n;
    sftLoss += out.sftLoss / n;
    rankings.push(out.ranking);
  }
  if (forceNonFinite) loss = Number.NaN;
  // A NaN loss leaves the gradients half-accumulated: measure but never apply them.
  const gradNorm = Number.isFinite(loss) ? clipGradNorm(grads.data, ctx.maxGradNorm, model.backend) : Number.NaN;
  const stepNumber = globalStep + 1;
  if (!ctx.guard.check(stepNumber, { loss, grad_norm: gradNorm })) {
    zeroGradients(grads.data, model.backend);
    return { applied: false, reason: ctx.guard.lastReason, loss, gradNorm };
  }
  const lr = ctx.schedule.lrAt(globalStep);
  ctx.optimizer.step(model.params.data, grads.data, lr);
  // Where the backend can, the arena's memory goes back until the next backward pass writes it, so the next forward
  // pass's activations reuse it; elsewhere the gradients stay until the next step zeroes them (one pass, not two).
  model.backend.discard?.(grads.data);
  const ranking = poolRanking(rankings);
  return {
    applied: true,
    ranking,
    metrics: {
      loss,
      rank_loss: rankLoss,
      sft_loss: sftLoss,
      ranking_accuracy: ranking.accuracy,
      margin: ranking.margin ?? Number.NaN,
      learning_rate: lr,
      grad_norm: gradNorm,
      num_tokens: numTokens,
    },
  };
}

/** Zeroes the gradient arena: `Backend.discard` where there is one (nearly free on an arena already discarded). */
function zeroGradients(grads: Float32Array, backend: Backend): void {
  if (backend.discard) backend.discard(grads);
  else grads.fill(0);
}
