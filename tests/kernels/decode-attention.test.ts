import assert from "node:assert/strict";
import { test } from "node:test";
import { createNativeBackend, loadNativeAddon } from "../../src/kernels/native/index.js";
import { type DecodeRunArgs, decodeAttentionRef } from "../../src/kernels/ref/decode-attention.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { DecodeScratch, decodeAttentionInto } from "../../src/models/decode-attention.js";
import { seeded } from "./sgemm-cases.js";

interface Case {
  Hq: number;
  Hkv: number;
  D: number;
  M: number;
  /** Prompt lengths; each has k sequences. */
  P: number[];
  k: number;
}

/** Two layers of caches for `c` (layer 1 is the one attended), random values, sequences at varied lengths. */
function setup(c: Case, seed: number) {
  const N = c.P.length * c.k;
  const promptK = c.P.map((P, p) => seeded(c.Hkv * P * c.D, seed + 10 * p));
  const promptV = c.P.map((P, p) => seeded(c.Hkv * P * c.D, seed + 10 * p + 1));
  return {
    N,
    promptK,
    promptV,
    ownK: seeded(N * c.Hkv * c.M * c.D, seed + 100),
    ownV: seeded(N * c.Hkv * c.M * c.D, seed + 101),
    lengths: Int32Array.from({ length: N }, (_, s) => (s * 5 + 1) % c.M),
    q: seeded(N * c.Hq * c.D, seed + 200),
    k: seeded(N * c.Hkv * c.D, seed + 201),
    v: seeded(N * c.Hkv * c.D, seed + 202),
  };
}

function runKernel(kernel: (a: DecodeRunArgs) => void, c: Case, seed: number) {
  const s = setup(c, seed);
  const out = new Float32Array(s.N * c.Hq * c.D).fill(Number.NaN);
  const scale = 1 / Math.sqrt(c.D);
  c.P.forEach((P, p) => {
    const base = { out, q: s.q, k: s.k, v: s.v, promptK: s.promptK[p], promptV: s.promptV[p], ownK: s.ownK, ownV: s.ownV };
    kernel({ ...base, lengths: s.lengths, s0: p * c.k, s1: (p + 1) * c.k, Hq: c.Hq, Hkv: c.Hkv, D: c.D, M: c.M, P, scale });
  });
  return { out, ownK: s.ownK, ownV: s.ownV };
}

/** The model's batched path (prompt keys through backend sgemm), on the reference backend. */
function runBatched(c: Case, seed: number) {
  const s = setup(c, seed);
  const out = new Float32Array(s.N * c.Hq * c.D).fill(Number.NaN);
  const caches = {
    promptK: [[], s.promptK],
    promptV: [[], s.promptV],
    promptLengths: Int32Array.from(c.P),
    ownK: [new Float32Array(0), s.ownK],
    ownV: [new Float32Array(0), s.ownV],
    promptOf: Int32Array.from({ length: s.N }, (_, b) => Math.floor(b / c.k)),
    lengths: s.lengths,
    maxNewTokens: c.M,
  };
  const dims = { B: s.N, Hq: c.Hq, Hkv: c.Hkv, D: c.D };
  decodeAttentionInto(refBackend, out, s.q, s.k, s.v, dims, caches, 1, 1 / Math.sqrt(c.D), new DecodeScratch());
  return { out, ownK: s.ownK, ownV: s.ownV };
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) assert.fail(`${what}[${i}] = ${actual[i]}, expected ${expected[i]}`);
  }
}

const CASES: Case[] = [
  { Hq: 4, Hkv: 4, D: 64, M: 9, P: [13, 5], k: 3 }, // multi-head, two prompts
  { Hq: 6, Hkv: 2, D: 20, M: 4, P: [7], k: 2 }, // grouped-query, D off the 16 lanes
  { Hq: 3, Hkv: 1, D: 33, M: 6, P: [1, 40, 2], k: 1 },
];

test("the reference decode attention equals the model's batched path (sgemm over prompt keys), own caches appended", () => {
  CASES.forEach((c, i) => {
    const ref = runKernel(decodeAttentionRef, c, 7 * i + 1);
    const batched = runBatched(c, 7 * i + 1);
    assertClose(ref.out, batched.out, 1e-5, `case ${i} out`);
    assert.deepEqual(ref.ownK, batched.ownK);
    assert.deepEqual(ref.ownV, batched.ownV);
  });
});

test("the native fused decode attention matches the reference", (t) => {
  const load = loadNativeAddon();
  if (!load.ok || !load.addon.decodeAttention) return t.skip("native addon without decodeAttention");
  // Two threads split the (head, sequence) pairs.
  for (const threads of [2, 1]) {
    const kernel = createNativeBackend({ threads }).decodeAttention as (a: DecodeRunArgs) => void;
    CASES.forEach((c, i) => {
      const ref = runKernel(decodeAttentionRef, c, 7 * i + 1);
      const native = runKernel(kernel, c, 7 * i + 1);
      assertClose(native.out, ref.out, 1e-5, `${threads} threads, case ${i} out`);
      assert.deepEqual(native.ownK, ref.ownK);
      assert.deepEqual(native.ownV, ref.ownV);
    });
  }
  const kernel = createNativeBackend({ threads: 1 }).decodeAttention as (a: DecodeRunArgs) => void;
  const c = CASES[0];
  const s = setup(c, 1);
  const full = Int32Array.from(s.lengths).fill(c.M);
  const args = { out: new Float32Array(s.q.length), q: s.q, k: s.k, v: s.v, promptK: s.promptK[0], promptV: s.promptV[0] };
  const call = (lengths: Int32Array, P: number) =>
    kernel({ ...args, ownK: s.ownK, ownV: s.ownV, lengths, s0: 0, s1: c.k, Hq: c.Hq, Hkv: c.Hkv, D: c.D, M: c.M, P, scale: 1 });
  assert.throws(() => call(full, c.P[0]), /full/);
  assert.throws(() => call(s.lengths, c.P[0] + 1), RangeError); // prompt cache shorter than P says
});
