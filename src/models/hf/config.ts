import { UserError } from "../../errors.js";
import type {
  Activation,
  Gpt2ConfigJson,
  LlamaConfigJson,
  ModelType,
  NormalizedConfig,
  RopeParams,
  RopeScalingJson,
} from "./config-types.js";

export type * from "./config-types.js";

/**
 * HF class name → model type, for the classes this project can load.
 *
 * @example
 * Object.keys(SUPPORTED_ARCHITECTURES); // ["GPT2LMHeadModel", "LlamaForCausalLM", ...]
 */
export const SUPPORTED_ARCHITECTURES: Readonly<Record<string, ModelType>> = {
  GPT2LMHeadModel: "gpt2",
  LlamaForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  MistralForCausalLM: "mistral",
  GPT2ForSequenceClassification: "gpt2",
  LlamaForSequenceClassification: "llama",
  Qwen2ForSequenceClassification: "qwen2",
  MistralForSequenceClassification: "mistral",
};

/** The class names that are reward models (a `score` head instead of the LM head). */
const SEQUENCE_CLASSIFICATION = /ForSequenceClassification$/;

/**
 * What a config's head is: "causal-lm" (an LM head) or "sequence-classification"
 * (a `score` head with `numLabels` outputs, HF's `*ForSequenceClassification`).
 * HF counts labels as `id2label`'s size when present, else `num_labels`, else 2.
 */
function taskOf(raw: Record<string, unknown>, architecture: string, f: Fields): Pick<NormalizedConfig, "task" | "numLabels"> {
  if (!SEQUENCE_CLASSIFICATION.test(architecture)) return { task: "causal-lm", numLabels: 0 };
  const labels = raw.id2label;
  if (labels !== undefined && labels !== null) {
    if (typeof labels !== "object" || Array.isArray(labels)) f.fail("id2label", "must be an object of label names");
    return { task: "sequence-classification", numLabels: Object.keys(labels).length };
  }
  return { task: "sequence-classification", numLabels: f.posInt("num_labels", 2) };
}

const ARCH_OF_TYPE: Record<ModelType, string> = {
  gpt2: "GPT2LMHeadModel",
  llama: "LlamaForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  mistral: "MistralForCausalLM",
};

// HF activation names → the function the model code implements.
// gelu_pytorch_tanh is the same tanh approximation as gelu_new; swish is silu.
const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  gelu_new: "gelu_new",
  gelu_pytorch_tanh: "gelu_new",
  gelu: "gelu",
  relu: "relu",
  silu: "silu",
  swish: "silu",
};

/** Reads typed fields of the raw JSON, applying HF's default when absent or null. */
class Fields {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly source: string,
  ) {}

  fail(field: string, problem: string): never {
    throw new UserError(`${this.source}: ${field}: ${problem}`);
  }

  posInt(field: string, dflt: number): number {
    const v = this.raw[field] ?? dflt;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
      this.fail(field, `must be a positive integer (got ${JSON.stringify(v)})`);
    return v;
  }

  posNum(field: string, dflt: number): number {
    const v = this.raw[field] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) this.fail(field, `must be a positive number (got ${JSON.stringify(v)})`);
    return v;
  }

  bool(field: string, dflt: boolean): boolean {
    const v = this.raw[field] ?? dflt;
    if (typeof v !== "boolean") this.fail(field, `must be true or false (got ${JSON.stringify(v)})`);
    return v;
  }

  tokenId(field: string, dflt: number | null): number | null {
    const v = this.raw[field] ?? dflt;
    if (v === null) return null;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) this.fail(field, `must be a token id (got ${JSON.stringify(v)})`);
    return v;
  }

  tokenIds(field: string, dflt: number | null): number[] {
    const v = this.raw[field] ?? dflt;
    if (v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0)) {
      this.fail(field, `must be a token id or a list of them (got ${JSON.stringify(v)})`);
    }
    return list as number[];
  }

  activation(field: string, dflt: string): Activation {
    const v = this.raw[field] ?? dflt;
    const act = typeof v === "string" && Object.hasOwn(ACTIVATIONS, v) ? ACTIVATIONS[v] : undefined;
    if (act === undefined) {
      this.fail(field, `unsupported activation ${JSON.stringify(v)} (supported: ${Object.keys(ACTIVATIONS).join(", ")})`);
    }
    return act;
  }
}

/** A config as the body's fields describe it; the head's fields come from {@link taskOf}. */
type BaseConfig = Omit<NormalizedConfig, "task" | "numLabels">;

