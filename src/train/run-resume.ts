/**
 * Resuming a run from a checkpoint folder: the weights come from the
 * checkpoint's model files, the optimizer moments, schedule, data position,
 * skipped-step count and log history from its state files. Every setting
 * that would make the continuation differ from the uninterrupted run
 * (optimizer, schedule, seed, data size, model layout) is checked and named
 * when it changed.
 *
 * @example
 * const state = restoreCheckpoint(dir, { model, optimizer, schedule, config, numExamples });
 * // model.params and the optimizer now hold the checkpoint's values
 */
import { UserError } from "../errors.js";
import type { CausalLM } from "../models/causal-lm.js";
import { loadModelFolder } from "../models/hf/folder.js";
import { loadCheckpoint, type LogEntry, type TrainerState } from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import type { Optimizer } from "./optim/types.js";
import { Rng, type RngState } from "./rng.js";
import type { LrSchedule } from "./schedule.js";

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
  t.schedule.assertMatches(ck.schedule);
  const ts = ck.trainerState;
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
  return { dir, trainerState: ts, logHistory: [...ts.log_history] };
}
