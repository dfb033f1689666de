/**
 * Gradient checkpointing changes memory, never numbers: with it on, every
 * fixture model gives bit-identical token log-probs and parameter gradients
 * in every layout (the recompute runs the same kernels in the same order),
 * and a 6-layer model's forward keeps clearly fewer pooled floats alive.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { poolFor } from "../../src/autodiff/context.js";
import type { Backend } from "../../src/kernels/backend.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { FORWARD_LAYOUTS, type CausalLM, type ForwardOptions } from "../../src/models/causal-lm.js";
import { Gpt2Model } from "../../src/models/gpt2/model.js";
import { normalizeConfig } from "../../src/models/hf/config.js";
import { initParams } from "../../src/models/hf/init.js";
import { ParamStore } from "../../src/models/hf/param-store.js";
import { weightLayout } from "../../src/models/hf/param-specs.js";
import { LlamaModel } from "../../src/models/llama/model.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";
import { runLayout, unequalBatch, withHoles } from "./packed-batch.js";

const MODELS = ["gpt2-tiny", "llama-tiny", "qwen2-tiny"] as const;
const LAYOUTS = FORWARD_LAYOUTS;

/** Exact equality, element by element (-0 and +0 count as equal), with the first difference named. */
function assertSame(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}[${i}]: ${actual[i]} with checkpointing, ${expected[i]} without`);
  }
}

for (const name of MODELS) {
  describe(`gradient checkpointing: ${name}`, () => {
    const model = loadCausalLM(fixture("models", name), { backend: refBackend, trainable: true });
    const V = model.config.vocabSize;
    // A long query with k=3, a one-token query (nothing to share), k=4 with unequal lengths.
    const batch = unequalBatch(
      [
        [7, [3, 5, 1]],
        [1, [4, 2]],
        [5, [2, 6, 3, 4]],
      ],
      V,
    );

    for (const layout of LAYOUTS) {
      test(`${layout}: identical log-probs and gradients`, () => {
        const off = runLayout(model, batch, { layout });
        const on = runLayout(model, batch, { layout, gradientCheckpointing: true });
        assert.ok(off.grads.some((x) => x !== 0) && off.logps.some((x) => x !== 0), "nothing computed: the test could not fail");
        assertSame(on.logps, off.logps, "logps");
        assertSame(on.grads, off.grads, "grads");
      });
    }

    test("a mask with holes (official compat) in the shared-prefix layout: identical", () => {
      const holes = withHoles(batch);
      for (const layout of ["plain", "shared-prefix"] as const) {
        const off = runLayout(model, holes, { layout });
        const on = runLayout(model, holes, { layout, gradientCheckpointing: true });
        assertSame(on.logps, off.logps, `${layout} logps`);
        assertSame(on.grads, off.grads, `${layout} grads`);
      }
    });
  });
}

test("the model-level default applies, and a forward option overrides it", () => {
  const plain = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  const ckpt = new Gpt2Model(plain.config, plain.params, { backend: refBackend, grads: plain.grads, gradientCheckpointing: true });
  assert.equal(ckpt.gradientCheckpointing, true);
  const batch = unequalBatch([[4, [3, 2]]], plain.config.vocabSize);
  const off = runLayout(plain, batch, {});
  const on = runLayout(ckpt, batch, {});
  assertSame(on.logps, off.logps, "logps");
  assertSame(on.grads, off.grads, "grads");
  // Inference ignores the setting.
  const infer = ckpt.forward(batch, { grad: false });
  assertSame(infer.tokenLogps, off.logps, "no-grad logps");
  infer.release();
});

/**
 * The ref backend as a new object: pools are per backend object, so its pool
 * starts empty and its backendFloats is the pool's high-water mark.
 */
function freshBackend(): Backend {
  return { ...refBackend };
}

interface PeakFloats {
  /** Pooled floats ever needed up to the end of the forward. */
  forward: number;
  /** ... up to the end of forward + backward. */
  step: number;
}

/** Peak pooled floats of one forward and one forward + backward, on a fresh pool each. */
function measurePeaks(make: (backend: Backend) => CausalLM, batch: ReturnType<typeof unequalBatch>, opts: ForwardOptions): PeakFloats {
  const backend = freshBackend();
  const model = make(backend);
  const pool = poolFor(backend);
  const before = pool.stats().backendFloats;
  const pass = model.forward(batch, opts);
  const forward = pool.stats().backendFloats - before;
  pass.backward(Float32Array.from(pass.tokenLogps, (_, i) => (i % 5) / 5 - 0.3));
  const step = pool.stats().backendFloats - before;
  pass.release();
  assert.equal(pool.stats().inUse, 0, "buffers left in use after release");
  return { forward, step };
}

describe("memory: a 6-layer model keeps fewer activations alive", () => {
  const configs = {
    gpt2: { architectures: ["GPT2LMHeadModel"], model_type: "gpt2", n_embd: 32, n_layer: 6, n_head: 4, n_positions: 64, vocab_size: 50 },
    llama: {
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 6,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 64,
      vocab_size: 50,
    },
  } as const;
  for (const arch of ["gpt2", "llama"] as const) {
    for (const layout of ["plain", "shared-prefix", "packed-shared-prefix"] as const) {
      test(`${arch}, ${layout}: forward peak at most half, whole-step peak lower`, () => {
        const n = normalizeConfig(configs[arch]);
        const make = (backend: Backend): CausalLM => {
          const params = ParamStore.create(weightLayout(n).specs, (k) => backend.alloc(k));
          initParams(n, params, 3);
          const grads = params.createGradStore((k) => backend.alloc(k));
          const opts = { backend, grads };
          return arch === "gpt2" ? new Gpt2Model(n, params, opts) : new LlamaModel(n, params, opts);
        };
        const batch = unequalBatch(
          [
            [12, [6, 9, 4]],
            [8, [10, 5]],
          ],
          n.vocabSize,
        );
        const off = measurePeaks(make, batch, { layout });
        const on = measurePeaks(make, batch, { layout, gradientCheckpointing: true });
        assert.ok(on.forward * 2 <= off.forward, `forward peak: ${on.forward} floats with checkpointing, ${off.forward} without`);
        assert.ok(on.step < off.step, `step peak: ${on.step} floats with checkpointing, ${off.step} without`);
      });
    }
  }
});
