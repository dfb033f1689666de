/**
 * Resuming a run from a checkpoint folder: the weights come from the
 * checkpoint's model files, the optimizer moments, schedule, data position,
 * skipped-step count, log history and not-yet-logged steps from its state
 * files. Every setting that would make the continuation differ from the
 * uninterrupted run (optimizer, schedule shape, seed, batch size, model
 * layout) is checked and named when it changed; the settings in
 * training_args.json are checked before (resume-args.ts). A different total
 * of steps is allowed: the schedule is recomputed, with a warning when that
 * changes the learning rates to come.
 *
 * @example
 * const state = restoreCheckpoint(dir, { model, optimizer, schedule, config });
 * // model.params and the optimizer now hold the checkpoint's values; state.warnings says what changed
 */
import { UserError } from "../errors.js";
import type { CausalLM } from "../models/causal-lm.js";
import { loadModelFolder } from "../models/hf/folder.js";
import { loadCheckpoint, type LogEntry, type TrainerState } from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import type { Optimizer } from "./optim/types.js";
import type { StepMetrics } from "./metrics-log.js";
import { formatMetric } from "./metrics-log.js";
import { Rng, type RngState } from "./rng.js";
import { LrSchedule, type LrScheduleState } from "./schedule.js";

/** Name of the RNG state in rng_state.json: the generator of the current epoch's data order. */
export const DATA_ORDER_RNG = "data_order";

/**
 * The run's randomness: only the data order is random, and each epoch's
 * permutation comes from a generator seeded by (seed, epoch). Storing that
 * generator's start state lets a resume check it was given the same seed.
 */
export function dataOrderRngState(seed: number, epoch: number): Record<string, RngState> {
  return { [DATA_ORDER_RNG]: Rng.fromSeed(seed, epoch).getState() };
}

export interface RestoreTargets {
  model: CausalLM;
  optimizer: Optimizer;
  schedule: LrSchedule;
  config: Pick<TrainConfig, "optim" | "seed" | "per_device_train_batch_size">;
}

export interface RestoredState {
  dir: string;
  trainerState: TrainerState;
  logHistory: LogEntry[];
  /** Metrics of the steps the checkpoint had not logged yet. */
  unloggedSteps: StepMetrics[];
  /** What differs from the checkpoint's run and is allowed (e.g. a recomputed schedule), for stderr. */
  warnings: string[];
}

function sameRng(a: RngState | undefined, b: RngState): boolean {
  return a !== undefined && a.algorithm === b.algorithm && a.s.every((w, i) => w === b.s[i]);
}

/** Loads checkpoint `dir` into the targets (in place) and returns its trainer state. */
export function restoreCheckpoint(dir: string, t: RestoreTargets): RestoredState {
  const ck = loadCheckpoint(dir);
  if (ck.optimizerName !== t.optimizer.name) {
    throw new UserError(`cannot resume from ${dir}: it was trained with --optim ${ck.optimizerName}, this run uses ${t.optimizer.name}`);
  }
  const ts = ck.trainerState;
  assertStepsLeft(dir, ts.global_step, t.schedule.options.totalSteps);
  const scheduleNote = scheduleChangeWarning(dir, ck.schedule, t.schedule, ts.global_step);
  if (ts.train_batch_size !== t.config.per_device_train_batch_size) {
    throw new UserError(
      `cannot resume from ${dir}: per_device_train_batch_size was ${ts.train_batch_size}, now ${t.config.per_device_train_batch_size}`,
    );
  }
  const expected = dataOrderRngState(t.config.seed, ts.data_position.epoch)[DATA_ORDER_RNG];
  if (!sameRng(ck.rng[DATA_ORDER_RNG], expected)) {
    throw new UserError(`cannot resume from ${dir}: its data order was drawn with another --seed (this run: ${t.config.seed})`);
  }
  const saved = loadModelFolder(dir);
  if (!saved.params.sameLayout(t.model.params)) {
    throw new UserError(`cannot resume from ${dir}: its model has other tensors or shapes than --model`);
  }
  t.model.params.data.set(saved.params.data);
  t.optimizer.loadState(ck.optimizerState);
  return {
    dir,
    trainerState: ts,
    logHistory: [...ts.log_history],
    unloggedSteps: ts.unlogged_steps ?? [],
    warnings: scheduleNote === null ? [] : [scheduleNote],
  };
}

/**
 * Compares the schedule a checkpoint was saved with to the one this run
 * computed: the type and peak learning rate must agree; a different total
 * (the run was extended or shortened) is allowed. Returns the warning to
 * print when the learning rates from `step` on differ, else null.
 */
export function scheduleChangeWarning(dir: string, saved: LrScheduleState, now: LrSchedule, step: number): string | null {
  const n = now.options;
  for (const key of ["lr_scheduler_type", "learning_rate"] as const) {
    if (saved[key] !== n[key]) throw new UserError(`cannot resume from ${dir}: its ${key} was ${saved[key]}, now ${n[key]}`);
  }
  const dependsOnTotal = n.lr_scheduler_type === "linear" || n.lr_scheduler_type === "cosine";
  const differs = saved.warmupSteps !== n.warmupSteps || (dependsOnTotal && saved.totalSteps !== n.totalSteps);
  if (!differs) return null;
  const old = new LrSchedule({
    lr_scheduler_type: saved.lr_scheduler_type,
    learning_rate: saved.learning_rate,
    warmupSteps: saved.warmupSteps,
    totalSteps: saved.totalSteps,
  });
  const warmup = saved.warmupSteps !== n.warmupSteps ? `, warmup ${saved.warmupSteps} -> ${n.warmupSteps} steps` : "";
  return (
    `the run now has ${n.totalSteps} steps, the checkpoint's had ${saved.totalSteps}: the ${n.lr_scheduler_type} learning-rate schedule ` +
    `is recomputed for ${n.totalSteps} steps${warmup}; the learning rate of step ${step + 1} is ${formatMetric(now.lrAt(step))} ` +
    `(${formatMetric(old.lrAt(step))} under the checkpoint's schedule)`
  );
}

/** Refuses a total that the checkpoint has already passed. */
export function assertStepsLeft(dir: string, checkpointStep: number, totalSteps: number): void {
  if (checkpointStep > totalSteps) {
    throw new UserError(
      `cannot resume from ${dir}: it is at step ${checkpointStep}, past the run's ${totalSteps} steps (raise --max-steps or --num-train-epochs)`,
    );
  }
}
