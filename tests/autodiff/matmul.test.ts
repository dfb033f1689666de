import assert from "node:assert/strict";
import { test } from "node:test";
import { Graph, linear, matmul, type Tensor } from "../../src/autodiff/index.js";
import { assertClose, gradCheck, rand } from "./gradcheck.js";

/** float64 reference: C[b] = op(A[b]) @ op(B[b or shared]). */
function naive(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Float64Array {
  const M = transA ? a.dim(-1) : a.dim(-2);
  const K = transA ? a.dim(-2) : a.dim(-1);
  const N = transB ? b.dim(-2) : b.dim(-1);
  const batch = a.size / (M * K);
  const out = new Float64Array(batch * M * N);
  for (let p = 0; p < batch; p++) {
    const ao = p * M * K;
    const bo = b.rank > 2 ? p * K * N : 0;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = transA ? a.data[ao + k * M + i] : a.data[ao + i * K + k];
          const bv = transB ? b.data[bo + j * K + k] : b.data[bo + k * N + j];
          s += av * bv;
        }
        out[p * M * N + i * N + j] = s;
      }
  }
  return out;
}

const M = 3;
const K = 5;
const N = 4;

for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    const aShape = transA ? [K, M] : [M, K];
    const bShape = transB ? [N, K] : [K, N];
    test(`matmul transA=${transA} transB=${transB}: forward equals float64 reference, gradients check`, () => {
      for (const batched of [false, true]) {
        const A = { data: rand(2 * M * K, 11), shape: [2, ...aShape] };
        const B = batched ? { data: rand(2 * K * N, 12), shape: [2, ...bShape] } : { data: rand(K * N, 13), shape: bShape };
        const g = new Graph({ grad: false });
        const a = g.input(A.data, A.shape);
        const b = g.input(B.data, B.shape);
        const c = matmul(g, a, b, { transA, transB });
        assert.deepEqual(c.shape, [2, M, N]);
        assertClose(c.data, naive(a, b, transA, transB), 1e-6, 1e-5, "C");
        g.release();
        gradCheck((gg, [x, y]) => matmul(gg, x, y, { transA, transB }), [A, B]);
      }
    });
  }
}

test("matmul rejects mismatched inner and batch dims", () => {
  const g = new Graph();
  assert.throws(() => matmul(g, g.zeros([2, 3]), g.zeros([4, 5])), /inner dims differ \(3 vs 4\)/);
  assert.throws(() => matmul(g, g.zeros([2, 2, 3]), g.zeros([3, 3, 5])), /batch dims differ/);
  g.release();
});

test("linear: HF [out, in] and GPT-2 Conv1D [in, out] layouts with bias", () => {
  const x = { data: rand(2 * 3 * 4, 21), shape: [2, 3, 4] };
  const wOutIn = { data: rand(5 * 4, 22), shape: [5, 4] };
  const wInOut = { data: rand(4 * 5, 23), shape: [4, 5] };
  const bias = { data: rand(5, 24), shape: [5] };
  gradCheck((g, [xx, w, b]) => linear(g, xx, w, b, "out_in"), [x, wOutIn, bias]);
  gradCheck((g, [xx, w, b]) => linear(g, xx, w, b, "in_out"), [x, wInOut, bias]);
  gradCheck((g, [xx, w]) => linear(g, xx, w), [{ data: rand(4, 25), shape: [4] }, wOutIn]);
  const g = new Graph({ grad: false });
  const y = linear(g, g.constant([1, 2], [1, 2]), g.constant([1, 0, 0, 1, 1, 1], [3, 2]), g.constant([0.5, 0.5, 0.5], [3]));
  assert.deepEqual([...y.data], [1.5, 2.5, 3.5]);
  g.release();
});
