/**
 * Writing and reading `checkpoint-N/` folders, atomically.
 *
 * Layout (HF-like names, our formats):
 *   <model files>             written by the caller's `writeModel` (HF-loadable)
 *   optimizer.safetensors     optimiser moment arenas; scalars in __metadata__
 *   scheduler.json            the LR schedule and the next step
 *   rng_state.json            named RNG states
 *   training_args.json        the resolved TrainConfig (optional)
 *   trainer_state.json        step, epoch, data position, log history, and a
 *                             manifest of every file with its size; written
 *                             LAST, so it marks the folder complete
 *
 * Everything goes into `.checkpoint-N.tmp-<pid>` beside the target, is
 * fsynced, and the folder is renamed to `checkpoint-N` only when whole. A
 * crash mid-save leaves only the hidden temp folder, which loading ignores
 * and `removeStaleCheckpointTemps` deletes.
 *
 * @example
 * await saveCheckpoint({
 *   outputDir: "out", writeModel: (dir) => saveModel(dir), params: store.params,
 *   optimizerName: opt.name, optimizerState: opt.state(), schedule: schedule.state(step),
 *   rng: { data: rng.getState() }, trainerState, trainingArgs: config,
 * });
 * const ck = loadCheckpoint(resolveResumeCheckpoint("out", "latest"));
 */
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { UserError, userErrorFromFs } from "../errors.js";
import type { WriteBytes } from "../io/atomic.js";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "../io/safetensors.js";
import { fileManifest, fsyncPath, fsyncTree, manifestProblems, writeJsonDurable } from "./checkpoint-fs.js";
import type { DataPosition } from "./data-order.js";
import type { LogEntry, StepMetrics } from "./metrics-log.js";
import type { OptimizerState } from "./optim/types.js";
import type { RngState } from "./rng.js";
import type { LrScheduleState } from "./schedule.js";

export const CHECKPOINT_FORMAT_VERSION = 1;
export const TRAINER_STATE_FILE = "trainer_state.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const SCHEDULER_FILE = "scheduler.json";
export const RNG_FILE = "rng_state.json";
export const TRAINING_ARGS_FILE = "training_args.json";

export type { LogEntry } from "./metrics-log.js";

/** trainer_state.json, with Hugging Face's field names where they exist. */
export interface TrainerState {
  global_step: number;
  /** Fractional epochs completed (HF logs e.g. 1.25). */
  epoch: number;
  max_steps: number;
  num_train_epochs: number;
  logging_steps: number;
  save_steps: number;
  eval_steps: number | null;
  train_batch_size: number;
  num_input_tokens_seen: number;
  /** Where the next batch comes from. */
  data_position: DataPosition;
  skipped_nonfinite_steps: number;
  log_history: LogEntry[];
  /**
   * Metrics of the applied steps since the last log line, so a run resumed
   * here logs the same averages as an uninterrupted one (JSON writes NaN as
   * null). Absent in checkpoints of older versions.
   */
  unlogged_steps?: StepMetrics[];
}

interface TrainerStateOnDisk extends TrainerState {
  rrhf_checkpoint: { format_version: number; optimizer: string; files: Record<string, number> };
}

export interface CheckpointSave {
  outputDir: string;
  /** Writes the model's files (HF layout) into the folder it is given. */
  writeModel: (dir: string) => void | Promise<void>;
  optimizerName: string;
  optimizerState: OptimizerState;
  schedule: LrScheduleState;
  rng: Record<string, RngState>;
  trainerState: TrainerState;
  /** The resolved run configuration, stored as training_args.json. */
  trainingArgs?: unknown;
  /** The parameter arena; a checkpoint is refused when any value is NaN/inf. */
  params?: Float32Array;
  /**
   * Called half-way through the save (model and optimizer files written, the
   * rest not), with the temp folder: lets a test kill the process mid-save.
   */
  onPartlyWritten?: (tempDir: string) => void | Promise<void>;
  /** Byte writer for the optimizer and JSON files (tests inject a failing one to simulate a full disk). */
  writeBytes?: WriteBytes;
}

