/**
 * The packed layouts (no compute on padding) give the plain layout's
 * numbers: the same token log-probs and the same parameter gradients, on
 * every fixture model, for a batch of very unequal rows, queries with
 * different k and long queries, the golden batch and masks with holes
 * (official compat mode).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ForwardOptions } from "../../src/models/causal-lm.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";
import { buildQueryBatch } from "../../src/tokenize/batch.js";
import { assertSameNumbers, runLayout, unequalBatch, withHoles } from "./packed-batch.js";
import { assertClose, goldenQueryBatch, goldenTensor, loadGolden, paddedLogps } from "./parity-golden.js";
import { refBackend } from "../../src/kernels/ref/index.js";

const MODELS = ["gpt2-tiny", "llama-tiny", "qwen2-tiny"] as const;
const PACKED: NonNullable<ForwardOptions["layout"]>[] = ["packed", "packed-shared-prefix"];

for (const name of MODELS) {
  describe(`packed layouts equal plain: ${name}`, () => {
    const model = loadCausalLM(fixture("models", name), { backend: refBackend, trainable: true });
    const V = model.config.vocabSize;
    // Long queries (14, 20 tokens) with short answers, a one-token query, k = 3, 2, 4, 2;
    // answers of 1..9 tokens; two padding positions past the longest row.
    const batch = unequalBatch(
      [
        [14, [2, 9, 1]],
        [1, [5, 2]],
        [6, [1, 3, 8, 2]],
        [20, [3, 1]],
      ],
      V,
    );
    const plain = runLayout(model, batch, {});

    for (const layout of PACKED) {
      test(`${layout}: same log-probs and gradients on a batch of very unequal rows`, () => {
        const packed = runLayout(model, batch, { layout });
        assertSameNumbers(packed.logps, plain.logps, "logps");
        assertSameNumbers(packed.grads, plain.grads, "grads");
      });

      test(`${layout}: a mask with holes (pad == eos masked, a query token masked) gives the plain numbers`, () => {
        const holes = withHoles(batch);
        const a = runLayout(model, holes, {});
        const b = runLayout(model, holes, { layout });
        assertSameNumbers(b.logps, a.logps, "logps");
        assertSameNumbers(b.grads, a.grads, "grads");
        // The holes must matter, or this test would prove nothing.
        assert.ok(
          a.logps.some((v, i) => Math.abs(v - plain.logps[i]) > 1e-4),
          "holes changed nothing",
        );
      });

      test(`${layout}: LM head chunking and grad: false change nothing`, () => {
        const chunked = runLayout(model, batch, { layout, headChunk: 3 });
        assertSameNumbers(chunked.logps, plain.logps, "logps");
        assertSameNumbers(chunked.grads, plain.grads, "grads");
        const pass = model.forward(batch, { layout, grad: false });
        assertSameNumbers(Float32Array.from(pass.tokenLogps), plain.logps, "no-grad logps");
        assert.throws(() => pass.backward(new Float32Array(pass.tokenLogps.length)), /grad: false/);
        pass.release();
      });
    }

    test("golden batch: packed layouts match PyTorch's token log-probs and the plain gradients", () => {
      const golden = loadGolden(name);
      const b = goldenQueryBatch(golden.batch);
      const base = runLayout(model, b, {});
      for (const layout of PACKED) {
        const packed = runLayout(model, b, { layout });
        const padded = paddedLogps(b, packed.logps, golden.batch.row_query.length);
        assertClose(padded, goldenTensor(golden, "token_logps").data, `${layout} token_logps vs PyTorch`);
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
  const batch = unequalBatch(
    [
      [20, [10, 10, 10]],
      [25, [5, 5, 5]],
    ],
    model.config.vocabSize,
    { extraPad: 0 },
  );
  const plain = runLayout(model, batch, {});
  const packed = runLayout(model, batch, { layout: "packed" });
  assertSameNumbers(packed.logps, plain.logps, "logps");
  assertSameNumbers(packed.grads, plain.grads, "grads");
});

test("responses with nothing to score (empty continuations) give no log-probs in every layout", () => {
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  // Generation before decoding: one prompt, k = 3 empty continuations.
  const empty = buildQueryBatch([{ queryIds: [5, 6, 7], responses: [{ ids: [] }, { ids: [] }, { ids: [] }] }], { padTokenId: 0 });
  for (const layout of ["plain", "shared-prefix", ...PACKED] as const) {
    const pass = model.forward(empty, { layout });
    assert.equal(pass.tokenLogps.length, 0);
    pass.backward(new Float32Array(0));
    pass.release();
  }
  // An empty query: the first response token has nothing before it (log-prob 0); the rest are scored.
  const noQuery = buildQueryBatch([{ queryIds: [], responses: [{ ids: [3, 4, 0] }, { ids: [9, 0] }] }], { padTokenId: 0 });
  const plain = runLayout(model, noQuery, {});
  assert.deepEqual([plain.logps[0], plain.logps[3]], [0, 0]);
  assert.ok(plain.logps[1] < 0 && plain.logps[2] < 0 && plain.logps[4] < 0);
  for (const layout of ["shared-prefix", ...PACKED] as const) {
    const other = runLayout(model, noQuery, { layout });
    assertSameNumbers(other.logps, plain.logps, `${layout} logps`);
    assertSameNumbers(other.grads, plain.grads, `${layout} grads`);
  }
});
