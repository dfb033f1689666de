/**
 * From a loaded Hugging Face folder to the model class that runs it, keyed
 * by `architectures[0]` / `model_type` (normalised by the config loader).
 *
 * @example
 * const model = loadCausalLM("models/gpt2", { backend: refBackend, trainable: true });
 * const pass = model.forward(batch);
 */
import { UserError } from "../errors.js";
import type { Backend } from "../kernels/backend.js";
import { refBackend } from "../kernels/ref/index.js";
import type { CausalLM } from "./causal-lm.js";
import type { CausalLMOptions } from "./causal-lm-pass.js";
import { Gpt2Model } from "./gpt2/model.js";
import type { ModelType, NormalizedConfig } from "./hf/config-types.js";
import { loadModelFolder, type HfModel } from "./hf/folder.js";
import type { ParamStore } from "./hf/param-store.js";
import { LlamaModel } from "./llama/model.js";

type ModelFactory = (config: NormalizedConfig, params: ParamStore, opts: CausalLMOptions) => CausalLM;

/** HF model_type -> the class that implements it. */
export const MODEL_REGISTRY: Readonly<Record<ModelType, ModelFactory>> = {
  gpt2: (c, p, o) => new Gpt2Model(c, p, o),
  llama: (c, p, o) => new LlamaModel(c, p, o),
  qwen2: (c, p, o) => new LlamaModel(c, p, o),
  mistral: (c, p, o) => new LlamaModel(c, p, o),
};

export interface CreateCausalLMOptions {
  /** Kernel backend (default: the reference backend). */
  backend?: Backend;
  /** Allocate a gradient arena so `forward(...).backward(...)` can run. Default false. */
  trainable?: boolean;
  /** Recompute each block in the backward pass instead of keeping its activations (default false; see ForwardOptions). */
  gradientCheckpointing?: boolean;
}

/** Wraps an already-loaded folder in its model class. */
export function createCausalLM(hf: Pick<HfModel, "normalized" | "params">, opts: CreateCausalLMOptions = {}): CausalLM {
  const backend = opts.backend ?? refBackend;
  const factory = MODEL_REGISTRY[hf.normalized.modelType];
  if (factory === undefined) throw new UserError(`no model class for model_type ${JSON.stringify(hf.normalized.modelType)}`);
  const grads = opts.trainable ? hf.params.createGradStore((n) => backend.alloc(n)) : null;
  return factory(hf.normalized, hf.params, { backend, grads, gradientCheckpointing: opts.gradientCheckpointing ?? false });
}

/** Loads a Hugging Face model folder (parameters in the backend's memory) and wraps it. */
export function loadCausalLM(dir: string, opts: CreateCausalLMOptions = {}): CausalLM {
  const backend = opts.backend ?? refBackend;
  return createCausalLM(loadModelFolder(dir, { alloc: (n) => backend.alloc(n) }), { ...opts, backend });
}