export interface LoadedCheckpoint {
  dir: string;
  trainerState: TrainerState;
  optimizerName: string;
  optimizerState: OptimizerState;
  schedule: LrScheduleState;
  rng: Record<string, RngState>;
  trainingArgs: unknown;
}

export function checkpointName(step: number): string {
  return `checkpoint-${step}`;
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

function assertSavable(save: CheckpointSave): void {
  const step = save.trainerState.global_step;
  if (!Number.isInteger(step) || step < 0) throw new Error(`checkpoint: bad global_step ${step}`);
  if (save.params) {
    const i = firstNonFinite(save.params);
    if (i >= 0)
      throw new UserError(
        `refusing to save ${checkpointName(step)}: parameter ${i} is ${save.params[i]} (NaN/inf weights are never saved)`,
      );
  }
  for (const [key, v] of Object.entries(save.optimizerState)) {
    const bad = v instanceof Float32Array ? firstNonFinite(v) >= 0 : !Number.isFinite(v);
    if (bad) throw new UserError(`refusing to save ${checkpointName(step)}: optimizer state "${key}" holds NaN/inf`);
  }
}

function writeOptimizer(file: string, name: string, state: OptimizerState, writeBytes?: WriteBytes): void {
  const tensors = [];
  const scalars: Record<string, number> = {};
  for (const [key, v] of Object.entries(state)) {
    if (v instanceof Float32Array) tensors.push({ name: key, shape: [v.length], data: v });
    else scalars[key] = v;
  }
  // JSON numbers round-trip doubles exactly, so scalars survive bit-identically.
  writeSafetensors(file, tensors, { format: "rrhf-optimizer", optimizer: name, scalars: JSON.stringify(scalars) }, writeBytes);
}

function readOptimizer(file: string): { name: string; state: OptimizerState } {
  const meta = readSafetensorsHeader(file).metadata;
  if (meta?.format !== "rrhf-optimizer" || typeof meta.optimizer !== "string") {
    throw new UserError(`${file}: not an rrhf optimizer state (metadata ${JSON.stringify(meta)})`);
  }
  const state: OptimizerState = {};
  let scalars: unknown;
  try {
    scalars = JSON.parse(meta.scalars ?? "{}");
  } catch (err) {
    throw new UserError(`${file}: __metadata__.scalars is not valid JSON (${(err as Error).message})`);
  }
  if (scalars === null || typeof scalars !== "object" || Array.isArray(scalars)) {
    throw new UserError(`${file}: __metadata__.scalars must be a JSON object of numbers`);
  }
  for (const [k, v] of Object.entries(scalars)) {
    if (typeof v !== "number") throw new UserError(`${file}: scalar "${k}" is not a number`);
    state[k] = v;
  }
  for (const [k, t] of readSafetensors(file)) state[k] = t.data;
  return { name: meta.optimizer, state };
}

/**
 * Saves `checkpoint-<global_step>` into `outputDir` atomically and returns
 * its path. An existing folder of the same step is replaced (the new one is
 * complete before the old one goes). A write that fails (a full disk) removes
 * the temp folder, leaves every earlier checkpoint as it was, and is reported
 * as a UserError naming the checkpoint.
 */
export async function saveCheckpoint(save: CheckpointSave): Promise<string> {
  assertSavable(save);
  const step = save.trainerState.global_step;
  const finalDir = join(save.outputDir, checkpointName(step));
  const tmpDir = join(save.outputDir, `.${checkpointName(step)}.tmp-${process.pid}`);
  mkdirSync(save.outputDir, { recursive: true });
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir);
  const w = save.writeBytes;
  try {
    await save.writeModel(tmpDir);
    writeOptimizer(join(tmpDir, OPTIMIZER_FILE), save.optimizerName, save.optimizerState, w);
    await save.onPartlyWritten?.(tmpDir);
    writeJsonDurable(join(tmpDir, SCHEDULER_FILE), save.schedule, w);
    writeJsonDurable(join(tmpDir, RNG_FILE), save.rng, w);
    if (save.trainingArgs !== undefined) writeJsonDurable(join(tmpDir, TRAINING_ARGS_FILE), save.trainingArgs, w);
    const files = fileManifest(tmpDir);
    fsyncTree(tmpDir, files);
    const onDisk: TrainerStateOnDisk = {
      ...save.trainerState,
      rrhf_checkpoint: { format_version: CHECKPOINT_FORMAT_VERSION, optimizer: save.optimizerName, files },
    };
    writeJsonDurable(join(tmpDir, TRAINER_STATE_FILE), onDisk, w);
    fsyncPath(tmpDir);
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    // A failed write(2) carries no path: name the checkpoint being saved.
    throw userErrorFromFs(err, `${finalDir} (not saved)`) ?? err;
  }
  // rename() cannot replace a non-empty folder: move the old one aside first.
  const aside = join(save.outputDir, `.${checkpointName(step)}.deleting-${process.pid}`);
  let replaced = false;
  try {
    renameSync(finalDir, aside);
    replaced = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  renameSync(tmpDir, finalDir);
  fsyncPath(save.outputDir);
  if (replaced) rmSync(aside, { recursive: true, force: true });
  return finalDir;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UserError(`${file}: missing (incomplete checkpoint?)`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`${file}: invalid JSON (${(err as Error).message})`);
  }
}

