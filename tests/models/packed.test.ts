/**
 * The packed layouts (no compute on padding) give the plain layout's
 * numbers: the same token log-probs and the same parameter gradients, on
 * every fixture model, for a batch of very unequal rows, queries with
 * different k and long queries, the golden batch (with its all-padding
 * row) and masks with holes (official compat mode).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ForwardOptions } from "../../src/models/causal-lm.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";
import { assertSameNumbers, runLayout, unequalBatch, type Batch } from "./packed-batch.js";
import { assertClose, flatBatch, goldenTensor, loadGolden } from "./parity-golden.js";
import { refBackend } from "../../src/kernels/ref/index.js";

const MODELS = ["gpt2-tiny", "llama-tiny", "qwen2-tiny"] as const;
const PACKED: NonNullable<ForwardOptions["layout"]>[] = ["packed", "packed-shared-prefix"];

for (const name of MODELS) {
  describe(`packed layouts equal plain: ${name}`, () => {
    const model = loadCausalLM(fixture("models", name), { backend: refBackend, trainable: true });
    const V = model.config.vocabSize;
    // Long queries (14, 20 tokens) with short answers, a one-token query, k = 3, 2, 4, 2;
    // answers of 1..9 tokens; two padding positions past the longest row and an all-padding row.
    const batch = unequalBatch([[14, [2, 9, 1]], [1, [5, 2]], [6, [1, 3, 8, 2]], [20, [3, 1]]], V, { paddingRows: 1 });
    const plain = runLayout(model, batch, {});

    for (const layout of PACKED) {
      test(`${layout}: same log-probs and gradients on a batch of very unequal rows`, () => {
        const packed = runLayout(model, batch, { layout });
        assertSameNumbers(packed.logps, plain.logps, "logps");
        assertSameNumbers(packed.grads, plain.grads, "grads");
      });

      test(`${layout}: a mask with holes (pad == eos masked, a query token masked) gives the plain numbers`, () => {
        const holes: Batch = { ...batch, attention_mask: Uint8Array.from(batch.attention_mask) };
        const T = holes.seqLen;
        for (let i = 0; i < holes.rows * T; i++) if (holes.input_ids[i] === 0) holes.attention_mask[i] = 0;
        for (let r = 0; r < 3; r++) holes.attention_mask[r * T + 2] = 0; // inside query 0, shared by its 3 rows
        const a = runLayout(model, holes, {});
        const b = runLayout(model, holes, { layout });
        assertSameNumbers(b.logps, a.logps, "logps");
        assertSameNumbers(b.grads, a.grads, "grads");
        // The holes must matter, or this test would prove nothing.
        assert.ok(a.logps.some((v, i) => Math.abs(v - plain.logps[i]) > 1e-4), "holes changed nothing");
      });

      test(`${layout}: LM head chunking and grad: false change nothing`, () => {
        const chunked = runLayout(model, batch, { layout, headChunk: 3 });
        assertSameNumbers(chunked.logps, plain.logps, "logps");
        assertSameNumbers(chunked.grads, plain.grads, "grads");
        const pass = model.forward(batch, { layout, grad: false });
        assertSameNumbers(Float32Array.from(pass.tokenLogps), plain.logps, "no-grad logps");
        assert.throws(() => pass.backward(new Float32Array(batch.rows * batch.seqLen)), /grad: false/);
        pass.release();
      });
    }

    test("golden batch: packed layouts match PyTorch's token log-probs and the plain gradients", () => {
      const golden = loadGolden(name);
      const b = flatBatch(golden.batch);
      const base = runLayout(model, b, {});
      for (const layout of PACKED) {
        const packed = runLayout(model, b, { layout });
        assertClose(packed.logps, goldenTensor(golden, "token_logps").data, `${layout} token_logps vs PyTorch`);
        assertSameNumbers(packed.logps, base.logps, `${layout} logps`);
        assertSameNumbers(packed.grads, base.grads, `${layout} grads`);
      }
    });
  });
}

test("packed: rows whose total length exceeds the position table still work (positions are per row)", () => {
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  assert.equal(model.config.maxPositions, 64);
  // 6 rows of 30 real tokens: 180 packed tokens, each row within n_positions = 64.
  const batch = unequalBatch([[20, [10, 10, 10]], [25, [5, 5, 5]]], model.config.vocabSize, { extraPad: 0 });
  const plain = runLayout(model, batch, {});
  const packed = runLayout(model, batch, { layout: "packed" });
  assertSameNumbers(packed.logps, plain.logps, "logps");
  assertSameNumbers(packed.grads, plain.grads, "grads");
});

test("packed-shared-prefix needs rowQuery; a batch with nothing scored gives zeros", () => {
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  const { rowQuery, ...batch } = unequalBatch([[3, [2, 2]]], model.config.vocabSize);
  void rowQuery;
  assert.throws(() => model.forward(batch, { layout: "packed-shared-prefix" }), /rowQuery/);
  const unscored = { ...batch, labels: new Int32Array(batch.rows * batch.seqLen).fill(-100) };
  const pass = model.forward(unscored, { layout: "packed" });
  assert.ok(pass.tokenLogps.every((v) => v === 0));
  pass.backward(new Float32Array(batch.rows * batch.seqLen));
  pass.release();
});
