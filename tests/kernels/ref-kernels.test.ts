import { test } from "node:test";
import { refBackend } from "../../src/kernels/ref/index.js";
import { attentionForward } from "../../src/kernels/ref/attention.js";
import { embeddingBackward } from "../../src/kernels/ref/embedding.js";
import { logSoftmaxForward, softmaxForward } from "../../src/kernels/ref/softmax.js";
import { assertClose, rand } from "../autodiff/gradcheck.js";

test("ref sgemm: all four transpose forms and beta accumulation against float64 loops (odd shapes)", () => {
  const M = 3,
    N = 5,
    K = 7;
  const A = rand(M * K, 1);
  const B = rand(K * N, 2);
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      const C = rand(M * N, 3);
      const want = new Float64Array(M * N);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += (tA ? A[k * M + i] : A[i * K + k]) * (tB ? B[j * K + k] : B[k * N + j]);
          want[i * N + j] = 0.5 * s + C[i * N + j];
        }
      refBackend.sgemm(tA, tB, M, N, K, 0.5, A, B, 1, C);
      assertClose(C, want, 1e-6, 1e-5, `sgemm ${tA} ${tB}`);
    }
  }
});

test("ref softmax/logSoftmax kernels against float64", () => {
  const x = rand(2 * 9, 4, 5);
  const p = new Float32Array(18);
  const lp = new Float32Array(18);
  softmaxForward(p, x, 2, 9);
  logSoftmaxForward(lp, x, 2, 9);
  for (let n = 0; n < 2; n++) {
    const row = Array.from(x.subarray(n * 9, n * 9 + 9));
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    assertClose(
      p.subarray(n * 9, n * 9 + 9),
      row.map((v) => Math.exp(v - lse)),
      1e-7,
      1e-5,
    );
    assertClose(
      lp.subarray(n * 9, n * 9 + 9),
      row.map((v) => v - lse),
      1e-6,
      1e-6,
    );
  }
});

test("ref embedding backward scatter-adds and attention with one key copies v", () => {
  const dW = new Float32Array(6);
  embeddingBackward(dW, Float32Array.from([1, 2, 3, 4, 5, 6]), Int32Array.from([1, 1, 0]), 3, 2);
  assertClose(dW, [5, 6, 4, 6, 0, 0]);
  // One query at position 0 sees only key 0: output = v[0], lse = q.k * scale.
  const out = new Float32Array(2);
  const lse = new Float32Array(1);
  attentionForward(out, lse, Float32Array.from([1, 2]), Float32Array.from([3, 4, 9, 9]), Float32Array.from([5, 6, 7, 7]), {
    B: 1,
    Hq: 1,
    Hkv: 1,
    T: 1,
    S: 2,
    D: 2,
    past: 0,
    scale: 0.5,
    keyLengths: null,
    keyMask: null,
  });
  assertClose(out, [5, 6]);
  assertClose(lse, [5.5]);
});
