/**
 * From a loaded Hugging Face folder to the model class that runs it, keyed
 * by `architectures[0]` / `model_type` (normalised by the config loader).
 *
 * @example
 * const model = loadCausalLM("tests/fixtures/models/gpt2-tiny", { trainable: true }); // backend "auto"
 * const pass = model.forward(batch);
 */
import { UserError } from "../errors.js";
import type { Backend } from "../kernels/backend.js";
import { getBackend, type BackendName } from "../kernels/select.js";
import type { CausalLM } from "./causal-lm.js";
import type { CausalLMOptions } from "./causal-lm-pass.js";
import { Gpt2Model } from "./gpt2/model.js";
import type { ModelType, NormalizedConfig } from "./hf/config-types.js";
import { loadModelFolder, type HfModel } from "./hf/folder.js";
import type { ParamStore } from "./hf/param-store.js";
import { LlamaModel } from "./llama/model.js";

type ModelFactory = (config: NormalizedConfig, params: ParamStore, opts: CausalLMOptions) => CausalLM;

/** HF model_type -> the class that implements it. */
const MODEL_REGISTRY: Readonly<Record<ModelType, ModelFactory>> = {
  gpt2: (c, p, o) => new Gpt2Model(c, p, o),
  llama: (c, p, o) => new LlamaModel(c, p, o),
  qwen2: (c, p, o) => new LlamaModel(c, p, o),
  mistral: (c, p, o) => new LlamaModel(c, p, o),
};

/**
 * Options of `loadCausalLM` and `createCausalLM`.
 *
 * @example
 * const options: CreateCausalLMOptions = { backend: "wasm", threads: 2, trainable: true, gradientCheckpointing: true };
 * const model = loadCausalLM("tests/fixtures/models/gpt2-tiny", options);
 */
export interface CreateCausalLMOptions {
  /**
   * Kernel backend: a name, as `--backend` takes it, or a Backend from
   * `getBackend`. Default "auto", as the CLI: native (OpenBLAS) when its addon
   * is built, else wasm, else ref.
   */
  backend?: BackendName | Backend;
  /** Kernel threads when `backend` is a name (default: env RRHF_THREADS, else the CPUs, at most 8). */
  threads?: number;
  /** Allocate a gradient arena so `forward(...).backward(...)` can run. Default false. */
  trainable?: boolean;
  /** Recompute each block in the backward pass instead of keeping its activations (default false; see ForwardOptions). */
  gradientCheckpointing?: boolean;
}

/** The Backend `opts.backend` names (default "auto"). */
export function resolveBackend(opts: CreateCausalLMOptions): Backend {
  const backend = opts.backend ?? "auto";
  return typeof backend === "string" ? getBackend(backend, opts.threads === undefined ? {} : { threads: opts.threads }) : backend;
}

/**
 * Wraps an already-loaded folder (`loadModelFolder`) in its model class. Load
 * the folder with the backend's `alloc` so the weights live in its memory.
 *
 * @example
 * const backend = getBackend("auto");
 * const hf = loadModelFolder("tests/fixtures/models/gpt2-tiny", { alloc: (n) => backend.alloc(n) });
 * const model = createCausalLM(hf, { backend, trainable: true });
 */
export function createCausalLM(hf: Pick<HfModel, "normalized" | "params">, opts: CreateCausalLMOptions = {}): CausalLM {
  if (hf.normalized.task !== "causal-lm") {
    throw new UserError(
      `${hf.normalized.architecture} is a reward model (a score head, no LM head): load it with loadRewardModel, or use it as a scorer (--scorer model:DIR)`,
    );
  }
  const backend = resolveBackend(opts);
  const factory = MODEL_REGISTRY[hf.normalized.modelType];
  if (factory === undefined) throw new UserError(`no model class for model_type ${JSON.stringify(hf.normalized.modelType)}`);
  const grads = opts.trainable ? hf.params.createGradStore((n) => backend.alloc(n)) : null;
  return factory(hf.normalized, hf.params, { backend, grads, gradientCheckpointing: opts.gradientCheckpointing ?? false });
}

/**
 * Loads a Hugging Face model folder (config.json + safetensors weights; GPT-2,
 * Llama, Qwen2, Mistral) with its parameters in the backend's memory, and
 * wraps it in its model class: the `from_pretrained` of this library.
 *
 * @example
 * const model = loadCausalLM("tests/fixtures/models/gpt2-tiny", { trainable: true }); // backend "auto"
 * const pass = model.forward(batch);
 * pass.backward(dTokenLogps); // parameter gradients accumulate in model.grads
 * pass.release();
 */
export function loadCausalLM(dir: string, opts: CreateCausalLMOptions = {}): CausalLM {
  const backend = resolveBackend(opts);
  return createCausalLM(loadModelFolder(dir, { alloc: (n) => backend.alloc(n) }), { ...opts, backend });
}
