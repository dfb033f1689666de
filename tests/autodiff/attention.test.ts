import assert from "node:assert/strict";
import { test } from "node:test";
import { add, causalAttention, Graph, matmul, scale, softmax, type AttentionOptions, type Tensor } from "../../src/autodiff/index.js";
import { analyticGrads, assertClose, gradCheck, rand } from "./gradcheck.js";

/** float64 reference with the same masking rules, written independently of the kernel. */
function naiveAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  Hq: number,
  Hkv: number,
  T: number,
  S: number,
  D: number,
  o: AttentionOptions,
): Float64Array {
  const out = new Float64Array(B * Hq * T * D);
  const past = o.pastLength ?? 0;
  const sc = o.scale ?? 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const kh = Math.floor((h * Hkv) / Hq);
      for (let t = 0; t < T; t++) {
        const w: number[] = [];
        for (let s = 0; s < S; s++) {
          const visible = s <= past + t && (!o.keyLengths || s < o.keyLengths[b]) && (!o.keyMask || o.keyMask[b * S + s] !== 0);
          if (!visible) {
            w.push(-Infinity);
            continue;
          }
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[((b * Hq + h) * T + t) * D + d] * k[((b * Hkv + kh) * S + s) * D + d];
          w.push(dot * sc);
        }
        const max = Math.max(...w);
        if (max === -Infinity) continue;
        const e = w.map((x) => Math.exp(x - max));
        const z = e.reduce((a, x) => a + x, 0);
        for (let s = 0; s < S; s++)
          for (let d = 0; d < D; d++) out[((b * Hq + h) * T + t) * D + d] += (e[s] / z) * v[((b * Hkv + kh) * S + s) * D + d];
      }
    }
  return out;
}

function inputs(B: number, Hq: number, Hkv: number, T: number, S: number, D: number, seed: number) {
  return [
    { data: rand(B * Hq * T * D, seed), shape: [B, Hq, T, D] },
    { data: rand(B * Hkv * S * D, seed + 1), shape: [B, Hkv, S, D] },
    { data: rand(B * Hkv * S * D, seed + 2), shape: [B, Hkv, S, D] },
  ];
}

const cases: { name: string; B: number; Hq: number; Hkv: number; T: number; S: number; D: number; o: AttentionOptions }[] = [
  { name: "MHA, right padding", B: 2, Hq: 2, Hkv: 2, T: 3, S: 3, D: 3, o: { keyLengths: [3, 2] } },
  { name: "GQA 2:1, padding", B: 2, Hq: 2, Hkv: 1, T: 3, S: 3, D: 2, o: { keyLengths: [2, 3] } },
  { name: "GQA 4:1 with past length 2", B: 1, Hq: 4, Hkv: 1, T: 2, S: 4, D: 3, o: { pastLength: 2 } },
  {
    name: "GQA 2:1, past 1, unused cache slot, key mask",
    B: 2,
    Hq: 4,
    Hkv: 2,
    T: 2,
    S: 4,
    D: 2,
    o: { pastLength: 1, keyMask: Uint8Array.from([0, 1, 1, 1, 1, 1, 0, 1]), keyLengths: [3, 3] },
  },
];

for (const c of cases) {
  test(`causalAttention ${c.name}: forward equals float64 reference, gradients check`, () => {
    const xs = inputs(c.B, c.Hq, c.Hkv, c.T, c.S, c.D, 50);
    const g = new Graph({ grad: false });
    const [q, k, v] = xs.map((x) => g.input(x.data, x.shape));
    const out = causalAttention(g, q, k, v, c.o);
    assertClose(
      out.data,
      naiveAttention(xs[0].data, xs[1].data, xs[2].data, c.B, c.Hq, c.Hkv, c.T, c.S, c.D, c.o),
      1e-6,
      1e-5,
      "attention",
    );
    g.release();
    gradCheck((gg, [qq, kk, vv]) => causalAttention(gg, qq, kk, vv, c.o), xs);
  });
}

