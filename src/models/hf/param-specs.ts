import type { NormalizedConfig } from "./config-types.js";

/** One parameter tensor: its Hugging Face name and shape, exactly as in the checkpoint. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/**
 * Which tensors a checkpoint of one architecture holds. Layouts stay as HF
 * stores them: GPT-2's Conv1D weights are [in, out]; Llama-family Linear
 * weights are [out, in] (model code picks the sgemm transpose flag).
 */
export interface WeightLayout {
  /** Every parameter, in HF's module order; the arena follows this order. */
  specs: ParamSpec[];
  /** The base-model prefix ("transformer." / "model."), absent from checkpoints saved from the bare base model. */
  basePrefix: string;
  /** Non-parameter buffers some checkpoints contain; accepted and dropped by name. */
  ignoredBuffers: RegExp[];
  /** The token embedding (the LM head's weight when tied). */
  embedding: string;
  /** `lm_head.weight`: a parameter when untied; when tied the checkpoint may still carry a copy. */
  lmHead: string;
}

export const LM_HEAD = "lm_head.weight";

/** The `*ForSequenceClassification` head: a bias-free Linear [num_labels, hidden], outside the base model. */
export const SCORE_HEAD = "score.weight";

/** The head's parameters after the body's: an untied LM head, or a reward model's score head (no LM head at all). */
function headSpecs(n: NormalizedConfig): ParamSpec[] {
  if (n.task === "sequence-classification") return [{ name: SCORE_HEAD, shape: [n.numLabels, n.hiddenSize] }];
  return n.tieWordEmbeddings ? [] : [{ name: LM_HEAD, shape: [n.vocabSize, n.hiddenSize] }];
}

function gpt2Layout(n: NormalizedConfig): WeightLayout {
  const C = n.hiddenSize;
  const I = n.intermediateSize;
  const specs: ParamSpec[] = [
    { name: "transformer.wte.weight", shape: [n.vocabSize, C] },
    { name: "transformer.wpe.weight", shape: [n.maxPositions, C] },
  ];
  for (let i = 0; i < n.numLayers; i++) {
    const p = `transformer.h.${i}.`;
    specs.push(
      { name: `${p}ln_1.weight`, shape: [C] },
      { name: `${p}ln_1.bias`, shape: [C] },
      { name: `${p}attn.c_attn.weight`, shape: [C, 3 * C] }, // Conv1D: [in, out]
      { name: `${p}attn.c_attn.bias`, shape: [3 * C] },
      { name: `${p}attn.c_proj.weight`, shape: [C, C] },
      { name: `${p}attn.c_proj.bias`, shape: [C] },
      { name: `${p}ln_2.weight`, shape: [C] },
      { name: `${p}ln_2.bias`, shape: [C] },
      { name: `${p}mlp.c_fc.weight`, shape: [C, I] },
      { name: `${p}mlp.c_fc.bias`, shape: [I] },
      { name: `${p}mlp.c_proj.weight`, shape: [I, C] },
      { name: `${p}mlp.c_proj.bias`, shape: [C] },
    );
  }
  specs.push({ name: "transformer.ln_f.weight", shape: [C] }, { name: "transformer.ln_f.bias", shape: [C] }, ...headSpecs(n));
  return {
    specs,
    basePrefix: "transformer.",
    // The causal-mask buffers older GPT-2 checkpoints saved (`attn.bias` is a
    // [1, 1, P, P] lower-triangular mask, `attn.masked_bias` a scalar -1e4).
    ignoredBuffers: [/^transformer\.h\.\d+\.attn\.bias$/, /^transformer\.h\.\d+\.attn\.masked_bias$/],
    embedding: "transformer.wte.weight",
    lmHead: LM_HEAD,
  };
}

function llamaLayout(n: NormalizedConfig): WeightLayout {
  const H = n.hiddenSize;
  const I = n.intermediateSize;
  const q = n.numHeads * n.headDim;
  const kv = n.numKvHeads * n.headDim;
  const specs: ParamSpec[] = [{ name: "model.embed_tokens.weight", shape: [n.vocabSize, H] }];
  for (let i = 0; i < n.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const linear = (name: string, out: number, inp: number, bias: boolean): void => {
      specs.push({ name: `${p}${name}.weight`, shape: [out, inp] }); // Linear: [out, in]
      if (bias) specs.push({ name: `${p}${name}.bias`, shape: [out] });
    };
    linear("self_attn.q_proj", q, H, n.qkvBias);
    linear("self_attn.k_proj", kv, H, n.qkvBias);
    linear("self_attn.v_proj", kv, H, n.qkvBias);
    linear("self_attn.o_proj", H, q, n.oBias);
    linear("mlp.gate_proj", I, H, n.mlpBias);
    linear("mlp.up_proj", I, H, n.mlpBias);
    linear("mlp.down_proj", H, I, n.mlpBias);
    specs.push({ name: `${p}input_layernorm.weight`, shape: [H] }, { name: `${p}post_attention_layernorm.weight`, shape: [H] });
  }
  specs.push({ name: "model.norm.weight", shape: [H] }, ...headSpecs(n));
  return {
    specs,
    basePrefix: "model.",
    // Older transformers saved the RoPE inverse frequencies as a buffer.
    ignoredBuffers: [/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/],
    embedding: "model.embed_tokens.weight",
    lmHead: LM_HEAD,
  };
}

/**
 * The checkpoint layout for a normalised config.
 *
 * @example
 * weightLayout(normalizeConfig({ model_type: "gpt2", n_layer: 1 })).specs[0];
 * // { name: "transformer.wte.weight", shape: [50257, 768] }
 */
export function weightLayout(n: NormalizedConfig): WeightLayout {
  return n.arch === "gpt2" ? gpt2Layout(n) : llamaLayout(n);
}
