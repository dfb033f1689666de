/**
 * The `rrhf train` settings, one table per section, with Hugging Face
 * TrainingArguments names and defaults where a counterpart exists
 * (DEVIATIONS lists the few that differ, and why). A run's settings are the
 * union of these tables and the tokenisation, RRHF and model tables
 * (`TRAIN_SETTINGS` in config.ts); config files stay flat, as HF's.
 */
import { DATA_SETTINGS, type DataReadSettings } from "../data/settings.js";
import { MODEL_SETTINGS, SAVE_SETTINGS, type ModelSettings, type SaveSettings } from "../models/settings.js";
import { RRHF_SETTINGS, type RrhfSettings } from "../rrhf/settings.js";
import { rules, setting, type SettingsOf } from "../settings/index.js";
import { TOKENIZE_SETTINGS, type TokenizeSettings } from "../tokenize/settings.js";
import { OPTIMIZER_NAMES } from "./optim/types.js";
import { LR_SCHEDULER_TYPES } from "./schedule.js";

/**
 * What a run optimises: the RRHF loss on ranked responses (`rrhf train`), or
 * supervised fine-tuning, the mean token negative log-likelihood of
 * `{query, response}` or `{text}` records (`rrhf sft`).
 *
 * @example
 * for (const objective of TRAIN_OBJECTIVES) console.log(objective); // "rrhf", "sft"
 */
export const TRAIN_OBJECTIVES = ["rrhf", "sft"] as const;

/**
 * One of {@link TRAIN_OBJECTIVES}.
 *
 * @example
 * const objective: TrainObjective = "sft";
 * const config = resolveTrainConfig({ overrides: { objective, model: "m", data: "sft.jsonl", output_dir: "out" } });
 */
export type TrainObjective = (typeof TRAIN_OBJECTIVES)[number];

/** What is trained on what, and where it goes. */
export const RUN_PATH_SETTINGS = {
  objective: setting({
    rule: rules.choice(TRAIN_OBJECTIVES),
    default: "rrhf",
    metavar: "name",
    help:
      "rrhf: the RRHF loss on {query, responses, scores} records; sft: supervised fine-tuning (mean token NLL) " +
      "on {query, response} or {text} records, as `rrhf sft`.",
  }),
  model: setting({
    rule: rules.string(),
    metavar: "dir",
    help: "Hugging Face model folder to start from (config.json, safetensors weights, tokenizer).",
  }),
  data: setting({
    rule: rules.string(),
    metavar: "file",
    help: "Training data (JSONL, .jsonl.gz or Parquet): {query, responses, scores} records for RRHF; {query, response} or {text} for sft.",
  }),
  output_dir: setting({
    rule: rules.string(),
    flag: "--out",
    metavar: "dir",
    help: "Folder for checkpoints, metrics.jsonl and the final model.",
  }),
  overwrite_output_dir: setting({
    rule: rules.boolean(),
    default: false,
    help: "Start a new run in an output folder that holds checkpoints of an earlier run, deleting those checkpoints first.",
  }),
  eval_data: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "file",
    help: "Held-out data (same formats), evaluated every eval_steps.",
  }),
  resume_from_checkpoint: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "dir|latest",
    help: 'Continue a run from a checkpoint folder, or "latest" for the newest complete one in the output folder.',
  }),
} as const;

const positiveInt = rules.int({ min: 1 });
const nonNegativeInt = rules.int({ min: 0 });

/** How the weights are updated: steps, batches, optimiser, schedule. */
export const OPTIMIZATION_SETTINGS = {
  learning_rate: setting({ rule: rules.number({ gt: 0 }), default: 2e-5, metavar: "lr", help: "Peak learning rate (after warmup)." }),
  num_train_epochs: setting({
    rule: rules.number({ gt: 0 }),
    default: 3,
    metavar: "n",
    help: "Passes over the training data (may be fractional); ignored when max_steps is set.",
  }),
  max_steps: setting({
    rule: rules.int({ min: -1 }, { except: [0], text: "must be -1 (use num_train_epochs) or an integer >= 1" }),
    default: -1,
    metavar: "n",
    help: "Total optimizer updates; -1 derives them from num_train_epochs.",
  }),
  per_device_train_batch_size: setting({
    rule: positiveInt,
    default: 1,
    metavar: "n",
    help: "Queries per micro-batch; each query brings all its responses.",
  }),
  per_device_eval_batch_size: setting({ rule: positiveInt, default: 1, metavar: "n", help: "Queries per evaluation batch." }),
  gradient_accumulation_steps: setting({
    rule: positiveInt,
    default: 1,
    metavar: "n",
    help: "Micro-batches whose gradients are summed into one update.",
  }),
  lr_scheduler_type: setting({
    rule: rules.choice(LR_SCHEDULER_TYPES),
    default: "linear",
    metavar: "type",
    help: "Learning-rate decay after warmup (HF formulas). Unlike HF, constant with a warmup warms up (= constant_with_warmup).",
  }),
  warmup_ratio: setting({
    rule: rules.number({ min: 0, max: 1 }),
    default: 0,
    metavar: "r",
    help: "Warmup as a share of total steps: ceil(ratio * steps); used when warmup_steps is 0.",
  }),
  warmup_steps: setting({
    rule: nonNegativeInt,
    default: 0,
    metavar: "n",
    help: "Linear warmup steps from 0 to the learning rate; wins over warmup_ratio.",
  }),
  optim: setting({
    rule: rules.choice(OPTIMIZER_NAMES),
    default: "adamw",
    metavar: "name",
    help: "adamw (torch AdamW), adafactor (HF Adafactor as HF Trainer sets it: factored moments, far less memory), or sgd.",
  }),
  weight_decay: setting({
    rule: rules.number({ min: 0 }),
    default: 0,
    metavar: "wd",
    help: "Weight decay; never applied to 1-D tensors (biases, norm weights), as HF Trainer.",
  }),
  adam_beta1: setting({ rule: rules.number({ min: 0, lt: 1 }), default: 0.9, metavar: "b1", help: "AdamW beta1." }),
  adam_beta2: setting({ rule: rules.number({ min: 0, lt: 1 }), default: 0.999, metavar: "b2", help: "AdamW beta2." }),
  adam_epsilon: setting({ rule: rules.number({ min: 0 }), default: 1e-8, metavar: "eps", help: "AdamW epsilon." }),
  max_grad_norm: setting({
    rule: rules.number({ min: 0 }),
    default: 1.0,
    metavar: "norm",
    help: "Clip the total gradient norm to this; 0 disables clipping.",
  }),
  seed: setting({
    rule: rules.int({ min: 0, max: Number.MAX_SAFE_INTEGER }, { except: [], text: "must be an integer >= 0" }),
    default: 42,
    metavar: "n",
    help: "Seed of the data order and every other random choice.",
  }),
  max_consecutive_nonfinite_steps: setting({
    rule: positiveInt,
    default: 5,
    metavar: "n",
    help: "Stop after n updates in a row with a NaN/inf loss or gradient (each is skipped).",
  }),
} as const;