function chooseModelType(raw: Record<string, unknown>, source: string): { modelType: ModelType; architecture: string } {
  const supported = Object.keys(SUPPORTED_ARCHITECTURES).join(", ");
  const archs = raw.architectures;
  if (Array.isArray(archs) && archs.length > 0) {
    const arch = archs[0];
    // Own keys only: "__proto__" or "toString" must not find Object.prototype's members.
    const modelType = typeof arch === "string" && Object.hasOwn(SUPPORTED_ARCHITECTURES, arch) ? SUPPORTED_ARCHITECTURES[arch] : undefined;
    if (modelType === undefined) {
      throw new UserError(`${source}: unsupported architecture ${JSON.stringify(arch)} (supported: ${supported})`);
    }
    return { modelType, architecture: arch as string };
  }
  const mt = raw.model_type;
  if (typeof mt === "string" && Object.hasOwn(ARCH_OF_TYPE, mt)) {
    return { modelType: mt as ModelType, architecture: ARCH_OF_TYPE[mt as ModelType] };
  }
  throw new UserError(
    `${source}: unsupported model: architectures is missing and model_type is ${JSON.stringify(mt)} ` +
      `(supported architectures: ${supported}; model types: ${Object.keys(ARCH_OF_TYPE).join(", ")})`,
  );
}

function normalizeGpt2(f: Fields, raw: Gpt2ConfigJson, architecture: string): BaseConfig {
  const hiddenSize = f.posInt("n_embd", 768);
  const numHeads = f.posInt("n_head", 12);
  if (hiddenSize % numHeads !== 0) f.fail("n_embd", `${hiddenSize} is not a multiple of n_head ${numHeads}`);
  if (raw.add_cross_attention === true) f.fail("add_cross_attention", "cross-attention is not supported");
  return {
    arch: "gpt2",
    modelType: "gpt2",
    architecture,
    hiddenSize,
    numLayers: f.posInt("n_layer", 12),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: f.posInt("n_inner", 4 * hiddenSize),
    vocabSize: f.posInt("vocab_size", 50257),
    maxPositions: f.posInt("n_positions", 1024),
    normEps: f.posNum("layer_norm_epsilon", 1e-5),
    normKind: "layernorm",
    activation: f.activation("activation_function", "gelu_new"),
    rope: null,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    // PretrainedConfig's default: GPT-2 ties its head unless told otherwise.
    tieWordEmbeddings: f.bool("tie_word_embeddings", true),
    initializerRange: f.posNum("initializer_range", 0.02),
    slidingWindow: null,
    scaleAttnWeights: f.bool("scale_attn_weights", true),
    scaleAttnByInverseLayerIdx: f.bool("scale_attn_by_inverse_layer_idx", false),
    bosTokenId: f.tokenId("bos_token_id", 50256),
    eosTokenIds: f.tokenIds("eos_token_id", 50256),
    padTokenId: f.tokenId("pad_token_id", null),
  };
}

function normalizeRope(raw: LlamaConfigJson, source: string): RopeParams {
  // transformers v5 moved rope_theta and the scaling into rope_parameters.
  const params: RopeScalingJson | null | undefined = raw.rope_parameters ?? raw.rope_scaling;
  const field = raw.rope_parameters != null ? "rope_parameters" : "rope_scaling";
  const f = new Fields(params ?? {}, source);
  const theta = new Fields(raw.rope_parameters ?? (raw as Record<string, unknown>), source).posNum("rope_theta", 10000);
  const ropeType = params?.rope_type ?? params?.type ?? "default";
  if (params == null || ropeType === "default") return { theta, scaling: null };
  if (ropeType === "linear") return { theta, scaling: { type: "linear", factor: f.posNum("factor", 1) } };
  if (ropeType === "llama3") {
    const need = (k: string): number => (params[k] === undefined ? f.fail(`${field}.${k}`, "is required for llama3 RoPE") : f.posNum(k, 1));
    return {
      theta,
      scaling: {
        type: "llama3",
        factor: need("factor"),
        lowFreqFactor: need("low_freq_factor"),
        highFreqFactor: need("high_freq_factor"),
        originalMaxPositionEmbeddings: need("original_max_position_embeddings"),
      },
    };
  }
  throw new UserError(`${source}: ${field}: unsupported RoPE type ${JSON.stringify(ropeType)} (supported: default, linear, llama3)`);
}

