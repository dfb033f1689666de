/**
 * Packed ("varlen") attention: several sequences back to back in one row,
 * block-diagonal causal, optionally each reading a context range (a shared
 * prefix) in full. Checked against an independent float64 reference, by
 * finite differences, against the composed ops, and against the padded
 * batch it replaces.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { add, causalAttention, Graph, matmul, scale, softmax, type Tensor } from "../../src/autodiff/index.js";
import type { AttentionSegments } from "../../src/autodiff/ops/attention.js";
import { analyticGrads, assertClose, gradCheck, rand } from "./gradcheck.js";

/** visible[t * T + s]: may query t see key s? Written from the definition, independently of the kernel. */
function visibility(T: number, seg: AttentionSegments, keyMask?: Uint8Array): boolean[] {
  const vis: boolean[] = new Array<boolean>(T * T).fill(false);
  const n = seg.starts.length - 1;
  for (let i = 0; i < n; i++) {
    for (let t = seg.starts[i]; t < seg.starts[i + 1]; t++) {
      for (let s = 0; s < T; s++) {
        const own = s >= seg.starts[i] && s <= t;
        const inContext =
          seg.contextStarts !== undefined && seg.contextEnds !== undefined && s >= seg.contextStarts[i] && s < seg.contextEnds[i];
        vis[t * T + s] = (own || inContext) && (!keyMask || keyMask[s] !== 0);
      }
    }
  }
  return vis;
}

function naive(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  Hq: number,
  Hkv: number,
  T: number,
  D: number,
  vis: boolean[],
): Float64Array {
  const out = new Float64Array(Hq * T * D);
  const sc = 1 / Math.sqrt(D);
  for (let h = 0; h < Hq; h++) {
    const kh = Math.floor((h * Hkv) / Hq);
    for (let t = 0; t < T; t++) {
      const w: number[] = [];
      for (let s = 0; s < T; s++) {
        if (!vis[t * T + s]) {
          w.push(-Infinity);
          continue;
        }
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(h * T + t) * D + d] * k[(kh * T + s) * D + d];
        w.push(dot * sc);
      }
      const max = Math.max(...w);
      if (max === -Infinity) continue;
      const e = w.map((x) => Math.exp(x - max));
      const z = e.reduce((a, x) => a + x, 0);
      for (let s = 0; s < T; s++) for (let d = 0; d < D; d++) out[(h * T + t) * D + d] += (e[s] / z) * v[(kh * T + s) * D + d];
    }
  }
  return out;
}

function inputs(Hq: number, Hkv: number, T: number, D: number, seed: number) {
  return [
    { data: rand(Hq * T * D, seed), shape: [1, Hq, T, D] },
    { data: rand(Hkv * T * D, seed + 1), shape: [1, Hkv, T, D] },
    { data: rand(Hkv * T * D, seed + 2), shape: [1, Hkv, T, D] },
  ];
}

const i32 = (...xs: number[]) => Int32Array.from(xs);

const cases: { name: string; Hq: number; Hkv: number; T: number; D: number; seg: AttentionSegments; keyMask?: Uint8Array }[] = [
  { name: "three segments (3, 1, 2)", Hq: 2, Hkv: 2, T: 6, D: 3, seg: { starts: i32(0, 3, 4, 6) } },
  { name: "GQA 2:1, an empty segment", Hq: 4, Hkv: 2, T: 5, D: 2, seg: { starts: i32(0, 2, 2, 5) } },
  {
    name: "shared prefix: a prefix segment read in full by two continuations",
    Hq: 2,
    Hkv: 1,
    T: 7,
    D: 2,
    seg: { starts: i32(0, 3, 5, 7), contextStarts: i32(0, 0, 0), contextEnds: i32(0, 3, 3) },
  },
  {
    name: "prefix with a key mask (holes)",
    Hq: 2,
    Hkv: 2,
    T: 6,
    D: 2,
    seg: { starts: i32(0, 2, 4, 6), contextStarts: i32(0, 0, 0), contextEnds: i32(0, 2, 2) },
    keyMask: Uint8Array.from([1, 0, 1, 1, 0, 1]),
  },
];

for (const c of cases) {
  test(`packed attention ${c.name}: forward equals float64 reference, gradients check`, () => {
    const xs = inputs(c.Hq, c.Hkv, c.T, c.D, 300);
    const o = { segments: c.seg, keyMask: c.keyMask };
    const g = new Graph({ grad: false });
    const [q, k, v] = xs.map((x) => g.input(x.data, x.shape));
    const out = causalAttention(g, q, k, v, o);
    const want = naive(xs[0].data, xs[1].data, xs[2].data, c.Hq, c.Hkv, c.T, c.D, visibility(c.T, c.seg, c.keyMask));
    assertClose(out.data, want, 1e-6, 1e-5, "attention");
    g.release();
    gradCheck((gg, [qq, kk, vv]) => causalAttention(gg, qq, kk, vv, o), xs);
  });
}

