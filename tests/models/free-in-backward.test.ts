/**
 * A model's backward pass frees (and, where the backend can, discards) each
 * activation once no rule still to run reads it (Graph `freeInBackward`). A
 * backend whose `discard` writes NaN instead of zeros, under a pool that
 * discards every buffer, turns any read after the free into NaN gradients:
 * every fixture model, in every layout, with and without checkpointing, must
 * still give bit-identical log-probs and gradients.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setPoolFor } from "../../src/autodiff/context.js";
import type { Backend } from "../../src/kernels/backend.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { FORWARD_LAYOUTS } from "../../src/models/causal-lm.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { BufferPool } from "../../src/tensor/pool.js";
import { fixture } from "../helpers.js";
import { runLayout, unequalBatch } from "./packed-batch.js";

let discards = 0;
const poisoning: Backend = {
  ...refBackend,
  discard: (buf) => {
    discards++;
    buf.fill(Number.NaN);
  },
};
setPoolFor(new BufferPool(poisoning, { discardMinFloats: 1 }));

for (const name of ["gpt2-tiny", "llama-tiny", "qwen2-tiny"] as const) {
  describe(`freeing activations in backward: ${name}`, () => {
    const plain = loadCausalLM(fixture("models", name), { backend: refBackend, trainable: true });
    const poisoned = loadCausalLM(fixture("models", name), { backend: poisoning, trainable: true });
    const batch = unequalBatch(
      [
        [6, [3, 5, 1]],
        [1, [4, 2]],
      ],
      plain.config.vocabSize,
    );
    for (const layout of FORWARD_LAYOUTS) {
      for (const gradientCheckpointing of [false, true]) {
        test(`${layout}${gradientCheckpointing ? ", checkpointed" : ""}: identical log-probs and gradients`, () => {
          const before = discards;
          const expected = runLayout(plain, batch, { layout, gradientCheckpointing });
          const actual = runLayout(poisoned, batch, { layout, gradientCheckpointing });
          assert.ok(discards > before, "nothing was discarded: the test could not fail");
          assert.ok(
            expected.grads.some((x) => x !== 0),
            "no gradient: the test could not fail",
          );
          assert.deepEqual(actual.logps, expected.logps);
          assert.deepEqual(actual.grads, expected.grads);
        });
      }
    }
  });
}
