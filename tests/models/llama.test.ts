import assert from "node:assert/strict";
import { test } from "node:test";
import { createRopeTable } from "../../src/autodiff/ops/rope.js";
import { normalizeConfig } from "../../src/models/hf/config.js";
import { LlamaModel } from "../../src/models/llama/model.js";
import { llamaRopeTable } from "../../src/models/llama/rope-table.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";
import { flatBatch, loadGolden } from "./parity-golden.js";
import { untiedCopy, variantFolder } from "./parity-variants.js";
import { refBackend } from "../../src/kernels/ref/index.js";

test("the registry maps LlamaForCausalLM and Qwen2ForCausalLM to LlamaModel", () => {
  for (const name of ["llama-tiny", "qwen2-tiny"])
    assert.ok(loadCausalLM(fixture("models", name), { backend: refBackend }) instanceof LlamaModel, name);
});

test("Qwen2 with an untied head equal to its embedding gives the same logits", () => {
  const batch = flatBatch(loadGolden("qwen2-tiny").batch);
  const tied = loadCausalLM(fixture("models", "qwen2-tiny"), { backend: refBackend });
  const untied = loadCausalLM(untiedCopy("qwen2-tiny", "model.embed_tokens.weight"), { backend: refBackend });
  assert.deepEqual(untied.logits(batch), tied.logits(batch));
});

test("linear rope scaling: position 2p with factor 2 has the angles of position p", () => {
  const base = {
    model_type: "llama",
    hidden_size: 32,
    num_attention_heads: 4,
    intermediate_size: 64,
    num_hidden_layers: 1,
    vocab_size: 16,
    max_position_embeddings: 32,
  };
  const plain = llamaRopeTable(normalizeConfig(base, "config.json"));
  const linear = llamaRopeTable(normalizeConfig({ ...base, rope_scaling: { rope_type: "linear", factor: 2 } }, "config.json"));
  const half = 4;
  for (let p = 0; p < 16; p++) {
    for (let i = 0; i < half; i++) {
      assert.equal(linear.cos[2 * p * half + i], plain.cos[p * half + i]);
      assert.equal(linear.sin[2 * p * half + i], plain.sin[p * half + i]);
    }
  }
  assert.notDeepEqual(linear.cos, plain.cos);
  // llama3 scaling goes through the autodiff rope module unchanged.
  const l3 = { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } as const;
  const viaConfig = llamaRopeTable(normalizeConfig({ ...base, rope_scaling: l3 }, "config.json"));
  assert.deepEqual(viaConfig.invFreq, createRopeTable({ headDim: 8, theta: 10000, maxPositions: 32, scaling: l3 }).invFreq);
});

test("Mistral's sliding window is accepted until a sequence is longer than it", () => {
  const dir = variantFolder("llama-tiny", (c) => {
    c.model_type = "mistral";
    c.architectures = ["MistralForCausalLM"];
    c.sliding_window = 8;
    delete c.rope_scaling;
  });
  const model = loadCausalLM(dir, { backend: refBackend });
  const ok = { rows: 1, seqLen: 8, input_ids: new Int32Array(8).fill(5), attention_mask: new Uint8Array(8).fill(1) };
  assert.equal(model.logits(ok).length, 8 * 64);
  const long = { ...ok, seqLen: 9, input_ids: new Int32Array(9).fill(5), attention_mask: new Uint8Array(9).fill(1) };
  assert.throws(() => model.logits(long), /exceed sliding_window 8/);
});

test("positions beyond max_position_embeddings are a user error", () => {
  const model = loadCausalLM(fixture("models", "llama-tiny"), { backend: refBackend });
  const T = 129;
  assert.throws(
    () => model.logits({ rows: 1, seqLen: T, input_ids: new Int32Array(T), attention_mask: new Uint8Array(T).fill(1) }),
    /exceed max_position_embeddings 128/,
  );
});
