import assert from "node:assert/strict";
import { test } from "node:test";
import {
  embedding,
  gatherLabels,
  gatherRows,
  gelu,
  Graph,
  layerNorm,
  logSoftmax,
  mergeHeads,
  parameter,
  rmsNorm,
  silu,
  softmax,
  swiglu,
  mul,
  split,
  splitHeads,
} from "../../src/autodiff/index.js";
import { createNativeBackend, loadNativeAddon } from "../../src/kernels/native/index.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { assertClose, gradCheck, rand } from "./gradcheck.js";

test("layerNorm forward matches a float64 reference; gradients check (with and without bias)", () => {
  const x = { data: rand(3 * 7, 31, 2), shape: [3, 7] };
  const w = { data: rand(7, 32), shape: [7] };
  const b = { data: rand(7, 33), shape: [7] };
  const g = new Graph({ grad: false });
  const y = layerNorm(g, g.input(x.data, x.shape), g.input(w.data, w.shape), g.input(b.data, b.shape), 1e-5);
  const ref: number[] = [];
  for (let n = 0; n < 3; n++) {
    const row = Array.from(x.data.subarray(n * 7, n * 7 + 7));
    const m = row.reduce((s, v) => s + v, 0) / 7;
    const v = row.reduce((s, q) => s + (q - m) ** 2, 0) / 7;
    row.forEach((q, c) => {
      ref.push(((q - m) / Math.sqrt(v + 1e-5)) * w.data[c] + b.data[c]);
    });
  }
  assertClose(y.data, ref, 1e-5, 1e-5, "layerNorm");
  g.release();
  gradCheck((gg, [xx, ww, bb]) => layerNorm(gg, xx, ww, bb), [x, w, b]);
  gradCheck((gg, [xx, ww]) => layerNorm(gg, xx, ww, null), [x, w]);
});

test("rmsNorm forward matches a float64 reference; gradients check", () => {
  const x = { data: rand(2 * 3 * 5, 34, 2), shape: [2, 3, 5] };
  const w = { data: rand(5, 35), shape: [5] };
  const g = new Graph({ grad: false });
  const y = rmsNorm(g, g.input(x.data, x.shape), g.input(w.data, w.shape), 1e-6);
  const ref: number[] = [];
  for (let n = 0; n < 6; n++) {
    const row = Array.from(x.data.subarray(n * 5, n * 5 + 5));
    const r = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 5 + 1e-6);
    row.forEach((v, c) => {
      ref.push(v * r * w.data[c]);
    });
  }
  assertClose(y.data, ref, 1e-5, 1e-5, "rmsNorm");
  g.release();
  gradCheck((gg, [xx, ww]) => rmsNorm(gg, xx, ww), [x, w]);
});

test("gelu (tanh form) and silu: known values and gradients", () => {
  const g = new Graph({ grad: false });
  const x = g.constant([-3, -1, 0, 0.5, 2], [5]);
  // gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), computed in float64.
  const k = Math.sqrt(2 / Math.PI);
  assertClose(
    gelu(g, x).data,
    [-3, -1, 0, 0.5, 2].map((v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3)))),
    1e-6,
    1e-6,
  );
  assertClose(
    silu(g, x).data,
    [-3, -1, 0, 0.5, 2].map((v) => v / (1 + Math.exp(-v))),
    1e-6,
    1e-6,
  );
  g.release();
  const inp = { data: rand(13, 36, 3), shape: [13] };
  gradCheck((gg, [xx]) => gelu(gg, xx), [inp]);
  gradCheck((gg, [xx]) => silu(gg, xx), [inp]);
});

test("softmax and logSoftmax: rows sum to one, stable for large logits, gradients check", () => {
  const g = new Graph({ grad: false });
  const x = g.constant([1000, 1001, 1002, -5, 0, 5], [2, 3]);
  const p = softmax(g, x);
  const lp = logSoftmax(g, x);
  for (let n = 0; n < 2; n++) {
    assert.ok(Math.abs(p.data[n * 3] + p.data[n * 3 + 1] + p.data[n * 3 + 2] - 1) < 1e-6);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(Math.exp(lp.data[n * 3 + c]) - p.data[n * 3 + c]) < 1e-6);
  }
  assert.ok(Number.isFinite(lp.data[0]));
  g.release();
  const inp = { data: rand(3 * 7, 37, 3), shape: [3, 7] };
  gradCheck((gg, [xx]) => softmax(gg, xx), [inp]);
  gradCheck((gg, [xx]) => logSoftmax(gg, xx), [inp]);
});

test("embedding: lookup, scatter-add gradient with repeated ids, id range checked", () => {
  const ids = Int32Array.from([2, 0, 2, 3, 2, 1]);
  const table = { data: rand(4 * 3, 38), shape: [4, 3] };
  gradCheck((gg, [w]) => embedding(gg, w, ids, [2, 3]), [table]);
  const g = new Graph({ grad: false });
  const w = g.input(table.data, table.shape);
  const out = embedding(g, w, ids, [2, 3]);
  assert.deepEqual(out.shape, [2, 3, 3]);
  assertClose(out.data.subarray(9, 12), table.data.subarray(9, 12));
  assert.throws(() => embedding(g, w, Int32Array.from([4])), /id 4 at position 0 is outside \[0, 4\)/);
  g.release();
});

