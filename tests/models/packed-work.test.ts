/**
 * "No compute on padding", counted: a backend wrapper records every sgemm
 * (M, N, K). In the packed layout every per-token matmul of the body has
 * M = Ntot (the real tokens of the scored rows), so the body's matmul work
 * is exactly Ntot / (rows * T) of the plain layout's, and the whole pass
 * (forward and backward) does strictly less.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Backend } from "../../src/kernels/backend.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import type { ForwardOptions } from "../../src/models/causal-lm.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";
import { realTokens, unequalBatch } from "./packed-batch.js";

interface Call {
  M: number;
  N: number;
  K: number;
}

/** The reference backend, recording each sgemm's dimensions. */
function countingBackend(): Backend & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    name: "ref-counting",
    calls,
    alloc: (n) => refBackend.alloc(n),
    release: (buf) => refBackend.release(buf),
    sgemm: (transA, transB, M, N, K, alpha, A, B, beta, C) => {
      calls.push({ M, N, K });
      refBackend.sgemm(transA, transB, M, N, K, alpha, A, B, beta, C);
    },
  };
}

const work = (calls: readonly Call[]) => calls.reduce((s, c) => s + c.M * c.N * c.K, 0);

/** Per-token matmuls per layer: GPT-2 c_attn, attn.c_proj, c_fc, mlp.c_proj; Llama q, k, v, o, gate, up, down. */
const MATMULS_PER_LAYER = { "gpt2-tiny": 4, "llama-tiny": 7 } as const;

for (const name of ["gpt2-tiny", "llama-tiny"] as const) {
  describe(`packed work: ${name}`, () => {
    const be = countingBackend();
    const model = loadCausalLM(fixture("models", name), { backend: be, trainable: true });
    const { vocabSize: V, numLayers, hiddenSize: C } = model.config;
    const batch = unequalBatch(
      [
        [14, [2, 9, 1]],
        [1, [5, 2]],
        [6, [1, 3, 8, 2]],
      ],
      V,
    );
    const ntot = realTokens(batch);
    const padded = batch.rows * batch.paddedLength;
    const scored = batch.responseIds.length;

    /**
     * sgemm calls of a pass in `layout`, split into the body's and the LM
     * head's. Order tells them apart: forward runs the body then the head
     * (one chunk here: one sgemm of M = scored positions, N = V); backward
     * runs the head's two sgemms (dh, dW: a single chunk's logits are kept
     * from forward, not recomputed) first, then the body's.
     */
    const record = (layout: NonNullable<ForwardOptions["layout"]>, backward: boolean): { body: Call[]; head: Call[] } => {
      be.calls.length = 0;
      const pass = model.forward(batch, { layout, grad: backward });
      const forwardCalls = be.calls.length;
      if (backward) pass.backward(new Float32Array(scored).fill(1));
      pass.release();
      const fwd = be.calls.slice(0, forwardCalls);
      const bwd = be.calls.slice(forwardCalls);
      const headFwd = fwd[fwd.length - 1];
      assert.ok(headFwd.M === scored && headFwd.N === V, "the forward's last sgemm is the LM head");
      if (backward) assert.ok(bwd[0].M === scored && bwd[0].N === C, "backward starts with the head's dh, no logits recomputed");
      return { body: [...fwd.slice(0, -1), ...bwd.slice(2)], head: [headFwd, ...bwd.slice(0, 2)] };
    };

    test("every per-token matmul of the packed body runs on Ntot rows, once per layer and projection", () => {
      assert.ok(ntot < padded / 2, `the batch should be mostly padding (${ntot} of ${padded})`);
      const calls = record("packed", false).body;
      assert.equal(calls.length, MATMULS_PER_LAYER[name] * numLayers);
      for (const c of calls) assert.equal(c.M, ntot, `sgemm ${c.M}x${c.N}x${c.K}`);
      const plainCalls = record("plain", false).body;
      assert.equal(plainCalls.length, calls.length);
      for (const c of plainCalls) assert.equal(c.M, padded);
      // Proportional to real tokens: packed / plain = Ntot / (rows * T), exactly.
      assert.equal(work(calls) * padded, work(plainCalls) * ntot);
    });

    test("forward + backward: packed does strictly less matmul work than plain, the LM head the same", () => {
      const plain = record("plain", true);
      const packed = record("packed", true);
      const total = (r: { body: Call[]; head: Call[] }) => work(r.body) + work(r.head);
      assert.ok(total(packed) < total(plain), `packed ${total(packed)} vs plain ${total(plain)}`);
      assert.equal(work(packed.head), work(plain.head));
      assert.equal(packed.body.length, 3 * MATMULS_PER_LAYER[name] * numLayers); // forward, dX, dW
      assert.equal(work(packed.body) * padded, work(plain.body) * ntot);
    });

    test("packed-shared-prefix computes each query prefix once: fewer rows than packed", () => {
      const shared = record("packed-shared-prefix", false).body;
      const M = shared[0].M;
      for (const c of shared) assert.equal(c.M, M);
      // Query 0 (14 tokens, k = 3) shares 13 positions twice over, query 2 (6 tokens, k = 4) shares 5 three times;
      // the one-token query shares nothing (the prefix stops one token before the first scored label).
      assert.equal(M, ntot - 2 * 13 - 3 * 5);
    });
  });
}
