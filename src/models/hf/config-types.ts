/**
 * Hugging Face `config.json` shapes, with HF's own field names so the JSON
 * round-trips unchanged, and the one normalised view the model code reads.
 * Every field is optional in the JSON: HF fills the defaults noted here.
 */

/** Fields every supported config may carry. */
export interface HfCommonConfigJson {
  architectures?: string[];
  model_type?: string;
  vocab_size?: number;
  initializer_range?: number; // 0.02
  tie_word_embeddings?: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  torch_dtype?: string;
  [field: string]: unknown;
}

/** `GPT2LMHeadModel` (model_type "gpt2"). Defaults: HF's GPT2Config. */
export interface Gpt2ConfigJson extends HfCommonConfigJson {
  n_embd?: number; // 768
  n_layer?: number; // 12
  n_head?: number; // 12
  n_positions?: number; // 1024
  n_inner?: number | null; // null = 4 * n_embd
  activation_function?: string; // "gelu_new"
  layer_norm_epsilon?: number; // 1e-5
  scale_attn_weights?: boolean; // true
  scale_attn_by_inverse_layer_idx?: boolean; // false
  reorder_and_upcast_attn?: boolean; // false
}

/** `rope_scaling` (or `rope_parameters` in newer transformers). */
export interface RopeScalingJson {
  rope_type?: string;
  /** Older spelling of `rope_type`. */
  type?: string;
  rope_theta?: number;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
  [field: string]: unknown;
}

/** `LlamaForCausalLM`, `Qwen2ForCausalLM`, `MistralForCausalLM`. */
export interface LlamaConfigJson extends HfCommonConfigJson {
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number | null;
  head_dim?: number | null; // null = hidden_size / num_attention_heads
  hidden_act?: string; // "silu"
  max_position_embeddings?: number;
  rms_norm_eps?: number; // 1e-6
  rope_theta?: number; // 10000
  rope_scaling?: RopeScalingJson | null;
  rope_parameters?: RopeScalingJson | null;
  attention_bias?: boolean; // llama only: q, k, v and o biases
  mlp_bias?: boolean; // llama only
  sliding_window?: number | null; // mistral 4096; qwen2 only with use_sliding_window
  use_sliding_window?: boolean; // qwen2
}

/** RoPE frequency scaling the model code must apply. */
export type RopeScaling =
  | { type: "linear"; factor: number }
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

export interface RopeParams {
  theta: number;
  scaling: RopeScaling | null;
}

export type ModelType = "gpt2" | "llama" | "qwen2" | "mistral";
export type Activation = "gelu_new" | "gelu" | "relu" | "silu";

/**
 * What the model code needs, whatever the source spelling.
 *
 * @example
 * const { normalized } = loadModelFolder("tests/fixtures/models/gpt2-tiny");
 * console.log(normalized.modelType, normalized.maxPositions);
 */
export interface NormalizedConfig {
  /** The code path: GPT-2 or the Llama family (Llama, Qwen2, Mistral, SmolLM, TinyLlama). */
  arch: "gpt2" | "llama";
  modelType: ModelType;
  /** The HF class, e.g. "LlamaForCausalLM". */
  architecture: string;
  /** "causal-lm" (an LM head) or "sequence-classification" (a reward model: a `score` head, `score.weight` [numLabels, hidden]). */
  task: "causal-lm" | "sequence-classification";
  /** Outputs of the `score` head (a reward model has 1); 0 for a causal LM. */
  numLabels: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  normEps: number;
  normKind: "layernorm" | "rmsnorm";
  activation: Activation;
  /** null for GPT-2 (learned position embeddings). */
  rope: RopeParams | null;
  /** Biases on the q, k and v projections (GPT-2 c_attn, Qwen2, Llama attention_bias). */
  qkvBias: boolean;
  /** Bias on the attention output projection (GPT-2, Llama attention_bias; not Qwen2). */
  oBias: boolean;
  /** Biases on the MLP projections (GPT-2; Llama mlp_bias). */
  mlpBias: boolean;
  /** The LM head reuses the token embedding; no separate `lm_head.weight`. */
  tieWordEmbeddings: boolean;
  initializerRange: number;
  /** Attention window (Mistral), or null for full causal attention. */
  slidingWindow: number | null;
  /** GPT-2: divide scores by sqrt(head_dim) (true) and additionally by layer index + 1. */
  scaleAttnWeights: boolean;
  scaleAttnByInverseLayerIdx: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
}
