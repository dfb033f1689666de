/**
 * The one table of `rrhf train` settings: each field's zod type, default and
 * help text. The config-file loader, the validator and the CLI flags are all
 * built from it, so a field is documented and checked in exactly one place.
 * Names and defaults follow Hugging Face TrainingArguments where a
 * counterpart exists (see DEVIATIONS for the few that differ, and why).
 */
import { z } from "zod";
import { BACKEND_NAMES, type BackendName } from "../kernels/select.js";
import { RRHF_CONFIG_HELP } from "../rrhf/config.js";
import { OPTIMIZER_NAMES } from "./optim/types.js";
import { LR_SCHEDULER_TYPES } from "./schedule.js";

const posInt = z.number().int().min(1);
const nonNegInt = z.number().int().min(0);

/** Each field's type and range (no defaults here; zod 4's number() already rejects NaN/inf). */
export const TRAIN_FIELD_SCHEMAS = {
  model: z.string().min(1),
  data: z.string().min(1),
  output_dir: z.string().min(1),
  overwrite_output_dir: z.boolean(),
  eval_data: z.string().min(1).nullable(),
  resume_from_checkpoint: z.string().min(1).nullable(),
  learning_rate: z.number().positive(),
  num_train_epochs: z.number().positive(),
  max_steps: z.number().int().min(-1).refine((v) => v !== 0, "must be -1 (use num_train_epochs) or >= 1"),
  per_device_train_batch_size: posInt,
  per_device_eval_batch_size: posInt,
  gradient_accumulation_steps: posInt,
  lr_scheduler_type: z.enum(LR_SCHEDULER_TYPES),
  warmup_ratio: z.number().min(0).max(1),
  warmup_steps: nonNegInt,
  optim: z.enum(OPTIMIZER_NAMES),
  weight_decay: z.number().min(0),
  adam_beta1: z.number().min(0).lt(1),
  adam_beta2: z.number().min(0).lt(1),
  adam_epsilon: z.number().min(0),
  max_grad_norm: z.number().min(0),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  logging_steps: posInt,
  save_steps: nonNegInt,
  save_total_limit: posInt.nullable(),
  eval_steps: posInt.nullable(),
  max_consecutive_nonfinite_steps: posInt,
  model_max_length: posInt,
  rrhf_weight: z.number().min(0),
  length_penalty: z.number(),
  only_use_provide: z.boolean(),
  only_use_sample: z.boolean(),
  compat: z.enum(["none", "official"]),
  chat_template: z.boolean(),
  strict: z.boolean(),
  // Spelled out because z.enum needs a literal tuple; a test checks it equals BACKEND_NAMES.
  backend: z.enum(["auto", "native", "wasm", "ref"] as const satisfies readonly BackendName[]),
  gradient_checkpointing: z.boolean(),
  layout: z.enum(["plain", "shared-prefix", "packed", "packed-shared-prefix"]),
} as const;

export type TrainFieldName = keyof typeof TRAIN_FIELD_SCHEMAS;

/** Fields a run cannot do without; every other field has a default. */
export const REQUIRED_FIELDS = ["model", "data", "output_dir"] as const satisfies readonly TrainFieldName[];

type Inferred = { [K in TrainFieldName]: z.infer<(typeof TRAIN_FIELD_SCHEMAS)[K]> };
type Defaults = Omit<Inferred, (typeof REQUIRED_FIELDS)[number]>;

export const TRAIN_DEFAULTS: Readonly<Defaults> = Object.freeze({
  eval_data: null,
  resume_from_checkpoint: null,
  learning_rate: 2e-5,
  num_train_epochs: 3,
  max_steps: -1,
  per_device_train_batch_size: 1,
  per_device_eval_batch_size: 1,
  gradient_accumulation_steps: 1,
  lr_scheduler_type: "linear",
  warmup_ratio: 0,
  warmup_steps: 0,
  optim: "adamw",
  weight_decay: 0,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  adam_epsilon: 1e-8,
  max_grad_norm: 1.0,
  seed: 42,
  logging_steps: 500,
  save_steps: 500,
  save_total_limit: null,
  eval_steps: null,
  max_consecutive_nonfinite_steps: 5,
  model_max_length: 512,
  rrhf_weight: 1.0,
  length_penalty: 1.0,
  only_use_provide: false,
  only_use_sample: false,
  compat: "none",
  chat_template: false,
  strict: false,
  backend: "auto",
  gradient_checkpointing: false,
  overwrite_output_dir: false,
  layout: "packed-shared-prefix",
});

/** Defaults that differ from HF TrainingArguments, with the reason (for docs and reviewers). */
export const DEVIATIONS: Readonly<Partial<Record<TrainFieldName, string>>> = Object.freeze({
  learning_rate: "HF 5e-5; we use the RRHF paper's 2e-5.",
  per_device_train_batch_size:
    "HF 8; here a batch item is a query with all its k responses (k sequences), and the official RRHF trainer allows only 1.",
  per_device_eval_batch_size: "HF 8; 1 for the same reason as per_device_train_batch_size.",
  model_max_length: "not in TrainingArguments; 512 as in the official RRHF train.py (the paper trained with 192).",
});

/** How a field appears on the command line. */
export type FieldKind = "string" | "number" | "int" | "boolean" | "choice";

export interface FieldHelp {
  kind: FieldKind;
  help: string;
  /** Flag when not `--` + the field name in kebab case. */
  flag?: string;
  /** Value placeholder in --help. */
  metavar?: string;
  choices?: readonly string[];
}

