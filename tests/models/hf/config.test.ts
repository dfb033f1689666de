import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../../src/errors.js";
import { normalizeConfig } from "../../../src/models/hf/config.js";

function rejects(raw: unknown, pattern: RegExp): void {
  assert.throws(
    () => normalizeConfig(raw, "cfg.json"),
    (e: unknown) => e instanceof UserError && pattern.test(e.message),
  );
}

test("GPT-2: HF defaults fill missing fields (GPT2Config)", () => {
  const n = normalizeConfig({ architectures: ["GPT2LMHeadModel"] });
  assert.equal(n.arch, "gpt2");
  assert.equal(n.architecture, "GPT2LMHeadModel");
  assert.deepEqual(
    [n.hiddenSize, n.numLayers, n.numHeads, n.numKvHeads, n.headDim, n.intermediateSize, n.vocabSize, n.maxPositions],
    [768, 12, 12, 12, 64, 3072, 50257, 1024],
  );
  assert.equal(n.normEps, 1e-5);
  assert.equal(n.normKind, "layernorm");
  assert.equal(n.activation, "gelu_new");
  assert.equal(n.rope, null);
  assert.equal(n.tieWordEmbeddings, true);
  assert.deepEqual([n.qkvBias, n.oBias, n.mlpBias], [true, true, true]);
  assert.equal(n.initializerRange, 0.02);
  assert.deepEqual([n.bosTokenId, n.eosTokenIds, n.padTokenId], [50256, [50256], null]);
});

test("GPT-2: explicit fields win; n_inner null means 4·n_embd; gelu_pytorch_tanh is gelu_new", () => {
  const n = normalizeConfig({
    model_type: "gpt2",
    n_embd: 32,
    n_layer: 3,
    n_head: 4,
    n_positions: 64,
    vocab_size: 100,
    n_inner: null,
    activation_function: "gelu_pytorch_tanh",
    layer_norm_epsilon: 1e-6,
    tie_word_embeddings: false,
  });
  assert.deepEqual([n.hiddenSize, n.numLayers, n.headDim, n.intermediateSize, n.vocabSize, n.maxPositions], [32, 3, 8, 128, 100, 64]);
  assert.equal(n.activation, "gelu_new");
  assert.equal(n.normEps, 1e-6);
  assert.equal(n.tieWordEmbeddings, false);
});

test("Llama (TinyLlama/SmolLM-style): GQA, head_dim, untied by default, silu, RoPE theta", () => {
  const n = normalizeConfig({
    architectures: ["LlamaForCausalLM"],
    hidden_size: 2048,
    intermediate_size: 5632,
    num_hidden_layers: 22,
    num_attention_heads: 32,
    num_key_value_heads: 4,
    rms_norm_eps: 1e-5,
    vocab_size: 32000,
    max_position_embeddings: 2048,
  });
  assert.equal(n.arch, "llama");
  assert.equal(n.modelType, "llama");
  assert.deepEqual([n.numHeads, n.numKvHeads, n.headDim], [32, 4, 64]);
  assert.equal(n.normKind, "rmsnorm");
  assert.equal(n.activation, "silu");
  assert.deepEqual(n.rope, { theta: 10000, scaling: null });
  assert.equal(n.tieWordEmbeddings, false);
  assert.deepEqual([n.qkvBias, n.oBias, n.mlpBias], [false, false, false]);
  assert.deepEqual([n.bosTokenId, n.eosTokenIds], [1, [2]]);
  assert.equal(n.slidingWindow, null);
});

test("Llama defaults (LlamaConfig): kv heads = heads, 2048 positions, rms eps 1e-6", () => {
  const n = normalizeConfig({ model_type: "llama" });
  assert.deepEqual(
    [n.hiddenSize, n.intermediateSize, n.numLayers, n.numHeads, n.numKvHeads, n.headDim, n.vocabSize, n.maxPositions, n.normEps],
    [4096, 11008, 32, 32, 32, 128, 32000, 2048, 1e-6],
  );
});