// HF defaults per model type (LlamaConfig, Qwen2Config, MistralConfig).
const LLAMA_DEFAULTS: Record<
  Exclude<ModelType, "gpt2">,
  {
    vocab: number;
    intermediate: number;
    kvHeads: number | null;
    maxPos: number;
    bos: number | null;
    eos: number | null;
    slidingWindow: number | null;
  }
> = {
  llama: { vocab: 32000, intermediate: 11008, kvHeads: null, maxPos: 2048, bos: 1, eos: 2, slidingWindow: null },
  qwen2: { vocab: 151936, intermediate: 22016, kvHeads: 32, maxPos: 32768, bos: null, eos: null, slidingWindow: 4096 },
  mistral: { vocab: 32000, intermediate: 14336, kvHeads: 8, maxPos: 4096 * 32, bos: 1, eos: 2, slidingWindow: 4096 },
};

function normalizeLlama(
  f: Fields,
  raw: LlamaConfigJson,
  modelType: Exclude<ModelType, "gpt2">,
  architecture: string,
  source: string,
): BaseConfig {
  const d = LLAMA_DEFAULTS[modelType];
  const hiddenSize = f.posInt("hidden_size", 4096);
  const numHeads = f.posInt("num_attention_heads", 32);
  const numKvHeads = f.posInt("num_key_value_heads", d.kvHeads ?? numHeads);
  if (numHeads % numKvHeads !== 0) f.fail("num_key_value_heads", `${numKvHeads} does not divide num_attention_heads ${numHeads}`);
  if (raw.head_dim == null && hiddenSize % numHeads !== 0) {
    f.fail("hidden_size", `${hiddenSize} is not a multiple of num_attention_heads ${numHeads} (and head_dim is not set)`);
  }
  const attentionBias = modelType === "llama" && f.bool("attention_bias", false);
  let slidingWindow: number | null = null;
  if (modelType === "mistral" || (modelType === "qwen2" && f.bool("use_sliding_window", false))) {
    slidingWindow = raw.sliding_window === null ? null : f.posInt("sliding_window", d.slidingWindow ?? 4096);
  }
  return {
    arch: "llama",
    modelType,
    architecture,
    hiddenSize,
    numLayers: f.posInt("num_hidden_layers", 32),
    numHeads,
    numKvHeads,
    headDim: f.posInt("head_dim", Math.floor(hiddenSize / numHeads)),
    intermediateSize: f.posInt("intermediate_size", d.intermediate),
    vocabSize: f.posInt("vocab_size", d.vocab),
    maxPositions: f.posInt("max_position_embeddings", d.maxPos),
    normEps: f.posNum("rms_norm_eps", 1e-6),
    normKind: "rmsnorm",
    activation: f.activation("hidden_act", "silu"),
    rope: normalizeRope(raw, source),
    // Qwen2 always has q/k/v biases and no o bias; Llama has all four or none.
    qkvBias: modelType === "qwen2" || attentionBias,
    oBias: attentionBias,
    mlpBias: modelType === "llama" && f.bool("mlp_bias", false),
    tieWordEmbeddings: f.bool("tie_word_embeddings", false),
    initializerRange: f.posNum("initializer_range", 0.02),
    slidingWindow,
    scaleAttnWeights: true,
    scaleAttnByInverseLayerIdx: false,
    bosTokenId: f.tokenId("bos_token_id", d.bos),
    eosTokenIds: f.tokenIds("eos_token_id", d.eos),
    padTokenId: f.tokenId("pad_token_id", null),
  };
}

/**
 * The normalised view of a Hugging Face `config.json` (already parsed).
 * The model is chosen by `architectures[0]`, or by `model_type` when there is
 * no `architectures`; anything else is a UserError listing what is supported.
 * `source` names the file in error messages.
 *
 * @example
 * const n = normalizeConfig(JSON.parse(readFileSync("gpt2/config.json", "utf8")));
 * n.arch; // "gpt2"
 */
export function normalizeConfig(raw: unknown, source = "config.json"): NormalizedConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new UserError(`${source}: a model config must be a JSON object`);
  }
  const record = raw as Record<string, unknown>;
  const { modelType, architecture } = chooseModelType(record, source);
  const f = new Fields(record, source);
  const base =
    modelType === "gpt2"
      ? normalizeGpt2(f, record as Gpt2ConfigJson, architecture)
      : normalizeLlama(f, record as LlamaConfigJson, modelType, architecture, source);
  return { ...base, ...taskOf(record, architecture, f) };
}
