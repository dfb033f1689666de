/**
 * The public API of `rrhf`: everything a library user may rely on is exported
 * here; modules not re-exported are internal.
 *
 * The user-facing layers are flat (`loadTokenizer`, `rrhfLoss`,
 * `loadCausalLM`, `train`, ...); the tensor engine is a namespace,
 * `autodiff`, because its op names (`gatherRows`, `sum`, `mean`, ...) are
 * generic.
 *
 * @example
 * import { loadTokenizer, encodeRecord, collate, loadCausalLM, rrhfLossWithGrad } from "rrhf";
 * const tok = await loadTokenizer("models/gpt2");
 * const model = loadCausalLM("models/gpt2", { trainable: true });
 * const batch = collate([encodeRecord(tok, record, { maxLength: 192 })], { padTokenId: tok.special.pad_token_id });
 * const pass = model.forward(batch);
 * const labelMask = Uint8Array.from(batch.labels, (l) => (l === -100 ? 0 : 1));
 * const { result, dTokenLogps } = rrhfLossWithGrad({ tokenLogps: pass.tokenLogps, labelMask, rowQuery: batch.rowQuery, scores: batch.scores });
 * pass.backward(dTokenLogps); // parameter gradients accumulate in model.grads
 * pass.release();
 */
export { UserError, DataError, InternalError } from "./errors.js";
export { VERSION } from "./version.js";
export { runCli } from "./cli/main.js";
export type { CliIo } from "./cli/io.js";

// Data: JSONL records, validation, converters.
export * from "./data/index.js";

// Tokenisation, chat templates, collation.
export * from "./tokenize/index.js";

// The RRHF loss on plain numbers, its gradient, metrics and config.
export * from "./rrhf/index.js";

// Kernel backends.
export type { Backend } from "./kernels/backend.js";
export {
  getBackend,
  describeBackends,
  BACKEND_NAMES,
  type BackendName,
  type BackendOptions,
  type BackendInfo,
} from "./kernels/select.js";

// The tensor engine (reverse-mode autodiff), as a namespace.
export * as autodiff from "./autodiff/index.js";

// safetensors and Hugging Face model folders.
export {
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  type F32Tensor,
  type NamedF32Tensor,
  type SafetensorsDtype,
  type SafetensorsHeader,
  type TensorInfo,
} from "./io/safetensors.js";
export { normalizeConfig, SUPPORTED_ARCHITECTURES } from "./models/hf/config.js";
export type { NormalizedConfig } from "./models/hf/config-types.js";
export { weightLayout, type ParamSpec } from "./models/hf/param-specs.js";
export { ParamStore } from "./models/hf/param-store.js";
export { loadModelFolder, saveModelFolder, type HfModel, type SavableModel } from "./models/hf/folder.js";
export { initParams } from "./models/hf/init.js";

// Causal language models.
export { loadCausalLM, createCausalLM, MODEL_REGISTRY, type CreateCausalLMOptions } from "./models/registry.js";
export type { CausalLM, TokenBatch, ForwardOptions, LogpPass } from "./models/causal-lm.js";

// Training.
export * from "./train/index.js";