/** What a run reports and keeps: logs, evaluations, checkpoints. */
export const LOGGING_SETTINGS = {
  logging_steps: setting({
    rule: positiveInt,
    default: 500,
    metavar: "n",
    help: "Log averaged metrics every n updates (terminal and metrics.jsonl).",
  }),
  save_steps: setting({
    rule: nonNegativeInt,
    default: 500,
    metavar: "n",
    help: "Write checkpoint-N every n updates; 0 saves only the final model.",
  }),
  save_total_limit: setting({
    rule: rules.nullable(positiveInt),
    default: null,
    metavar: "n",
    help: "Keep at most n checkpoints, deleting the oldest; unlimited by default.",
  }),
  eval_steps: setting({
    rule: rules.nullable(positiveInt),
    default: null,
    metavar: "n",
    help: "Evaluate on eval_data every n updates; defaults to logging_steps.",
  }),
} as const;

export type RunPathSettings = SettingsOf<typeof RUN_PATH_SETTINGS>;
export type OptimizationSettings = SettingsOf<typeof OPTIMIZATION_SETTINGS>;
export type LoggingSettings = SettingsOf<typeof LOGGING_SETTINGS>;

/** Defaults that differ from HF TrainingArguments, with the reason (for docs and reviewers). */
export const DEVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  learning_rate: "HF 5e-5; we use the RRHF paper's 2e-5.",
  per_device_train_batch_size:
    "HF 8; here a batch item is a query with all its k responses (k sequences), and the official RRHF trainer allows only 1.",
  per_device_eval_batch_size: "HF 8; 1 for the same reason as per_device_train_batch_size.",
  model_max_length: "Not in HF TrainingArguments; 512 as in the official RRHF train.py (the paper trained with 192).",
});

/**
 * Every setting of a training run: the union of the section tables (this order is the order of `--help`).
 *
 * @example
 * TRAIN_SETTINGS.learning_rate.default; // 2e-5
 * Object.keys(TRAIN_SETTINGS);          // every config key, in --help order
 */
export const TRAIN_SETTINGS = {
  ...RUN_PATH_SETTINGS,
  ...DATA_SETTINGS,
  ...OPTIMIZATION_SETTINGS,
  ...LOGGING_SETTINGS,
  ...TOKENIZE_SETTINGS,
  ...RRHF_SETTINGS,
  ...MODEL_SETTINGS,
  ...SAVE_SETTINGS,
} as const;

/**
 * Every setting of a training run, composed of its sections (flat, snake_case, as HF TrainingArguments).
 *
 * @example
 * const config: TrainConfig = resolveTrainConfig({ overrides: { model: "m", data: "d.jsonl", output_dir: "out" } });
 * config.lr_scheduler_type; // "linear" unless a file or a flag says otherwise
 */
export type TrainConfig = RunPathSettings &
  DataReadSettings &
  OptimizationSettings &
  LoggingSettings &
  TokenizeSettings &
  RrhfSettings &
  ModelSettings &
  SaveSettings;

export type TrainFieldName = keyof typeof TRAIN_SETTINGS;

/**
 * A partial config: what a file or the flags provide. Values are checked when resolved.
 *
 * @example
 * const input: TrainConfigInput = { model: "tests/fixtures/models/gpt2-tiny", data: "tests/fixtures/train/tiny-train.jsonl", output_dir: "runs/x", max_steps: 4 };
 * const config = resolveTrainConfig({ overrides: input }); // checked here: unknown keys and bad values throw UserError
 */
export type TrainConfigInput = Partial<Record<TrainFieldName, unknown>>;
