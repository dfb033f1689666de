/**
 * The public API of `rrhf`: everything a library user may rely on is exported
 * here, and `tests/api/exports.test.ts` pins the list; modules not re-exported
 * are internal. The command line (`rrhf ...`) is not library API.
 *
 * The user-facing layers are flat, in the style of Hugging Face's
 * `from_pretrained`: `loadTokenizer(dir)` and `loadCausalLM(dir, options)`
 * load folders (the backend defaults to "auto", as on the command line),
 * `readRecords`/`validateFile` read data, `rrhfLoss` scores, `train` trains.
 * The tensor engine is a namespace, `autodiff`, because its op names
 * (`gatherRows`, `sum`, `mean`, ...) are generic. Options travel as one
 * options object per call, never through globals.
 *
 * @example
 * import { loadTokenizer, encodeRecord, collate, loadCausalLM, rrhfLossWithGrad } from "rrhf";
 * const dir = "tests/fixtures/models/gpt2-tiny";
 * const tok = await loadTokenizer(dir);
 * const model = loadCausalLM(dir, { trainable: true });
 * const record = { query: "Q: 2+2?", responses: [" 4", " 5"], scores: [1, 0] };
 * const batch = collate([encodeRecord(tok, record, { maxLength: 64 })], { padTokenId: tok.special.pad_token_id });
 * const pass = model.forward(batch); // ragged log-probs, by batch.responseTokenStart
 * const { result, dTokenLogps } = rrhfLossWithGrad(pass.tokenLogps, batch);
 * pass.backward(dTokenLogps); // parameter gradients accumulate in model.grads
 * pass.release();
 */
export { UserError, DataError, InternalError } from "./errors.js";
export { VERSION } from "./version.js";

// Data: JSONL records, validation, converters.
export * from "./data/index.js";

// Tokenisation, chat templates, the query-grouped batch.
export * from "./tokenize/index.js";

// The RRHF loss on plain numbers, its gradient and metrics.
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
  type WriteDtype,
} from "./io/safetensors.js";
export { SUPPORTED_ARCHITECTURES } from "./models/hf/config.js";
export type { NormalizedConfig } from "./models/hf/config-types.js";
export type { ParamStore } from "./models/hf/param-store.js";
export {
  loadModelFolder,
  saveModelFolder,
  SAVE_DTYPES,
  type HfModel,
  type SavableModel,
  type SaveDtype,
  type SaveOptions,
} from "./models/hf/folder.js";

// Causal language models.
export { loadCausalLM, createCausalLM, type CreateCausalLMOptions } from "./models/registry.js";
export type { CausalLM, PaddedInput, ForwardOptions, ForwardLayout, LogpPass } from "./models/causal-lm.js";
export { FORWARD_LAYOUTS } from "./models/causal-lm.js";
export { MODEL_SETTINGS, SAVE_SETTINGS, type ModelSettings, type SaveSettings } from "./models/settings.js";
export type { DecodeOptions, DecodeSession } from "./models/causal-lm-decode.js";

// Generation: greedy, sampling, beam and diverse beam search over KV-cache decoding.
export * from "./generate/index.js";

// The OpenAI-compatible server (`rrhf serve`).
export { startServer, SERVE_SETTINGS, type ServerOptions, type RunningServer, type ServeSettings } from "./serve/index.js";

// Reward models and scorers (`rrhf score`).
export { loadRewardModel, type RewardModel, type RewardModelOptions } from "./models/reward-model.js";
export { createScorer, type ScorerOptions } from "./score/spec.js";
export type { Scorer, ScoreItem } from "./score/scorer.js";
export { scoreFile, type ScoreFileOptions, type ScoreProgress } from "./score/file.js";

// Training.
export * from "./train/index.js";

// Evaluation (`rrhf eval`) and iterated RRHF (`rrhf iterate`).
export { evaluate, formatEvalTable, type EvalResult, type EvaluateOptions } from "./eval/evaluate.js";
export { EVAL_SETTINGS, type EvalSettings } from "./eval/settings.js";
export {
  iterate,
  formatIterateSummary,
  type IterateOptions,
  type IterateRound,
  type IterateStage,
  type IterateSummary,
} from "./loop/iterate.js";
export { ITERATE_SETTINGS, type IterateSettings } from "./loop/settings.js";
// Run reports (report.html of a run folder).
export { writeRunReport, type RunReportOptions } from "./web/report/index.js";
