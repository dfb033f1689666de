/**
 * The native layer norm and RMS norm cases (tests/kernels/native-norm.test.ts
 * runs them in its own process and, with RRHF_SMALL_GEMM=plain, in a child on
 * the portable C sums): every result compared with the reference
 * (kernels/ref/layernorm.ts, ref/rmsnorm.ts) as raw float32 bits.
 */
import type { Backend } from "../../src/kernels/backend.js";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { layernormBackward, layernormForward } from "../../src/kernels/ref/layernorm.js";
import { rmsnormBackward, rmsnormForward } from "../../src/kernels/ref/rmsnorm.js";
import { assertAllBitEqual, seededValues } from "./wasm-ops-helpers.js";

/**
 * [N, C]: tiny, C 1, 8, 13 (below and across one vector), SmolLM-135M's 576,
 * GPT-2's 768 and an odd 5001; the second of each pair has N * C >= 65536, so
 * 2 threads split it (NORM_MIN_PER_THREAD = 32768 values).
 */
export const SHAPES = [
  [1, 1],
  [7, 1],
  [3, 8],
  [8195, 8],
  [5, 13],
  [5107, 13],
  [7, 576],
  [119, 576],
  [67, 768],
  [91, 768],
  [9, 5001],
  [17, 5001],
] as const;

/** Every combination of wanted gradients (a null buffer: not wanted). */
const LN_WANTS = [0, 1, 2, 3, 4, 5, 6, 7].map((b) => ({ dx: (b & 1) !== 0, dw: (b & 2) !== 0, db: (b & 4) !== 0 }));
const RMS_WANTS = [0, 1, 2, 3].map((b) => ({ dx: (b & 1) !== 0, dw: (b & 2) !== 0 }));

/** Values in [lo, hi) plus, every 8 columns, a large value (2^12 to 2^27) cancelled 3 columns on: a row's sum depends on its order. */
function cancelling(N: number, C: number, seed: number, lo: number, hi: number): Float32Array {
  const x = seededValues(N * C, seed, lo, hi);
  const big = seededValues(N * C, seed + 7, 0, 1);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c + 3 < C; c += 8) {
      const v = 2 ** (12 + Math.floor(big[n * C + c] * 16));
      x[n * C + c] += v;
      x[n * C + c + 3] -= v;
    }
  }
  return x;
}

function runLayerNorm(be: Backend | null, N: number, C: number, withBias: boolean, want: (typeof LN_WANTS)[number]) {
  const fwd = be?.layernormForward ?? layernormForward;
  const bwd = be?.layernormBackward ?? layernormBackward;
  const x = cancelling(N, C, C + N, -2, 4);
  const w = seededValues(C, C + 1, 0.5, 1.5);
  const bias = withBias ? seededValues(C, C + 3) : null;
  const out = new Float32Array(N * C).fill(Number.NaN);
  const mean = new Float32Array(N);
  const rstd = new Float32Array(N);
  fwd(out, mean, rstd, x, w, bias, N, C, 1e-5);
  const dx = want.dx ? seededValues(N * C, 9) : null;
  const dw = want.dw ? seededValues(C, 10) : null;
  const db = want.db ? seededValues(C, 11) : null;
  bwd(dx, dw, db, cancelling(N, C, C + 2, -1, 1), x, w, mean, rstd, N, C);
  return { out, mean, rstd, dx, dw, db };
}

function runRmsNorm(be: Backend | null, N: number, C: number, want: (typeof RMS_WANTS)[number]) {
  const fwd = be?.rmsnormForward ?? rmsnormForward;
  const bwd = be?.rmsnormBackward ?? rmsnormBackward;
  const x = cancelling(N, C, C + N, -3, 3);
  const w = seededValues(C, C + 1, 0.5, 1.5);
  const out = new Float32Array(N * C).fill(Number.NaN);
  const rstd = new Float32Array(N);
  fwd(out, rstd, x, w, N, C, 1e-6);
  const dx = want.dx ? seededValues(N * C, 9) : null;
  const dw = want.dw ? seededValues(C, 10) : null;
  bwd(dx, dw, cancelling(N, C, C + 2, -1, 1), x, w, rstd, N, C);
  return { out, rstd, dx, dw };
}

/** Layer norm, every bias and gradient combination, 1 and 2 threads; throws (naming `label`) on the first differing bit. */
export function checkNativeLayerNorm(N: number, C: number, label: string): void {
  for (const withBias of [true, false]) {
    for (const want of LN_WANTS) {
      const ref = runLayerNorm(null, N, C, withBias, want);
      for (const threads of [1, 2]) {
        const got = runLayerNorm(createNativeBackend({ threads }), N, C, withBias, want);
        assertAllBitEqual(got, ref, `${label}: N ${N} C ${C} bias ${withBias} grads ${JSON.stringify(want)} threads ${threads}`);
      }
    }
  }
}

/** RMS norm, every gradient combination, 1 and 2 threads. */
export function checkNativeRmsNorm(N: number, C: number, label: string): void {
  for (const want of RMS_WANTS) {
    const ref = runRmsNorm(null, N, C, want);
    for (const threads of [1, 2]) {
      const got = runRmsNorm(createNativeBackend({ threads }), N, C, want);
      assertAllBitEqual(got, ref, `${label}: N ${N} C ${C} grads ${JSON.stringify(want)} threads ${threads}`);
    }
  }
}

/** Every shape, both norms. */
export function checkNativeNorm(label: string): void {
  for (const [N, C] of SHAPES) {
    checkNativeLayerNorm(N, C, label);
    checkNativeRmsNorm(N, C, label);
  }
}