test("gatherLabels skips -100 and checks labels; gatherRows scatters back", () => {
  const labels = Int32Array.from([1, -100, 4, 0]);
  const logits = { data: rand(4 * 5, 39), shape: [4, 5] };
  gradCheck((gg, [x]) => gatherLabels(gg, logSoftmax(gg, x), labels), [logits]);
  const g = new Graph();
  const x = g.input(logits.data, logits.shape, { requiresGrad: true });
  const picked = gatherLabels(g, x, labels);
  assert.deepEqual([...picked.data], [logits.data[1], 0, logits.data[14], logits.data[15]]);
  g.backward(picked, [1, 1, 1, 1]);
  const dx = x.grad;
  assert.ok(dx);
  assert.equal(
    dx.subarray(5, 10).reduce((s, v) => s + Math.abs(v), 0),
    0,
    "-100 row gets no gradient",
  );
  assert.throws(() => gatherLabels(g, x, Int32Array.from([5, 0, 0, 0])), /label 5 at position 0 is outside \[0, 5\)/);
  g.release();
  gradCheck((gg, [h]) => gatherRows(gg, h, Int32Array.from([3, 0, 3])), [{ data: rand(4 * 3, 40), shape: [2, 2, 3] }]);
});

test("splitHeads/mergeHeads are inverse permutations; split cuts the last dim", () => {
  const B = 2,
    T = 3,
    H = 2,
    D = 2;
  const x = { data: rand(B * T * H * D, 41), shape: [B, T, H * D] };
  const g = new Graph({ grad: false });
  const xt = g.input(x.data, x.shape);
  const heads = splitHeads(g, xt, H);
  assert.deepEqual(heads.shape, [B, H, T, D]);
  // [b=1, h=1, t=2, d=0] comes from x[b=1, t=2, h*D + d = 2].
  assert.equal(heads.data[((1 * H + 1) * T + 2) * D], x.data[(1 * T + 2) * H * D + 2]);
  assert.deepEqual([...mergeHeads(g, heads).data], [...x.data]);
  const [q, k, v] = split(g, xt, [1, 1, 2]);
  assert.deepEqual(v.shape, [B, T, 2]);
  assert.equal(k.data[1], x.data[4 + 1]);
  assert.throws(() => split(g, xt, [1, 1]), /do not add up/);
  assert.equal(q.size, B * T);
  g.release();
  gradCheck((gg, [xx]) => splitHeads(gg, xx, H), [x]);
  gradCheck((gg, [xx]) => mergeHeads(gg, xx), [{ data: x.data, shape: [B, H, T, D] }]);
  gradCheck((gg, [xx]) => split(gg, xx, [1, 3])[1], [x]);
});

test("splitHeads of a column range equals split then splitHeads, gradients included", () => {
  const B = 2,
    T = 3,
    H = 2,
    D = 3;
  const x = { data: rand(B * T * 3 * H * D, 45), shape: [B, T, 3 * H * D] };
  const g = new Graph({ grad: false });
  const xt = g.input(x.data, x.shape);
  const parts = split(g, xt, [H * D, H * D, H * D]);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual([...splitHeads(g, xt, H, i * H * D, H * D).data], [...splitHeads(g, parts[i], H).data], `part ${i}`);
  }
  assert.throws(() => splitHeads(g, xt, H, 2 * H * D, H * D + 1), /not \[B, T/);
  assert.throws(() => splitHeads(g, xt, H, 2 * H * D + 1, H * D), /not \[B, T/);
  g.release();
  gradCheck((gg, [xx]) => splitHeads(gg, xx, H, H * D, H * D), [x]);
});

test("parameter gradients accumulate across backward passes (micro-batches)", () => {
  const wData = rand(4 * 3, 42);
  const wGrad = new Float32Array(12);
  const w = parameter(wData, [4, 3], wGrad, "w");
  const ids = Int32Array.from([1, 1]);
  for (let step = 1; step <= 2; step++) {
    const g = new Graph();
    const out = embedding(g, w, ids);
    g.backward(out, new Float32Array(6).fill(1));
    g.release();
    assert.deepEqual([...wGrad.subarray(3, 6)], [2 * step, 2 * step, 2 * step]);
  }
  assert.equal(wGrad[0], 0);
  const frozen = parameter(wData, [4, 3], null, "frozen");
  assert.equal(frozen.requiresGrad, false);
});

test("swiglu equals silu(gate) * up bit for bit, forward and backward, and its gradients check", () => {
  const n = 3 * 37;
  const gate = rand(n, 51, 4);
  const up = rand(n, 52, 2);
  const dOut = rand(n, 53);
  // The native backend's SIMD silu and product kernels as well as the reference ones.
  const native = loadNativeAddon().ok ? [createNativeBackend({ threads: 2 })] : [];
  for (const backend of [refBackend, ...native]) {
    const run = (fused: boolean) => {
      const g = new Graph({ backend });
      const gt = g.input(gate, [3, 37], { requiresGrad: true });
      const ut = g.input(up, [3, 37], { requiresGrad: true });
      const out = fused ? swiglu(g, gt, ut) : mul(g, silu(g, gt), ut);
      const values = Float32Array.from(out.data);
      g.backward(out, dOut);
      const grads = [Float32Array.from(g.gradOf(gt)), Float32Array.from(g.gradOf(ut))];
      g.release();
      return { values, grads };
    };
    assert.deepEqual(run(true), run(false), backend.name);
  }
  gradCheck(
    (gg, [a, b]) => swiglu(gg, a, b),
    [
      { data: rand(13, 54, 3), shape: [13] },
      { data: rand(13, 55, 2), shape: [13] },
    ],
  );
  const g = new Graph();
  assert.throws(() => swiglu(g, g.zeros([2, 3]), g.zeros([3, 2])), /differ in shape/);
});
