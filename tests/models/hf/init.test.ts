import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeConfig } from "../../../src/models/hf/config.js";
import { initParams } from "../../../src/models/hf/init.js";
import { ParamStore } from "../../../src/models/hf/param-store.js";
import { weightLayout } from "../../../src/models/hf/param-specs.js";
import { Xoshiro128 } from "../../../src/models/hf/prng.js";
import { TINY_LLAMA } from "./helpers.js";

test("xoshiro128** with splitmix32 seeding matches the independent Python port", () => {
  // Values from a plain-Python transcription of the published algorithm (see the report).
  const r = new Xoshiro128(42);
  assert.deepEqual(
    [...Array(6)].map(() => r.nextUint32()),
    [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290],
  );
  const z = new Xoshiro128(0);
  assert.deepEqual(
    [...Array(3)].map(() => z.nextUint32()),
    [3809008728, 1133695204, 53579671],
  );
  assert.throws(() => new Xoshiro128(-1), RangeError);
  assert.throws(() => new Xoshiro128(2 ** 32), RangeError);
});

test("normal samples have mean 0 and variance 1", () => {
  const r = new Xoshiro128(7);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = r.nextNormal();
    s += x;
    s2 += x * x;
  }
  assert.ok(Math.abs(s / n) < 0.01, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.01, `variance ${s2 / n}`);
});

function stats(v: Float32Array): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean) };
}

function initialised(config: object, seed: number): ParamStore {
  const n = normalizeConfig(config);
  const store = ParamStore.create(weightLayout(n).specs);
  initParams(n, store, seed);
  return store;
}

test("GPT-2 init follows HF: N(0, 0.02) weights, c_proj scaled by 1/sqrt(2·n_layer), zero biases, unit LayerNorm", () => {
  const cfg = { model_type: "gpt2", n_embd: 64, n_layer: 8, n_head: 4, n_positions: 64, vocab_size: 500, initializer_range: 0.05 };
  const s = initialised(cfg, 3);
  const wte = stats(s.view("transformer.wte.weight"));
  assert.ok(Math.abs(wte.std - 0.05) < 0.002, `wte std ${wte.std}`);
  assert.ok(Math.abs(wte.mean) < 0.002);
  for (const name of ["transformer.h.3.attn.c_proj.weight", "transformer.h.3.mlp.c_proj.weight"]) {
    const st = stats(s.view(name));
    assert.ok(Math.abs(st.std - 0.05 / 4) < 0.001, `${name} std ${st.std}`); // sqrt(2·8) = 4
  }
  const fc = stats(s.view("transformer.h.3.mlp.c_fc.weight"));
  assert.ok(Math.abs(fc.std - 0.05) < 0.002, `c_fc std ${fc.std}`);
  assert.ok(s.view("transformer.h.0.attn.c_attn.bias").every((x) => x === 0));
  assert.ok(s.view("transformer.h.0.ln_1.weight").every((x) => x === 1));
  assert.ok(s.view("transformer.ln_f.bias").every((x) => x === 0));
});

test("Llama init: N(0, 0.02) weights, unit RMSNorm, the pad token's embedding row is zero", () => {
  const s = initialised(
    {
      ...TINY_LLAMA,
      hidden_size: 64,
      intermediate_size: 128,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      vocab_size: 300,
      pad_token_id: 5,
    },
    3,
  );
  const emb = s.view("model.embed_tokens.weight");
  assert.ok(emb.subarray(5 * 64, 6 * 64).every((x) => x === 0));
  assert.ok(emb.subarray(4 * 64, 5 * 64).some((x) => x !== 0));
  const q = stats(s.view("model.layers.0.self_attn.q_proj.weight"));
  assert.ok(Math.abs(q.std - 0.02) < 0.001, `q std ${q.std}`);
  const down = stats(s.view("model.layers.1.mlp.down_proj.weight"));
  assert.ok(Math.abs(down.std - 0.02) < 0.001, `down std ${down.std}`); // no residual scaling for Llama
  assert.ok(s.view("model.norm.weight").every((x) => x === 1));
  assert.ok(s.view("model.layers.1.post_attention_layernorm.weight").every((x) => x === 1));
  const qwen = initialised(
    {
      model_type: "qwen2",
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      vocab_size: 20,
    },
    1,
  );
  assert.ok(qwen.view("model.layers.0.self_attn.k_proj.bias").every((x) => x === 0));
});

test("the same seed gives identical bytes; another seed does not", () => {
  const a = initialised(TINY_LLAMA, 11);
  const b = initialised(TINY_LLAMA, 11);
  const c = initialised(TINY_LLAMA, 12);
  assert.deepEqual(new Uint32Array(a.data.buffer), new Uint32Array(b.data.buffer));
  assert.notDeepEqual(new Uint32Array(a.data.buffer), new Uint32Array(c.data.buffer));
});
