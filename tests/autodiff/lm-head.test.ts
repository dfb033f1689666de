import assert from "node:assert/strict";
import { test } from "node:test";
import { gatherLabels, Graph, lmHeadLogProbs, logSoftmax, matmul, type Tensor } from "../../src/autodiff/index.js";
import { analyticGrads, assertClose, gradCheck, rand } from "./gradcheck.js";

const N = 7,
  C = 5,
  V = 11;
const labels = Int32Array.from([3, -100, 0, 10, -100, 7, 3]);
const h = { data: rand(N * C, 100), shape: [N, C] };
const wVC = { data: rand(V * C, 101), shape: [V, C] };
const wCV = { data: new Float32Array(C * V), shape: [C, V] };
for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) wCV.data[c * V + v] = wVC.data[v * C + c];

const composedVC = (g: Graph, [hh, w]: Tensor[]) => gatherLabels(g, logSoftmax(g, matmul(g, hh, w, { transB: true })), labels);

for (const chunkRows of [1, 2, 3, 64]) {
  test(`lmHeadLogProbs (chunkRows ${chunkRows}) equals matmul -> logSoftmax -> gather, values and gradients`, () => {
    const fusedVC = (g: Graph, [hh, w]: Tensor[]) => lmHeadLogProbs(g, hh, w, labels, { chunkRows });
    const fusedCV = (g: Graph, [hh, w]: Tensor[]) => lmHeadLogProbs(g, hh, w, labels, { chunkRows, layout: "cv" });
    const g = new Graph({ grad: false });
    const hin = g.input(h.data, h.shape);
    const want = composedVC(g, [hin, g.input(wVC.data, wVC.shape)]).data;
    assertClose(fusedVC(g, [hin, g.input(wVC.data, wVC.shape)]).data, want, 1e-6, 1e-5, "vc");
    assertClose(fusedCV(g, [hin, g.input(wCV.data, wCV.shape)]).data, want, 1e-6, 1e-5, "cv");
    g.release();
    const u = (n: number) => rand(n, 102);
    const ref = analyticGrads(composedVC, [h, wVC], u);
    const got = analyticGrads(fusedVC, [h, wVC], u);
    assertClose(got.grads[0], ref.grads[0], 1e-6, 1e-4, "dh");
    assertClose(got.grads[1], ref.grads[1], 1e-6, 1e-4, "dW vc");
    const gotCV = analyticGrads(fusedCV, [h, wCV], u);
    assertClose(gotCV.grads[0], ref.grads[0], 1e-6, 1e-4, "dh cv");
    for (let v = 0; v < V; v++)
      for (let c = 0; c < C; c++) assertClose([gotCV.grads[1][c * V + v]], [ref.grads[1][v * C + c]], 1e-6, 1e-4, "dW cv");
  });
}

test("lmHeadLogProbs gradients check by finite differences; -100 rows get exactly zero", () => {
  gradCheck((g, [hh, w]) => lmHeadLogProbs(g, hh, w, labels, { chunkRows: 2 }), [h, wVC]);
  const g = new Graph();
  const hin = g.input(h.data, h.shape, { requiresGrad: true });
  const out = lmHeadLogProbs(g, hin, g.input(wVC.data, wVC.shape), labels);
  assert.equal(out.data[1], 0);
  assert.equal(out.data[4], 0);
  g.backward(out, new Float32Array(N).fill(1));
  const dh = hin.grad;
  assert.ok(dh);
  assert.deepEqual([...dh.subarray(C, 2 * C)], [0, 0, 0, 0, 0]);
  assert.ok(dh.subarray(0, C).some((x) => x !== 0));
  g.release();
});

test("lmHeadLogProbs never computes logits for skipped rows and checks labels", () => {
  let rowsComputed = 0;
  const base = new Graph().backend;
  const counting = {
    ...base,
    sgemm: (...a: Parameters<typeof base.sgemm>) => {
      if (!a[0] && a[3] === V) rowsComputed += a[2];
      base.sgemm(...a);
    },
  };
  const g = new Graph({ backend: counting, grad: false });
  lmHeadLogProbs(g, g.input(h.data, h.shape), g.input(wVC.data, wVC.shape), labels, { chunkRows: 2 });
  assert.equal(rowsComputed, 5, "only the 5 labelled rows are projected");
  assert.throws(
    () => lmHeadLogProbs(g, g.input(h.data, h.shape), g.input(wVC.data, wVC.shape), Int32Array.from([0, 0, 0, 0, 0, 0, 11])),
    /label 11 at position 6/,
  );
  g.release();
});

test("lmHeadLogProbs rejects a fractional or NaN chunkRows instead of returning wrong log-probs", () => {
  for (const chunkRows of [2.5, Number.NaN]) {
    const g = new Graph({ grad: false });
    assert.throws(
      () => lmHeadLogProbs(g, g.input(h.data, h.shape), g.input(wVC.data, wVC.shape), labels, { chunkRows }),
      (err: Error) => err.name === "UserError" && /chunkRows/.test(err.message),
    );
    g.release();
  }
});
