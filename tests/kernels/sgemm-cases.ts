// Shared cases for the backend-vs-reference sgemm tests.
import assert from "node:assert/strict";
import type { Backend } from "../../src/kernels/backend.js";
import { sgemmRef } from "../../src/kernels/ref/sgemm.js";

/** Deterministic values in [-1, 1) (a small LCG, so failures reproduce). */
export function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Shapes chosen to miss the WASM tiling on purpose: M not a multiple of the
 * 4-row tile or the 128-row block, N not of the 8-column tile or the
 * 2048-column block, K not of the 256-deep block; plus 1x1, long-K and M < 4 cases.
 */
export const ODD_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 7, 3],
  [5, 13, 7],
  [4, 8, 256],
  [3, 9, 257],
  [67, 33, 300],
  [131, 17, 5],
  [5, 2057, 9],
  [2, 1, 600],
  [33, 65, 129],
  // M < 4 takes the WASM row-at-a-time path (generation): SIMD bodies plus tails.
  [1, 37, 40],
  [2, 1030, 21],
  [3, 5, 17],
  // 2 <= M <= 8 takes the native small-M path (decode steps): K and N off the 8-wide SIMD, K off the 4-row blocks.
  [4, 19, 37],
  [6, 35, 100],
  [8, 9, 8],
  [7, 3, 5],
  // AVX-512 small-M path: several 128-row chunks of K, full 32/64-column panels plus masked tails.
  [5, 70, 260],
  [3, 131, 129],
  // Big enough (N * K >= 65536) for the native small-M path to split its columns over threads.
  [4, 300, 257],
  // Big enough (M * N * K >= 2 * 2^21) for the native backend to split the product over 2 threads: by rows, by column blocks.
  [131, 67, 600],
  [37, 211, 700],
];

export const SCALINGS: Array<[number, number]> = [
  [1, 0],
  [0.5, 1],
  [-1.25, 0.75],
];

/** Asserts C equals the reference within float32 accumulation error for depth K. */
export function assertClose(actual: Float32Array, expected: Float32Array, K: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const tol = 2e-6 * (K + 1) + 1e-6;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= tol * Math.max(1, Math.abs(expected[i])))) {
      assert.fail(`${what}: C[${i}] = ${actual[i]}, reference ${expected[i]} (tolerance ${tol})`);
    }
  }
}

/**
 * Runs every odd shape x transpose combination x (alpha, beta) on `backend`
 * with buffers from `make` (backend memory or foreign arrays) against sgemmRef.
 */
export function checkAgainstRef(backend: Backend, make: (n: number) => Float32Array, label: string): void {
  let seed = 1;
  for (const [M, N, K] of ODD_SHAPES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [alpha, beta] of SCALINGS) {
          const A = make(M * K),
            B = make(K * N),
            C = make(M * N);
          A.set(seeded(M * K, seed++));
          B.set(seeded(K * N, seed++));
          C.set(seeded(M * N, seed++));
          const expected = C.slice();
          sgemmRef(transA, transB, M, N, K, alpha, A, B, beta, expected);
          backend.sgemm(transA, transB, M, N, K, alpha, A, B, beta, C);
          assertClose(C, expected, K, `${label} M=${M} N=${N} K=${K} tA=${transA} tB=${transB} a=${alpha} b=${beta}`);
        }
      }
    }
  }
}

/** Edge semantics every backend shares with the reference. */
export function checkEdgeCases(backend: Backend, make: (n: number) => Float32Array, label: string): void {
  // beta = 0 overwrites: NaN already in C must not leak through.
  const A = make(6),
    B = make(6),
    C = make(4);
  A.set(seeded(6, 7));
  B.set(seeded(6, 8));
  C.fill(Number.NaN);
  const expected = new Float32Array(4);
  sgemmRef(false, false, 2, 2, 3, 1, A, B, 0, expected);
  backend.sgemm(false, false, 2, 2, 3, 1, A, B, 0, C);
  assertClose(C, expected, 3, `${label} beta=0 with NaN in C`);

  // beta = 1 accumulates across calls (how parameter gradients are summed).
  const acc = make(4);
  backend.sgemm(false, false, 2, 2, 3, 1, A, B, 1, acc);
  backend.sgemm(false, false, 2, 2, 3, 1, A, B, 1, acc);
  const twice = new Float32Array(4);
  sgemmRef(false, false, 2, 2, 3, 2, A, B, 0, twice);
  assertClose(acc, twice, 6, `${label} beta=1 accumulation`);

  // K = 0: the product is empty, so C = beta * C.
  const c0 = make(4);
  c0.set([1, 2, 3, 4]);
  backend.sgemm(false, false, 2, 2, 0, 1, make(0), make(0), 0.5, c0);
  assert.deepEqual(Array.from(c0), [0.5, 1, 1.5, 2], `${label} K=0`);

  // Shapes that do not fit the buffers are refused before any kernel runs.
  assert.throws(() => backend.sgemm(false, false, 2, 2, 4, 1, A, B, 0, C), RangeError, `${label} short A`);
  assert.throws(() => backend.sgemm(false, false, 3, 2, 3, 1, make(9), B, 0, C), RangeError, `${label} short C`);
}

/** Views that start inside a larger buffer (non-zero byteOffset) must work too. */
export function checkOffsetViews(backend: Backend, make: (n: number) => Float32Array, label: string): void {
  const M = 9,
    N = 11,
    K = 13;
  const pool = make(3 + M * K + 5 + K * N + 7 + M * N + 2);
  pool.set(seeded(pool.length, 99));
  const A = pool.subarray(3, 3 + M * K);
  const B = pool.subarray(3 + M * K + 5, 3 + M * K + 5 + K * N);
  const cStart = 3 + M * K + 5 + K * N + 7;
  const C = pool.subarray(cStart, cStart + M * N);
  const before = pool.slice();
  const expected = C.slice();
  sgemmRef(true, false, M, N, K, 0.75, A, B, 0.5, expected);
  backend.sgemm(true, false, M, N, K, 0.75, A, B, 0.5, C);
  assertClose(C, expected, K, `${label} offset views`);
  // Nothing outside C was written.
  for (let i = 0; i < pool.length; i++) {
    if (i < cStart || i >= cStart + M * N) assert.equal(pool[i], before[i], `${label} wrote outside C at ${i}`);
  }
}