test("causalAttention equals the composed version (matmul -> mask -> softmax -> matmul), values and gradients", () => {
  const B = 2,
    H = 2,
    T = 4,
    D = 3;
  const lengths = [4, 3];
  const xs = inputs(B, H, H, T, T, D, 60);
  const mask = new Float32Array(B * H * T * T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) for (let s = 0; s < T; s++) mask[((b * H + h) * T + t) * T + s] = s <= t && s < lengths[b] ? 0 : -1e9;
  const composed = (g: Graph, [q, k, v]: Tensor[]) => {
    const scores = add(g, scale(g, matmul(g, q, k, { transB: true }), 1 / Math.sqrt(D)), g.input(mask, [B, H, T, T]));
    return matmul(g, softmax(g, scores), v);
  };
  const fused = (g: Graph, [q, k, v]: Tensor[]) => causalAttention(g, q, k, v, { keyLengths: lengths });
  const u = (n: number) => rand(n, 61);
  const a = analyticGrads(fused, xs, u);
  const b = analyticGrads(composed, xs, u);
  for (let i = 0; i < 3; i++) assertClose(a.grads[i], b.grads[i], 1e-5, 1e-4, `grad ${i}`);
  const g = new Graph({ grad: false });
  const ins = xs.map((x) => g.input(x.data, x.shape));
  assertClose(fused(g, ins).data, composed(g, ins).data, 1e-6, 1e-5, "out");
  g.release();
});

test("attending over a cache: decoding step by step equals the full causal pass", () => {
  const B = 2,
    Hq = 4,
    Hkv = 2,
    T = 5,
    Smax = 7,
    D = 3;
  const [qx, kx, vx] = inputs(B, Hq, Hkv, T, T, D, 70);
  const lengths = [5, 4];
  const g = new Graph({ grad: false });
  const full = causalAttention(g, g.input(qx.data, qx.shape), g.input(kx.data, kx.shape), g.input(vx.data, vx.shape), {
    keyLengths: lengths,
  });
  // A preallocated cache with room for Smax keys; fill it one position at a time.
  const kCache = new Float32Array(B * Hkv * Smax * D);
  const vCache = new Float32Array(B * Hkv * Smax * D);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hkv; h++) {
        const src = ((b * Hkv + h) * T + t) * D;
        const dst = ((b * Hkv + h) * Smax + t) * D;
        kCache.set(kx.data.subarray(src, src + D), dst);
        vCache.set(vx.data.subarray(src, src + D), dst);
      }
    const q1 = new Float32Array(B * Hq * D);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hq; h++) q1.set(qx.data.subarray(((b * Hq + h) * T + t) * D, ((b * Hq + h) * T + t + 1) * D), (b * Hq + h) * D);
    const step = causalAttention(g, g.input(q1, [B, Hq, 1, D]), g.input(kCache, [B, Hkv, Smax, D]), g.input(vCache, [B, Hkv, Smax, D]), {
      pastLength: t,
      keyLengths: lengths,
    });
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hq; h++) {
        const want = full.data.subarray(((b * Hq + h) * T + t) * D, ((b * Hq + h) * T + t + 1) * D);
        assertClose(step.data.subarray((b * Hq + h) * D, (b * Hq + h + 1) * D), want, 1e-6, 1e-5, `t=${t} b=${b} h=${h}`);
      }
  }
  g.release();
});

test("a query with every key masked outputs zeros and passes no gradient", () => {
  const xs = inputs(1, 1, 1, 2, 2, 2, 80);
  const o = { keyMask: Uint8Array.from([0, 1]) };
  const g = new Graph();
  const [q, k, v] = xs.map((x) => g.input(x.data, x.shape, { requiresGrad: true }));
  const out = causalAttention(g, q, k, v, o);
  assert.deepEqual([...out.data.subarray(0, 2)], [0, 0]);
  assertClose(out.data.subarray(2, 4), xs[2].data.subarray(2, 4));
  g.backward(out, [1, 1, 0, 0]);
  assert.deepEqual([...(q.grad ?? [])], [0, 0, 0, 0]);
  g.release();
  gradCheck((gg, [qq, kk, vv]) => causalAttention(gg, qq, kk, vv, o), xs);
});

test("causalAttention validates shapes and options", () => {
  const g = new Graph();
  const q = g.zeros([1, 3, 2, 4]);
  const kv = g.zeros([1, 2, 2, 4]);
  assert.throws(() => causalAttention(g, q, kv, kv), /3 query heads is not a multiple of 2 KV heads/);
  const q2 = g.zeros([1, 2, 2, 4]);
  assert.throws(() => causalAttention(g, q2, kv, kv, { pastLength: 1 }), /pastLength 1 \+ 2 queries exceeds 2 keys/);
  assert.throws(() => causalAttention(g, q2, kv, kv, { keyLengths: [1, 2] }), /keyLengths has 2 entries, batch is 1/);
  g.release();
});