test("Llama 3 RoPE scaling and attention/mlp biases are read", () => {
  const n = normalizeConfig({
    architectures: ["LlamaForCausalLM"],
    hidden_size: 64,
    num_attention_heads: 4,
    head_dim: 32,
    attention_bias: true,
    mlp_bias: true,
    rope_theta: 500000,
    eos_token_id: [128001, 128009],
    rope_scaling: { rope_type: "llama3", factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  });
  assert.equal(n.headDim, 32); // explicit head_dim wins over hidden/heads
  assert.deepEqual(n.rope, {
    theta: 500000,
    scaling: { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
  });
  assert.deepEqual([n.qkvBias, n.oBias, n.mlpBias], [true, true, true]);
  assert.deepEqual(n.eosTokenIds, [128001, 128009]);
});

test("transformers v5 rope_parameters and the older {type: linear} spelling", () => {
  const v5 = normalizeConfig({ model_type: "llama", rope_parameters: { rope_type: "default", rope_theta: 1e6 } });
  assert.deepEqual(v5.rope, { theta: 1e6, scaling: null });
  const linear = normalizeConfig({ model_type: "llama", rope_scaling: { type: "linear", factor: 2 } });
  assert.deepEqual(linear.rope, { theta: 10000, scaling: { type: "linear", factor: 2 } });
  rejects({ model_type: "llama", rope_scaling: { rope_type: "yarn", factor: 4 } }, /rope_scaling: unsupported RoPE type "yarn"/);
  rejects({ model_type: "llama", rope_scaling: { rope_type: "llama3", factor: 8 } }, /rope_scaling\.low_freq_factor: is required/);
});

test("Qwen2: q/k/v biases without o bias; sliding window only when enabled; its defaults", () => {
  const n = normalizeConfig({
    architectures: ["Qwen2ForCausalLM"],
    hidden_size: 896,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    tie_word_embeddings: true,
    rope_theta: 1e6,
    sliding_window: 32768,
  });
  assert.equal(n.modelType, "qwen2");
  assert.deepEqual([n.qkvBias, n.oBias, n.mlpBias], [true, false, false]);
  assert.equal(n.headDim, 64);
  assert.equal(n.slidingWindow, null);
  assert.equal(n.tieWordEmbeddings, true);
  const d = normalizeConfig({ model_type: "qwen2", use_sliding_window: true });
  assert.deepEqual([d.vocabSize, d.intermediateSize, d.numKvHeads, d.maxPositions, d.slidingWindow], [151936, 22016, 32, 32768, 4096]);
  assert.deepEqual([d.bosTokenId, d.eosTokenIds], [null, []]);
});

test("Mistral: 8 KV heads and a 4096 sliding window by default; null disables it", () => {
  const n = normalizeConfig({ architectures: ["MistralForCausalLM"] });
  assert.deepEqual([n.numKvHeads, n.intermediateSize, n.maxPositions, n.slidingWindow], [8, 14336, 131072, 4096]);
  assert.equal(normalizeConfig({ model_type: "mistral", sliding_window: null }).slidingWindow, null);
});

test("unknown architecture or model type: UserError naming it and listing the supported ones", () => {
  rejects(
    { architectures: ["BertForMaskedLM"], model_type: "bert" },
    /cfg\.json: unsupported architecture "BertForMaskedLM" \(supported: GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM\)/,
  );
  rejects(
    { architectures: ["GPT2ForSequenceClassification"], model_type: "gpt2" },
    /unsupported architecture "GPT2ForSequenceClassification"/,
  );
  rejects({ model_type: "t5" }, /model_type is "t5".*supported architectures: GPT2LMHeadModel/);
  rejects([], /must be a JSON object/);
});

test("bad field values are named", () => {
  rejects({ model_type: "gpt2", n_embd: 30, n_head: 4 }, /n_embd: 30 is not a multiple of n_head 4/);
  rejects({ model_type: "gpt2", n_layer: "2" }, /n_layer: must be a positive integer \(got "2"\)/);
  rejects(
    { model_type: "llama", num_attention_heads: 6, num_key_value_heads: 4 },
    /num_key_value_heads: 4 does not divide num_attention_heads 6/,
  );
  rejects({ model_type: "llama", hidden_act: "mish" }, /hidden_act: unsupported activation "mish"/);
  rejects({ model_type: "llama", rms_norm_eps: 0 }, /rms_norm_eps: must be a positive number/);
  rejects({ model_type: "llama", tie_word_embeddings: "yes" }, /tie_word_embeddings: must be true or false/);
});
