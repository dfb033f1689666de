/**
 * The WASM backend's attention (tiles of its threaded SIMD sgemm, kernels/gemm-attention.ts)
 * against kernels/ref/attention.ts: grouped KV
 * heads, a past offset, key lengths, a key mask, packed segments with shared
 * context, head sizes that are not multiples of 4 or 8, queries that see no
 * key, empty calls, unaligned views and buffers outside WASM memory.
 *
 * Tolerance: |wasm - ref| <= 1e-5 * (1 + |ref|) (f32 SIMD dot products and a
 * polynomial exp against the reference's f64 accumulation).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attentionBackward, attentionForward, type AttentionDims } from "../../src/kernels/ref/attention.js";
import { wasmAvailability } from "../../src/kernels/wasm/index.js";
import { assertClose, place, PLACEMENTS, seededValues, type Placement, singleThreadWasm } from "./wasm-ops-helpers.js";

const TOL = 1e-5;
const available = wasmAvailability();
const be = singleThreadWasm();

function dims(p: Partial<AttentionDims> & Pick<AttentionDims, "B" | "Hq" | "Hkv" | "T" | "S" | "D">): AttentionDims {
  return { past: 0, scale: 1 / Math.sqrt(p.D), keyLengths: null, keyMask: null, segments: null, ...p };
}

function packed(starts: number[], context: Array<[number, number]> | null, D: number, Hq = 2, Hkv = 1): AttentionDims {
  const T = starts[starts.length - 1];
  const segmentOf = new Int32Array(T);
  for (let i = 0; i + 1 < starts.length; i++) segmentOf.fill(i, starts[i], starts[i + 1]);
  return dims({
    B: 1,
    Hq,
    Hkv,
    T,
    S: T,
    D,
    segments: {
      starts: Int32Array.from(starts),
      segmentOf,
      contextStarts: context ? Int32Array.from(context, (c) => c[0]) : null,
      contextEnds: context ? Int32Array.from(context, (c) => c[1]) : null,
    },
  });
}

const CASES: Array<[string, AttentionDims]> = [
  ["plain, D 64", dims({ B: 1, Hq: 2, Hkv: 2, T: 6, S: 6, D: 64 })],
  ["GQA, odd D 5, past 2", dims({ B: 2, Hq: 4, Hkv: 2, T: 5, S: 7, D: 5, past: 2 })],
  ["key lengths (one row sees nothing), D 12", dims({ B: 2, Hq: 2, Hkv: 1, T: 4, S: 4, D: 12, keyLengths: Int32Array.of(3, 0) })],
  ["key mask, D 9", dims({ B: 2, Hq: 3, Hkv: 3, T: 5, S: 5, D: 9, keyMask: Uint8Array.of(0, 1, 1, 0, 1, 1, 1, 0, 1, 1) })],
  ["D 1, T 1, decode over a cache", dims({ B: 1, Hq: 1, Hkv: 1, T: 1, S: 5, D: 1, past: 3 })],
  ["packed segments", packed([0, 3, 4, 7], null, 7)],
  [
    "packed with shared context",
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
  ["empty: T 0", dims({ B: 2, Hq: 2, Hkv: 1, T: 0, S: 3, D: 4, past: 3 })],
];

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

function checkCase(name: string, d: AttentionDims, where: Placement, want: { dq: boolean; dk: boolean; dv: boolean }): void {
  const x = tensors(d, d.T * 7 + d.D);
  const nq = x.q.length;
  const rows = d.B * d.Hq * d.T;
  const out = new Float32Array(nq);
  const lse = new Float32Array(rows);
  attentionForward(out, lse, x.q, x.k, x.v, d);
  const w = (a: Float32Array) => place(be(), a, where);
  const wOut = w(new Float32Array(nq).fill(NaN));
  const wLse = w(new Float32Array(rows).fill(NaN));
  const wq = w(x.q);
  const wk = w(x.k);
  const wv = w(x.v);
  be().attentionForward(wOut, wLse, wq, wk, wv, d);
  const tag = `${name} (${where})`;
  assertClose(wOut, out, TOL, `${tag} out`);
  assertClose(wLse, lse, TOL, `${tag} lse`);

  const dq = want.dq ? Float32Array.from(x.dq0) : null;
  const dk = want.dk ? Float32Array.from(x.dk0) : null;
  const dv = want.dv ? Float32Array.from(x.dv0) : null;
  attentionBackward(dq, dk, dv, x.dout, x.q, x.k, x.v, out, lse, d);
  const wdq = want.dq ? w(x.dq0) : null;
  const wdk = want.dk ? w(x.dk0) : null;
  const wdv = want.dv ? w(x.dv0) : null;
  be().attentionBackward(wdq, wdk, wdv, w(x.dout), wq, wk, wv, wOut, wLse, d);
  if (dq && wdq) assertClose(wdq, dq, TOL, `${tag} dq`);
  if (dk && wdk) assertClose(wdk, dk, TOL, `${tag} dk`);
  if (dv && wdv) assertClose(wdv, dv, TOL, `${tag} dv`);
}

describe("wasm attention", { skip: available.ok ? false : available.reason }, () => {
  for (const [name, d] of CASES) {
    it(`matches the reference: ${name}`, () => {
      for (const where of PLACEMENTS) checkCase(name, d, where, { dq: true, dk: true, dv: true });
    });
  }

  it("leaves the gradients it is not asked for alone (null dq / dk / dv)", () => {
    const [name, d] = CASES[1];
    checkCase(name, d, "wasm", { dq: false, dk: true, dv: false });
    checkCase(name, d, "wasm", { dq: true, dk: false, dv: true });
  });

  it("a query that sees no key outputs zeros with lse -Infinity", () => {
    const d = dims({ B: 1, Hq: 1, Hkv: 1, T: 2, S: 2, D: 3, keyMask: Uint8Array.of(0, 0) });
    const out = be().alloc(6).fill(5);
    const lse = be().alloc(2);
    be().attentionForward(out, lse, be().alloc(6).fill(1), be().alloc(6).fill(1), be().alloc(6).fill(1), d);
    assert.deepEqual([...out], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...lse], [-Infinity, -Infinity]);
  });

  it("refuses short buffers before touching memory", () => {
    const d = dims({ B: 1, Hq: 2, Hkv: 1, T: 3, S: 3, D: 4 });
    const n = 2 * 3 * 4;
    assert.throws(
      () =>
        be().attentionForward(new Float32Array(n), new Float32Array(6), new Float32Array(n), new Float32Array(5), new Float32Array(12), d),
      RangeError,
    );
    assert.throws(
      () =>
        be().attentionForward(new Float32Array(n), new Float32Array(6), new Float32Array(n), new Float32Array(12), new Float32Array(12), {
          ...d,
          keyMask: new Uint8Array(2),
        }),
      RangeError,
    );
  });

  it("returns its temporaries: repeating a call does not grow the memory", () => {
    const [name, d] = CASES[6];
    checkCase(name, d, "plain", { dq: true, dk: true, dv: true });
    const used = be().arena.usedBytes;
    checkCase(name, d, "plain", { dq: true, dk: true, dv: true });
    assert.equal(be().arena.usedBytes, used);
  });
});
