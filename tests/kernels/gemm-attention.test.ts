/**
 * Attention through sgemm (kernels/gemm-attention.ts) against its reference
 * twin, the fused kernels of kernels/ref/attention.ts, on the ref, WASM and
 * (where its addon loads) native backends: grouped KV heads, a past offset,
 * key lengths, a key mask, packed segments with a shared context that is and
 * is not adjacent to the segment, more queries than one tile, queries that
 * see no key. Plus central differences on the gemm backward itself.
 *
 * Tolerance: |gemm - ref| <= 2e-5 * (1 + |ref|) (f32 sgemm and a polynomial
 * exp against the reference's f64 accumulation).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Backend } from "../../src/kernels/backend.js";
import { gemmAttentionBackward, gemmAttentionForward, type TiledAttentionKernels } from "../../src/kernels/gemm-attention.js";
import { loadNativeAddon } from "../../src/kernels/native/addon.js";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { attentionBackward, attentionForward, type AttentionDims } from "../../src/kernels/ref/attention.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { wasmAvailability } from "../../src/kernels/wasm/index.js";
import { assertClose, seededValues, singleThreadWasm } from "./wasm-ops-helpers.js";

const TOL = 2e-5;
const wasm = singleThreadWasm();

function dims(p: Partial<AttentionDims> & Pick<AttentionDims, "B" | "Hq" | "Hkv" | "T" | "S" | "D">): AttentionDims {
  return { past: 0, scale: 1 / Math.sqrt(p.D), keyLengths: null, keyMask: null, segments: null, ...p };
}

function packed(starts: number[], context: Array<[number, number]> | null, D: number, Hq = 2, Hkv = 1): AttentionDims {
  const T = starts[starts.length - 1];
  const segmentOf = new Int32Array(T);
  for (let i = 0; i + 1 < starts.length; i++) segmentOf.fill(i, starts[i], starts[i + 1]);
  const segments = {
    starts: Int32Array.from(starts),
    segmentOf,
    contextStarts: context ? Int32Array.from(context, (c) => c[0]) : null,
    contextEnds: context ? Int32Array.from(context, (c) => c[1]) : null,
  };
  return dims({ B: 1, Hq, Hkv, T, S: T, D, segments });
}

const CASES: Array<[string, AttentionDims]> = [
  ["plain, D 64", dims({ B: 1, Hq: 2, Hkv: 2, T: 6, S: 6, D: 64 })],
  ["GQA, odd D 5, past 2", dims({ B: 2, Hq: 4, Hkv: 2, T: 5, S: 7, D: 5, past: 2 })],
  ["key lengths (one row sees nothing), D 12", dims({ B: 2, Hq: 2, Hkv: 1, T: 4, S: 4, D: 12, keyLengths: Int32Array.of(3, 0) })],
  [
    "key mask (a query sees nothing), D 9",
    dims({ B: 2, Hq: 3, Hkv: 3, T: 5, S: 5, D: 9, keyMask: Uint8Array.of(0, 1, 1, 0, 1, 0, 1, 0, 1, 1) }),
  ],
  ["decode over a cache", dims({ B: 1, Hq: 1, Hkv: 1, T: 1, S: 5, D: 1, past: 3 })],
  ["more queries than a tile, GQA 3/1", dims({ B: 2, Hq: 3, Hkv: 1, T: 300, S: 300, D: 8 })],
  ["packed segments", packed([0, 3, 4, 7], null, 7)],
  [
    "packed, shared context adjacent and apart",
    packed(
      [0, 4, 6, 9],
      [
        [0, 0],
        [0, 4],
        [0, 3],
      ],
      16,
      4,
      2,
    ),
  ],
  [
    "packed like a batch of 1 query + 3 responses, long query",
    packed(
      [0, 193, 213, 233, 253],
      [
        [0, 0],
        [0, 193],
        [0, 193],
        [0, 193],
      ],
      8,
      2,
      1,
    ),
  ],
  ["empty: T 0", dims({ B: 2, Hq: 2, Hkv: 1, T: 0, S: 3, D: 4, past: 3 })],
];

type GemmBackend = Pick<Backend, "sgemm" | "alloc" | "release" | "logSumExpRows" | "scaledSoftmaxRows"> & Partial<TiledAttentionKernels>;

function backends(): Array<[string, GemmBackend]> {
  const list: Array<[string, GemmBackend]> = [["ref", refBackend]];
  if (wasmAvailability().ok) list.push(["wasm", wasm()]);
  if (loadNativeAddon().ok) {
    // With the addon's tiled kernels (every call without a key mask) on 1 and 2 threads, and without them (the loops here on native sgemm).
    for (const threads of [1, 2]) list.push([`native/${threads}`, createNativeBackend({ threads })]);
    const hidden = { attentionTilesForward: { value: undefined }, attentionTilesBackward: { value: undefined } };
    list.push(["native, TypeScript loops", Object.create(createNativeBackend({ threads: 1 }), hidden) as GemmBackend]);
  }
  return list;
}

function tensors(d: AttentionDims, seed: number) {
  const nq = d.B * d.Hq * d.T * d.D;
  const nk = d.B * d.Hkv * d.S * d.D;
  return {
    q: seededValues(nq, seed, -2, 2),
    k: seededValues(nk, seed + 1, -2, 2),
    v: seededValues(nk, seed + 2),
    dout: seededValues(nq, seed + 3),
    dq0: seededValues(nq, seed + 4),
    dk0: seededValues(nk, seed + 5),
    dv0: seededValues(nk, seed + 6),
  };
}

function checkCase(tag: string, be: GemmBackend, d: AttentionDims, want: { dq: boolean; dk: boolean; dv: boolean }): void {
  const x = tensors(d, d.T * 7 + d.D);
  const rows = d.B * d.Hq * d.T;
  const out = new Float32Array(x.q.length);
  const lse = new Float32Array(rows);
  attentionForward(out, lse, x.q, x.k, x.v, d);
  const gOut = new Float32Array(x.q.length).fill(Number.NaN);
  const gLse = new Float32Array(rows).fill(Number.NaN);
  gemmAttentionForward(be, gOut, gLse, x.q, x.k, x.v, d);
  assertClose(gOut, out, TOL, `${tag} out`);
  assertClose(gLse, lse, TOL, `${tag} lse`);

  const grads = (): [Float32Array | null, Float32Array | null, Float32Array | null] => [
    want.dq ? Float32Array.from(x.dq0) : null,
    want.dk ? Float32Array.from(x.dk0) : null,
    want.dv ? Float32Array.from(x.dv0) : null,
  ];
  const ref = grads();
  attentionBackward(...ref, x.dout, x.q, x.k, x.v, out, lse, d);
  const gemm = grads();
  gemmAttentionBackward(be, ...gemm, x.dout, x.q, x.k, x.v, gOut, gLse, d);
  ["dq", "dk", "dv"].forEach((name, i) => {
    const r = ref[i];
    const g = gemm[i];
    if (r && g) assertClose(g, r, TOL, `${tag} ${name}`);
    else assert.equal(g, null);
  });
}

describe("attention through sgemm", () => {
  for (const [beName, be] of backends()) {
    for (const [name, d] of CASES) {
      it(`${beName}: matches the fused reference kernels: ${name}`, () => {
        checkCase(`${beName} ${name}`, be, d, { dq: true, dk: true, dv: true });
      });
    }
    it(`${beName}: leaves the gradients it is not asked for alone`, () => {
      const d = CASES[7][1];
      checkCase(`${beName} partial`, be, d, { dq: false, dk: true, dv: false });
      checkCase(`${beName} partial`, be, d, { dq: true, dk: false, dv: true });
    });
  }

  it("refuses short buffers before any work", () => {
    const d = dims({ B: 1, Hq: 2, Hkv: 1, T: 3, S: 3, D: 4 });
    const n = 2 * 3 * 4;
    const f = (kLen: number) => () =>
      gemmAttentionForward(
        refBackend,
        new Float32Array(n),
        new Float32Array(6),
        new Float32Array(n),
        new Float32Array(kLen),
        new Float32Array(12),
        d,
      );
    assert.throws(f(5), RangeError);
    assert.doesNotThrow(f(12));
  });

  it("its backward matches central differences of its forward", () => {
    const d = packed(
      [0, 3, 5, 8],
      [
        [0, 0],
        [0, 3],
        [0, 3],
      ],
      3,
      2,
      1,
    );
    const x = tensors(d, 5);
    const u = seededValues(x.q.length, 77);
    const probe = (): number => {
      const out = new Float32Array(x.q.length);
      gemmAttentionForward(refBackend, out, new Float32Array(d.B * d.Hq * d.T), x.q, x.k, x.v, d);
      let f = 0;
      for (let i = 0; i < out.length; i++) f += u[i] * out[i];
      return f;
    };
    const out = new Float32Array(x.q.length);
    const lse = new Float32Array(d.B * d.Hq * d.T);
    gemmAttentionForward(refBackend, out, lse, x.q, x.k, x.v, d);
    const dq = new Float32Array(x.q.length);
    const dk = new Float32Array(x.k.length);
    const dv = new Float32Array(x.v.length);
    gemmAttentionBackward(refBackend, dq, dk, dv, u, x.q, x.k, x.v, out, lse, d);
    const eps = 1e-2;
    for (const [input, grad, name] of [
      [x.q, dq, "q"],
      [x.k, dk, "k"],
      [x.v, dv, "v"],
    ] as const) {
      for (let i = 0; i < input.length; i++) {
        const orig = input[i];
        input[i] = orig + eps;
        const fp = probe();
        input[i] = orig - eps;
        const fm = probe();
        input[i] = orig;
        const numeric = (fp - fm) / (2 * eps);
        const err = Math.abs(grad[i] - numeric);
        assert.ok(err <= 2e-3 + 1e-2 * Math.abs(numeric), `d${name}[${i}]: ${grad[i]} vs ${numeric}`);
      }
    }
  });
});
