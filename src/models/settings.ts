/**
 * The model and compute settings: which kernels run, how the forward pass
 * lays out a batch, and gradient checkpointing. `rrhf loss` and `rrhf train`
 * take their flags from this table.
 */
import { BACKEND_NAMES } from "../kernels/select.js";
import { rules, setting, type SettingsOf } from "../settings/index.js";
import { FORWARD_LAYOUTS } from "./causal-lm.js";
import { SAVE_DTYPES } from "./hf/folder.js";

/**
 * The model and compute settings (`--backend`, `--threads`, `--bf16`, `--layout`, `--gradient-checkpointing`, `--release-memory`) of `train`
 * (and `sft`); `loss`, `eval`, `sample` and `serve` pick some of them.
 *
 * @example
 * MODEL_SETTINGS.backend.default; // "auto"
 * MODEL_SETTINGS.layout.default;  // "packed-shared-prefix"
 */
export const MODEL_SETTINGS = {
  backend: setting({
    rule: rules.choice(BACKEND_NAMES),
    default: "auto",
    metavar: "name",
    help: "Compute kernels: auto picks native (OpenBLAS), else wasm, else ref.",
  }),
  threads: setting({
    rule: rules.nullable(rules.int({ min: 1 })),
    default: null,
    metavar: "n",
    help: "Kernel threads, the calling one included; unset: env RRHF_THREADS, else the CPUs (at most 8).",
  }),
  bf16: setting({
    rule: rules.boolean(),
    default: false,
    help:
      "Mixed precision: matrix products take bfloat16 inputs (fp32 accumulation) on the native backend's oneDNN matmul; " +
      "weights, gradients and optimizer state stay fp32. Needs the addon built with oneDNN (libdnnl-dev) and an AVX512-BF16 CPU.",
  }),
  layout: setting({
    rule: rules.choice(FORWARD_LAYOUTS),
    default: "packed-shared-prefix",
    metavar: "name",
    help: "Batch layout of the forward pass: the same numbers, different work. packed-shared-prefix computes each query once and no padding.",
  }),
  gradient_checkpointing: setting({
    rule: rules.boolean(),
    default: false,
    help:
      "Keep only each transformer block's input in the forward pass and recompute the block in the backward pass: " +
      "much less activation memory, more compute, identical results.",
  }),
  release_memory: setting({
    rule: rules.boolean(),
    default: false,
    help:
      "Give the memory of activations the backward pass is done with, and of the gradients after each update, back to the OS " +
      "(native backend on Linux with transparent huge pages): a lower peak, slower steps, identical results.",
  }),
} as const;

/**
 * The model and compute settings' values.
 *
 * @example
 * const settings: ModelSettings = { backend: "wasm", threads: null, bf16: false, layout: "packed", gradient_checkpointing: true, release_memory: false };
 */
export type ModelSettings = SettingsOf<typeof MODEL_SETTINGS>;

/**
 * How a command that writes a model folder stores its weights (`--save-dtype`):
 * `train`, `sft` and `init-model` take their flag from this table.
 *
 * @example
 * SAVE_SETTINGS.save_dtype.default; // "float32"
 */
export const SAVE_SETTINGS = {
  save_dtype: setting({
    rule: rules.choice(SAVE_DTYPES),
    default: "float32",
    metavar: "dtype",
    help:
      "dtype of the saved model.safetensors (config.json's torch_dtype says it); float16/bfloat16 halve the file, " +
      "rounded to nearest even. Training checkpoints stay float32, so a resumed run continues from exact weights.",
  }),
} as const;

/**
 * The save settings' values.
 *
 * @example
 * const settings: SaveSettings = { save_dtype: "bfloat16" };
 */
export type SaveSettings = SettingsOf<typeof SAVE_SETTINGS>;
