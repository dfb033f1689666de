import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeConfig } from "../../../src/models/hf/config.js";
import { ParamStore } from "../../../src/models/hf/param-store.js";
import { weightLayout } from "../../../src/models/hf/param-specs.js";

test("one arena, named views in order, no copies", () => {
  const allocated: number[] = [];
  const store = ParamStore.create(
    [
      { name: "a", shape: [2, 3] },
      { name: "b", shape: [4] },
      { name: "s", shape: [] },
    ],
    (n) => {
      allocated.push(n);
      return new Float32Array(n);
    },
  );
  assert.deepEqual(allocated, [11]);
  assert.equal(store.size, 11);
  assert.deepEqual(store.names(), ["a", "b", "s"]);
  assert.deepEqual([store.offset("a"), store.offset("b"), store.offset("s")], [0, 6, 10]);
  assert.deepEqual(store.shape("a"), [2, 3]);
  store.view("b").fill(7);
  assert.deepEqual([...store.data], [0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 0]);
  assert.equal(store.view("b").buffer, store.data.buffer);
  assert.throws(() => store.view("nope"), /no parameter named "nope"/);
});

test("the gradient store mirrors the layout, zero-filled, in its own arena", () => {
  const store = ParamStore.create([
    { name: "a", shape: [3] },
    { name: "b", shape: [2] },
  ]);
  store.data.fill(1);
  const g = store.createGradStore();
  assert.ok(g.sameLayout(store));
  assert.notEqual(g.data.buffer, store.data.buffer);
  assert.deepEqual([...g.data], [0, 0, 0, 0, 0]);
  assert.equal(g.offset("b"), store.offset("b"));
  g.copyFrom(store);
  assert.deepEqual([...g.data], [1, 1, 1, 1, 1]);
  const other = ParamStore.create([{ name: "a", shape: [5] }]);
  assert.equal(other.sameLayout(store), false);
  assert.throws(() => other.copyFrom(store), /different layouts/);
});

test("duplicate names, bad shapes and a wrong-sized alloc are rejected", () => {
  assert.throws(
    () =>
      ParamStore.create([
        { name: "a", shape: [1] },
        { name: "a", shape: [1] },
      ]),
    /listed twice/,
  );
  assert.throws(() => ParamStore.create([{ name: "a", shape: [1.5] }]), /invalid shape/);
  assert.throws(() => ParamStore.create([{ name: "a", shape: [4] }], () => new Float32Array(3)), /alloc\(4\) returned 3/);
});

test("GPT-2 layout: HF names, Conv1D [in, out] shapes, no lm_head when tied", () => {
  const n = normalizeConfig({ model_type: "gpt2", n_embd: 8, n_layer: 2, n_head: 2, n_positions: 16, vocab_size: 10 });
  const specs = weightLayout(n).specs;
  assert.equal(specs.length, 2 + 12 * 2 + 2);
  const byName = new Map(specs.map((s) => [s.name, s.shape]));
  assert.deepEqual(byName.get("transformer.wte.weight"), [10, 8]);
  assert.deepEqual(byName.get("transformer.wpe.weight"), [16, 8]);
  assert.deepEqual(byName.get("transformer.h.1.attn.c_attn.weight"), [8, 24]);
  assert.deepEqual(byName.get("transformer.h.1.mlp.c_fc.weight"), [8, 32]);
  assert.deepEqual(byName.get("transformer.h.1.mlp.c_proj.weight"), [32, 8]);
  assert.equal(byName.has("lm_head.weight"), false);
  const untied = weightLayout(
    normalizeConfig({ model_type: "gpt2", n_embd: 8, n_layer: 1, n_head: 2, vocab_size: 10, tie_word_embeddings: false }),
  );
  assert.deepEqual(untied.specs.at(-1), { name: "lm_head.weight", shape: [10, 8] });
});

test("Llama/Qwen2 layouts: Linear [out, in] shapes with GQA, Qwen2 q/k/v biases only", () => {
  const base = {
    hidden_size: 16,
    intermediate_size: 40,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 12,
  };
  const llama = new Map(weightLayout(normalizeConfig({ model_type: "llama", ...base })).specs.map((s) => [s.name, s.shape]));
  assert.deepEqual(llama.get("model.layers.0.self_attn.q_proj.weight"), [16, 16]);
  assert.deepEqual(llama.get("model.layers.0.self_attn.k_proj.weight"), [8, 16]);
  assert.deepEqual(llama.get("model.layers.0.self_attn.o_proj.weight"), [16, 16]);
  assert.deepEqual(llama.get("model.layers.0.mlp.down_proj.weight"), [16, 40]);
  assert.deepEqual(llama.get("lm_head.weight"), [12, 16]);
  assert.equal(llama.size, 1 + 9 + 1 + 1);
  const qwen = new Map(weightLayout(normalizeConfig({ model_type: "qwen2", ...base })).specs.map((s) => [s.name, s.shape]));
  assert.deepEqual(qwen.get("model.layers.0.self_attn.k_proj.bias"), [8]);
  assert.equal(qwen.has("model.layers.0.self_attn.o_proj.bias"), false);
  assert.equal(qwen.has("model.layers.0.mlp.up_proj.bias"), false);
});