test("packed attention equals the composed version (matmul -> block-diagonal mask -> softmax -> matmul), values and gradients", () => {
  const H = 2;
  const T = 7;
  const D = 3;
  const seg = { starts: i32(0, 3, 5, 7), contextStarts: i32(0, 0, 0), contextEnds: i32(0, 3, 3) };
  const vis = visibility(T, seg);
  const mask = new Float32Array(H * T * T);
  for (let h = 0; h < H; h++) for (let i = 0; i < T * T; i++) mask[h * T * T + i] = vis[i] ? 0 : -1e9;
  const xs = inputs(H, H, T, D, 310);
  const composed = (g: Graph, [q, k, v]: Tensor[]) =>
    matmul(g, softmax(g, add(g, scale(g, matmul(g, q, k, { transB: true }), 1 / Math.sqrt(D)), g.input(mask, [1, H, T, T]))), v);
  const fused = (g: Graph, [q, k, v]: Tensor[]) => causalAttention(g, q, k, v, { segments: seg });
  const u = (n: number) => rand(n, 311);
  const a = analyticGrads(fused, xs, u);
  const b = analyticGrads(composed, xs, u);
  for (let i = 0; i < 3; i++) assertClose(a.grads[i], b.grads[i], 1e-5, 1e-4, `grad ${i}`);
  const g = new Graph({ grad: false });
  const ins = xs.map((x) => g.input(x.data, x.shape));
  assertClose(fused(g, ins).data, composed(g, ins).data, 1e-6, 1e-5, "out");
  g.release();
});

test("packing two sequences equals the padded batch with key lengths (values and gradients)", () => {
  const H = 2;
  const D = 2;
  const lens = [4, 2];
  const Tp = 4; // padded length
  const T = lens[0] + lens[1];
  const [qx, kx, vx] = inputs(H, H, T, D, 320);
  /** Packed [1, H, T, D] -> padded [2, H, Tp, D] (zeros in padding). */
  const pad = (x: Float32Array) => {
    const out = new Float32Array(2 * H * Tp * D);
    for (let b = 0, off = 0; b < 2; off += lens[b], b++)
      for (let h = 0; h < H; h++)
        for (let t = 0; t < lens[b]; t++) out.set(x.subarray((h * T + off + t) * D, (h * T + off + t + 1) * D), ((b * H + h) * Tp + t) * D);
    return out;
  };
  const up = rand(H * T * D, 321);
  const packedRun = analyticGrads(
    (g, [q, k, v]) => causalAttention(g, q, k, v, { segments: { starts: i32(0, 4, 6) } }),
    [qx, kx, vx],
    () => up,
  );
  const paddedInputs = [qx, kx, vx].map((x) => ({ data: pad(x.data), shape: [2, H, Tp, D] }));
  const paddedRun = analyticGrads(
    (g, [q, k, v]) => causalAttention(g, q, k, v, { keyLengths: lens }),
    paddedInputs,
    () => pad(up),
  );
  for (let i = 0; i < 3; i++) assertClose(pad(Float32Array.from(packedRun.grads[i])), paddedRun.grads[i], 1e-6, 1e-5, `grad ${i}`);
  const g = new Graph({ grad: false });
  const packed = causalAttention(g, g.input(qx.data, qx.shape), g.input(kx.data, kx.shape), g.input(vx.data, vx.shape), {
    segments: { starts: i32(0, 4, 6) },
  });
  const [qp, kp, vp] = paddedInputs.map((x) => g.input(x.data, x.shape));
  const padded = causalAttention(g, qp, kp, vp, { keyLengths: lens });
  const packedAsPadded = pad(packed.data);
  for (let b = 0; b < 2; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < lens[b]; t++) {
        const o = ((b * H + h) * Tp + t) * D;
        assertClose(packedAsPadded.subarray(o, o + D), padded.data.subarray(o, o + D), 1e-6, 1e-5, `b${b} h${h} t${t}`);
      }
  g.release();
});

test("packed attention validates its segments", () => {
  const g = new Graph();
  const q = g.zeros([1, 2, 4, 2]);
  const kv = g.zeros([1, 2, 4, 2]);
  assert.throws(() => causalAttention(g, q, kv, kv, { segments: { starts: i32(0, 2, 3) } }), /from 0 to T = 4/);
  assert.throws(() => causalAttention(g, q, kv, kv, { segments: { starts: i32(0, 3, 2, 4) } }), /decrease/);
  assert.throws(() => causalAttention(g, q, kv, kv, { segments: { starts: i32(0, 4) }, pastLength: 0, keyLengths: [4] }), /exclude/);
  assert.throws(
    () => causalAttention(g, q, kv, kv, { segments: { starts: i32(0, 2, 4), contextStarts: i32(0, 0), contextEnds: i32(0, 3) } }),
    /must lie before its start 2/,
  );
  assert.throws(
    () => causalAttention(g, g.zeros([2, 2, 4, 2]), g.zeros([2, 2, 4, 2]), g.zeros([2, 2, 4, 2]), { segments: { starts: i32(0, 4) } }),
    /one packed row/,
  );
  g.release();
});