/** Why `dir` is not a complete checkpoint, or null when it is. */
export function checkpointProblem(dir: string): string | null {
  let state: Partial<TrainerStateOnDisk>;
  try {
    state = readJson(join(dir, TRAINER_STATE_FILE)) as Partial<TrainerStateOnDisk>;
  } catch (err) {
    return (err as Error).message;
  }
  const meta = state?.rrhf_checkpoint;
  if (!meta || typeof meta.files !== "object" || meta.files === null) return `${dir}: ${TRAINER_STATE_FILE} has no file manifest`;
  if (meta.format_version !== CHECKPOINT_FORMAT_VERSION) {
    return `${dir}: checkpoint format ${String(meta.format_version)}, this version reads ${CHECKPOINT_FORMAT_VERSION}`;
  }
  const problems = manifestProblems(dir, meta.files);
  return problems.length > 0 ? `${dir}: damaged checkpoint: ${problems.join(", ")}` : null;
}

export function isCompleteCheckpoint(dir: string): boolean {
  return checkpointProblem(dir) === null;
}

/** Reads everything but the model (which the caller loads from `dir` with the model loader). */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const problem = checkpointProblem(dir);
  if (problem !== null) throw new UserError(`cannot resume: ${problem}`);
  const { rrhf_checkpoint: meta, ...trainerState } = readJson(join(dir, TRAINER_STATE_FILE)) as TrainerStateOnDisk;
  const pos = trainerState.data_position;
  const wellFormed =
    Number.isInteger(trainerState.global_step) &&
    typeof pos === "object" &&
    pos !== null &&
    Number.isInteger(pos.epoch) &&
    Number.isInteger(pos.batch_in_epoch) &&
    Array.isArray(trainerState.log_history);
  if (!wellFormed) throw new UserError(`${join(dir, TRAINER_STATE_FILE)}: global_step, data_position or log_history is malformed`);
  const opt = readOptimizer(join(dir, OPTIMIZER_FILE));
  if (opt.name !== meta.optimizer) throw new UserError(`${dir}: optimizer "${opt.name}" does not match trainer state "${meta.optimizer}"`);
  return {
    dir,
    trainerState,
    optimizerName: opt.name,
    optimizerState: opt.state,
    schedule: readJson(join(dir, SCHEDULER_FILE)) as LrScheduleState,
    rng: readJson(join(dir, RNG_FILE)) as Record<string, RngState>,
    trainingArgs: TRAINING_ARGS_FILE in meta.files ? readJson(join(dir, TRAINING_ARGS_FILE)) : undefined,
  };
}
