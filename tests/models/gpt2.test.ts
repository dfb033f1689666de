import assert from "node:assert/strict";
import { test } from "node:test";
import type { CausalLM } from "../../src/models/causal-lm.js";
import { Gpt2Model } from "../../src/models/gpt2/model.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";
import { buildQueryBatch } from "../../src/tokenize/batch.js";
import { flatBatch, goldenQueryBatch, loadGolden } from "./parity-golden.js";
import { untiedCopy, variantFolder } from "./parity-variants.js";
import { refBackend } from "../../src/kernels/ref/index.js";

const golden = loadGolden("gpt2-tiny");
const batch = goldenQueryBatch(golden.batch);
const padded = flatBatch(golden.batch);

function gradsOf(model: CausalLM, seed = 1): Map<string, Float32Array> {
  assert.ok(model.grads);
  model.grads.data.fill(0);
  const pass = model.forward(batch);
  pass.backward(Float32Array.from(pass.tokenLogps, (_, i) => (((i + seed) * 31) % 7) / 7 - 0.5));
  pass.release();
  const out = new Map<string, Float32Array>();
  for (const n of model.params.names()) out.set(n, Float32Array.from(model.grads.view(n)));
  return out;
}

test("the registry maps GPT2LMHeadModel to Gpt2Model", () => {
  assert.ok(loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend }) instanceof Gpt2Model);
});

test("an untied head equal to wte gives the same logits, and the tied gradient is the sum of both", () => {
  const tied = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  const untied = loadCausalLM(untiedCopy("gpt2-tiny", "transformer.wte.weight"), { backend: refBackend, trainable: true });
  assert.ok(untied.params.has("lm_head.weight") && !tied.params.has("lm_head.weight"));
  assert.deepEqual(untied.logits(padded), tied.logits(padded));
  const gt = gradsOf(tied);
  const gu = gradsOf(untied);
  const wte = gt.get("transformer.wte.weight");
  const a = gu.get("transformer.wte.weight");
  const b = gu.get("lm_head.weight");
  assert.ok(wte && a && b);
  assert.ok(b.some((x) => x !== 0) && a.some((x) => x !== 0));
  for (let i = 0; i < wte.length; i++) assert.ok(Math.abs(wte[i] - (a[i] + b[i])) <= 1e-5, `wte grad ${i}`);
});

test("gradients accumulate across passes until zeroed", () => {
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  const once = gradsOf(model);
  assert.ok(model.grads);
  model.grads.data.fill(0);
  for (let step = 0; step < 2; step++) {
    const pass = model.forward(batch);
    pass.backward(Float32Array.from(pass.tokenLogps, (_, i) => (((i + 1) * 31) % 7) / 7 - 0.5));
    pass.release();
  }
  const name = "transformer.h.1.mlp.c_fc.weight";
  const g1 = once.get(name);
  assert.ok(g1);
  model.grads.view(name).forEach((v, i) => assert.ok(Math.abs(v - 2 * g1[i]) <= 1e-5 * (1 + Math.abs(v)), `${name}[${i}]`));
});

test("a frozen model runs without gradients and refuses backward", () => {
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend });
  assert.equal(model.grads, null);
  assert.throws(() => model.forward(batch), /frozen/);
  const pass = model.forward(batch, { grad: false });
  assert.throws(() => pass.backward(new Float32Array(pass.tokenLogps.length)), /grad: false/);
  pass.release();
});

test("inputs the model cannot take are user errors", () => {
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend });
  const badId = { ...batch, responseIds: Int32Array.from(batch.responseIds, (v, i) => (i === 5 ? 64 : v)) };
  assert.throws(() => model.forward(badId, { grad: false }), /responseIds\[5\] = 64 is outside the vocabulary/);
  // n_positions is 64: a 60-token query and a 5-token response make a row of 65.
  const long = buildQueryBatch([{ queryIds: new Array<number>(60).fill(1), responses: [{ ids: [1, 2, 3, 4, 5], score: 0 }] }], {
    padTokenId: 0,
  });
  assert.throws(() => model.forward(long, { grad: false }), /exceed n_positions 64/);
  assert.throws(
    () => model.logits({ ...padded, input_ids: Int32Array.from(padded.input_ids, (v, i) => (i === 5 ? 64 : v)) }),
    /input_ids\[5\] = 64/,
  );
});

test("an unsupported activation is refused when the model is built", () => {
  const dir = variantFolder("gpt2-tiny", (c) => {
    c.activation_function = "relu";
  });
  assert.throws(() => loadCausalLM(dir, { backend: refBackend }), /activation_function relu is not supported/);
});