export const TRAIN_FIELD_HELP: Readonly<Record<TrainFieldName, FieldHelp>> = Object.freeze({
  model: { kind: "string", metavar: "dir", help: "Hugging Face model folder to start from (config.json, safetensors weights, tokenizer)." },
  data: { kind: "string", metavar: "file", help: "Training data, JSONL: one {query, responses, scores} object per line." },
  output_dir: { kind: "string", flag: "--out", metavar: "dir", help: "Folder for checkpoints, metrics.jsonl and the final model." },
  eval_data: { kind: "string", metavar: "file", help: "Held-out JSONL data, evaluated every eval_steps." },
  resume_from_checkpoint: {
    kind: "string", metavar: "dir|latest",
    help: 'Continue a run from a checkpoint folder, or "latest" for the newest complete one in the output folder.',
  },
  learning_rate: { kind: "number", metavar: "lr", help: "Peak learning rate (after warmup)." },
  num_train_epochs: { kind: "number", metavar: "n", help: "Passes over the training data (may be fractional); ignored when max_steps is set." },
  max_steps: { kind: "int", metavar: "n", help: "Total optimizer updates; -1 derives them from num_train_epochs." },
  per_device_train_batch_size: { kind: "int", metavar: "n", help: "Queries per micro-batch; each query brings all its responses." },
  per_device_eval_batch_size: { kind: "int", metavar: "n", help: "Queries per evaluation batch." },
  gradient_accumulation_steps: { kind: "int", metavar: "n", help: "Micro-batches whose gradients are summed into one update." },
  lr_scheduler_type: {
    kind: "choice", metavar: "type", choices: LR_SCHEDULER_TYPES,
    help: "Learning-rate decay after warmup (HF formulas). Unlike HF, constant with a warmup warms up (= constant_with_warmup).",
  },
  warmup_ratio: { kind: "number", metavar: "r", help: "Warmup as a share of total steps: ceil(ratio * steps); used when warmup_steps is 0." },
  warmup_steps: { kind: "int", metavar: "n", help: "Linear warmup steps from 0 to the learning rate; wins over warmup_ratio." },
  optim: {
    kind: "choice", metavar: "name", choices: OPTIMIZER_NAMES,
    help: "adamw (torch AdamW), adafactor (HF Adafactor as HF Trainer sets it: factored moments, far less memory), or sgd.",
  },
  weight_decay: { kind: "number", metavar: "wd", help: "Weight decay; never applied to 1-D tensors (biases, norm weights), as HF Trainer." },
  adam_beta1: { kind: "number", metavar: "b1", help: "AdamW beta1." },
  adam_beta2: { kind: "number", metavar: "b2", help: "AdamW beta2." },
  adam_epsilon: { kind: "number", metavar: "eps", help: "AdamW epsilon." },
  max_grad_norm: { kind: "number", metavar: "norm", help: "Clip the total gradient norm to this; 0 disables clipping." },
  seed: { kind: "int", metavar: "n", help: "Seed of the data order and every other random choice." },
  logging_steps: { kind: "int", metavar: "n", help: "Log averaged metrics every n updates (terminal and metrics.jsonl)." },
  save_steps: { kind: "int", metavar: "n", help: "Write checkpoint-N every n updates; 0 saves only the final model." },
  save_total_limit: { kind: "int", metavar: "n", help: "Keep at most n checkpoints, deleting the oldest; unlimited by default." },
  eval_steps: { kind: "int", metavar: "n", help: "Evaluate on eval_data every n updates; defaults to logging_steps." },
  max_consecutive_nonfinite_steps: {
    kind: "int", metavar: "n", help: "Stop after n updates in a row with a NaN/inf loss or gradient (each is skipped).",
  },
  model_max_length: { kind: "int", metavar: "n", help: "Token budget per query+response; longer ones are cut (query from the left)." },
  rrhf_weight: { kind: "number", metavar: "w", help: RRHF_CONFIG_HELP.rrhfWeight.help },
  length_penalty: { kind: "number", metavar: "x", help: RRHF_CONFIG_HELP.lengthPenalty.help },
  only_use_provide: { kind: "boolean", help: RRHF_CONFIG_HELP.onlyUseProvide.help },
  only_use_sample: { kind: "boolean", help: RRHF_CONFIG_HELP.onlyUseSample.help },
  compat: { kind: "choice", metavar: "mode", choices: ["none", "official"], help: RRHF_CONFIG_HELP.compat.help },
  chat_template: {
    kind: "boolean",
    help:
      "Render each query through the tokenizer's chat_template (tokenizer_config.json of the model folder) with the generation prompt, " +
      "no second BOS: HH transcripts become user/assistant turns, other text one user message.",
  },
  strict: {
    kind: "boolean",
    help: "A response that truncation to model_max_length empties is an error naming its record, instead of a warning and a dropped response.",
  },
  backend: { kind: "choice", metavar: "name", choices: BACKEND_NAMES, help: "Compute kernels: auto picks native (OpenBLAS), else wasm, else ref." },
  gradient_checkpointing: {
    kind: "boolean",
    help: "Keep only each transformer block's input in the forward pass and recompute the block in the backward pass: much less activation memory, more compute, identical results.",
  },
  overwrite_output_dir: {
    kind: "boolean",
    help: "Start a new run in an output folder that holds checkpoints of an earlier run, deleting those checkpoints first.",
  },
  layout: {
    kind: "choice",
    metavar: "name",
    choices: ["plain", "shared-prefix", "packed", "packed-shared-prefix"],
    help: "Batch layout of the forward pass: the same numbers, different work. packed-shared-prefix computes each query once and no padding.",
  },
});
