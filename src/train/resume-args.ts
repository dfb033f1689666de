/**
 * Resuming like Hugging Face: a checkpoint keeps the run's resolved settings
 * in `training_args.json` (snake_case, the same keys as a `--config` file),
 * and `--resume-from-checkpoint` reuses them unless the config file or a flag
 * gives another value. Precedence: defaults < the checkpoint's args <
 * `--config` file < flags.
 *
 * Not every setting may change on resume. Those that decide what the next
 * updates compute (model, data, seed, optimiser and its hyper-parameters,
 * batch shape, tokenisation, loss, schedule shape) are fixed: a different
 * value is refused, naming the setting, because the run would silently stop
 * being the continuation of the one that saved the checkpoint. The length of
 * the run (`max_steps`, `num_train_epochs`) may change: a schedule that
 * depends on the total is then recomputed for the new total, with a warning.
 * Reporting, checkpointing, guards and how the same maths is computed
 * (backend, layout, gradient checkpointing) may change freely.
 *
 * @example
 * const layer = checkpointArgsSource({ output_dir: "out", resume_from_checkpoint: "latest" });
 * // { file: "out/checkpoint-4/training_args.json", text: "{...}" } or null
 * assertResumableArgs("out/checkpoint-4", config); // throws a UserError naming a fixed setting that changed
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { TRAINING_ARGS_FILE } from "./checkpoint.js";
import { resolveResumeCheckpoint } from "./checkpoint-dir.js";
import type { TrainConfig, TrainConfigInput, TrainFieldName } from "./settings.js";

/** Settings of one invocation, never taken from a checkpoint. */
const PER_INVOCATION: readonly TrainFieldName[] = ["resume_from_checkpoint", "overwrite_output_dir"];

/** Settings a resumed run cannot change, and why (the `why` ends the refusal message). */
export const RESUME_FIXED_SETTINGS: Readonly<Partial<Record<TrainFieldName, string>>> = Object.freeze({
  objective: "it decides the loss and the records trained on",
  model: "the model folder gives the architecture and tokenizer the checkpoint's weights belong to",
  data: "the saved data position counts batches of this data",
  seed: "the data order of every epoch is drawn from it",
  optim: "the saved optimizer state belongs to it",
  learning_rate: "it scales every later update",
  lr_scheduler_type: "it shapes every later learning rate",
  warmup_steps: "it shapes the learning-rate schedule",
  warmup_ratio: "it shapes the learning-rate schedule",
  weight_decay: "it is part of every later update",
  adam_beta1: "the saved moments were averaged with it",
  adam_beta2: "the saved moments were averaged with it",
  adam_epsilon: "it is part of every later update",
  max_grad_norm: "it clips every later update",
  per_device_train_batch_size: "the saved data position counts batches of this size",
  gradient_accumulation_steps: "it decides what one step is",
  model_max_length: "it decides the tokens trained on",
  chat_template: "it decides the tokens trained on",
  only_use_provide: "it decides the responses trained on",
  only_use_sample: "it decides the responses trained on",
  compat: "it decides the loss",
  rrhf_weight: "it decides the loss",
  length_penalty: "it decides the loss",
});

/** Paths compare resolved, so `models/m` and `./models/m` are the same setting. */
const PATH_SETTINGS: ReadonlySet<TrainFieldName> = new Set(["model", "data"]);

function sameSetting(field: TrainFieldName, a: unknown, b: unknown): boolean {
  if (PATH_SETTINGS.has(field) && typeof a === "string" && typeof b === "string") return resolve(a) === resolve(b);
  return a === b;
}

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * The `training_args.json` of the checkpoint that `given` (the config file
 * merged with the flags, not yet validated) resumes from, or null when it
 * resumes from none or the checkpoint has no such file (older versions).
 */
export function checkpointArgsSource(given: TrainConfigInput): { file: string; text: string } | null {
  const value = given.resume_from_checkpoint;
  if (typeof value !== "string" || value === "") return null;
  const out = typeof given.output_dir === "string" ? given.output_dir : null;
  if (value === "latest" && out === null) {
    throw new UserError("--resume-from-checkpoint latest looks in the output folder: give --out (or output_dir in the config file)");
  }
  const file = join(resolveResumeCheckpoint(out ?? ".", value), TRAINING_ARGS_FILE);
  return existsSync(file) ? { file, text: readFileSync(file, "utf8") } : null;
}

/**
 * The layer a checkpoint's parsed training args add under the config file and
 * flags (`given`): all but the settings of the invocation that wrote them.
 * When `given` sets num_train_epochs but not max_steps, the checkpoint's
 * max_steps is left out too: max_steps would win and the new length be ignored.
 */
export function reusableCheckpointArgs(args: TrainConfigInput, given: TrainConfigInput): TrainConfigInput {
  const out: TrainConfigInput = { ...args };
  for (const field of PER_INVOCATION) delete out[field];
  if (given.num_train_epochs !== undefined && given.max_steps === undefined) delete out.max_steps;
  return out;
}

/**
 * Refuses a resume whose fixed settings (RESUME_FIXED_SETTINGS) differ from
 * those in checkpoint `dir`'s training_args.json. A checkpoint without that
 * file is checked only by what its other files record (see run-resume.ts).
 */
export function assertResumableArgs(dir: string, config: TrainConfig): void {
  const file = join(dir, TRAINING_ARGS_FILE);
  if (!existsSync(file)) return;
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${file}: invalid JSON (${(err as Error).message})`);
  }
  const changed = (Object.keys(RESUME_FIXED_SETTINGS) as TrainFieldName[]).filter(
    (f) => f in saved && !sameSetting(f, saved[f], config[f]),
  );
  if (changed.length === 0) return;
  const lines = changed.map((f) => `  ${f}: checkpoint ${show(saved[f])}, now ${show(config[f])} (${RESUME_FIXED_SETTINGS[f]})`);
  throw new UserError(
    `cannot resume from ${dir}: ${changed.length === 1 ? "a setting" : "settings"} fixed for a run changed:\n${lines.join("\n")}\n` +
      `leave ${changed.length === 1 ? "it" : "them"} out to reuse the checkpoint's, or start a new run from its weights with --model ${dir}`,
  );
}
