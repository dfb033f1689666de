/**
 * The native addon's bf16 matmul (`--bf16`): oneDNN with bfloat16 inputs and
 * fp32 accumulation, against the fp32 product.
 *
 * Tolerance, entry by entry (a worst-case bound, not a statistical one):
 *   |C_bf16 - C_fp32| <= (2u + u^2 + 2 K eps32) * |alpha| * sum_k |a_ik b_kj| + 2 eps32 |beta C0_ij|
 * with u = 2^-8, bf16's unit roundoff (round to nearest into an 8-bit
 * significand: each input moves by at most u of itself, so each product by
 * 2u + u^2, 7.8e-3) and eps32 = 2^-24 per fp32 addition on either side. In practice the largest error is about
 * 2-3e-3 of max|C| for inputs in [-1, 1) (bench/README.md); a wrong operand,
 * transpose or scaling is off by the size of C itself and fails the bound
 * (checked below on purpose).
 *
 * Tighter: against the float64 product of the bf16-rounded inputs (what the
 * kernel should compute exactly but for fp32 accumulation), the error must be
 * within 2 K eps32 of sum_k |a_ik b_kj| — so the inputs are rounded to nearest
 * even and nothing else is lost.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import { createNativeBackend, loadNativeAddon } from "../../src/kernels/native/index.js";
import { BF16_MIN_MACS, bf16Availability } from "../../src/kernels/native/bf16.js";
import { getBackend } from "../../src/kernels/select.js";
import { seeded } from "./sgemm-cases.js";

const avail = bf16Availability();
const skip = avail.ok ? false : `--bf16 unavailable here: ${avail.reason}`;
const U = 2 ** -8;
const EPS32 = 2 ** -24;

/** Round to nearest even into bfloat16, back in a float (what the kernel feeds oneDNN). */
function toBf16(x: Float32Array): Float32Array {
  const u = new Uint32Array(Float32Array.from(x).buffer);
  for (let i = 0; i < u.length; i++) u[i] = ((u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16) << 16;
  return new Float32Array(u.buffer);
}

/** float64 alpha*op(A)op(B) + beta*C0 and sum_k |a b| per entry. */
function exact(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  B: Float32Array,
  beta: number,
  C0: Float32Array,
) {
  const value = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const p = (tA ? A[k * M + i] : A[i * K + k]) * (tB ? B[j * K + k] : B[k * N + j]);
        s += p;
        m += Math.abs(p);
      }
      value[i * N + j] = alpha * s + beta * C0[i * N + j];
      mag[i * N + j] = Math.abs(alpha) * m;
    }
  }
  return { value, mag };
}

/** The first entry breaking |got - want| <= relMag * mag + 2 eps32 |beta C0|, or null. */
function firstViolation(
  got: Float32Array,
  want: ArrayLike<number>,
  mag: Float64Array,
  relMag: number,
  beta: number,
  C0: Float32Array,
): string | null {
  for (let i = 0; i < got.length; i++) {
    const tol = relMag * mag[i] + 2 * EPS32 * Math.abs(beta * C0[i]) + 1e-30;
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol)) return `C[${i}] = ${got[i]}, expected ${want[i]} (|diff| ${d.toExponential(3)} > ${tol.toExponential(3)})`;
  }
  return null;
}

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [5, 13, 7],
  [67, 33, 300],
  [33, 65, 129],
  [128, 96, 64],
  [131, 257, 511],
];
const SCALINGS: Array<[number, number]> = [
  [1, 0],
  [0.37, 1],
  [-1.25, -0.5],
];

describe("native bf16 sgemm (oneDNN, --bf16)", { skip }, () => {
  const addon = loadNativeAddon();
  const be = createNativeBackend({ threads: 2, bf16: true, bf16MinMacs: 0 });

  it("is within the bf16 bound of fp32 and fp32-accurate on bf16-rounded inputs, every transpose, alpha and beta", () => {
    let seed = 11;
    for (const [M, N, K] of SHAPES) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const [alpha, beta] of SCALINGS) {
            const A = seeded(M * K, seed++);
            const B = seeded(K * N, seed++);
            const C0 = seeded(M * N, seed++);
            const C = C0.slice();
            be.sgemm(tA, tB, M, N, K, alpha, A, B, beta, C);
            const what = `M=${M} N=${N} K=${K} tA=${tA} tB=${tB} alpha=${alpha} beta=${beta}`;
            const f32 = exact(tA, tB, M, N, K, alpha, A, B, beta, C0);
            const bound = 2 * U + U * U + 2 * K * EPS32;
            assert.equal(firstViolation(C, f32.value, f32.mag, bound, beta, C0), null, `${what} against fp32`);
            const rounded = exact(tA, tB, M, N, K, alpha, toBf16(A), toBf16(B), beta, C0);
            assert.equal(
              firstViolation(C, rounded.value, rounded.mag, 2 * K * EPS32 + EPS32, beta, C0),
              null,
              `${what} against bf16 inputs`,
            );
          }
        }
      }
    }
  });

  it("the tolerance catches a wrong transpose, a dropped beta and a missing alpha", () => {
    const [M, N, K] = [64, 64, 96];
    const A = seeded(M * K, 5);
    const B = seeded(K * N, 6);
    const C0 = seeded(M * N, 7);
    const want = exact(false, true, M, N, K, 0.5, A, B, 1, C0);
    const bound = 2 * U + U * U + 2 * K * EPS32;
    const wrong: Array<[string, (C: Float32Array) => void]> = [
      ["transpose", (C) => be.sgemm(false, false, M, N, K, 0.5, A, B, 1, C)],
      ["beta", (C) => be.sgemm(false, true, M, N, K, 0.5, A, B, 0, C)],
      ["alpha", (C) => be.sgemm(false, true, M, N, K, 1, A, B, 1, C)],
    ];
    for (const [name, run] of wrong) {
      const C = C0.slice();
      run(C);
      assert.notEqual(firstViolation(C, want.value, want.mag, bound, 1, C0), null, `a wrong ${name} passed the bf16 tolerance`);
    }
  });

  it("beta = 0 ignores NaN in C, and beta = 1 accumulates", () => {
    const [M, N, K] = [16, 24, 40];
    const A = seeded(M * K, 21);
    const B = seeded(K * N, 22);
    const C = new Float32Array(M * N).fill(Number.NaN);
    be.sgemm(false, false, M, N, K, 1, A, B, 0, C);
    assert.ok(C.every(Number.isFinite), "NaN leaked through beta = 0");
    const once = C.slice();
    be.sgemm(false, false, M, N, K, 1, A, B, 1, C);
    C.forEach((v, i) => assert.ok(Math.abs(v - 2 * once[i]) <= 1e-5 * (1 + Math.abs(v)), `C[${i}] after two calls`));
  });

  it("really rounds: bf16 differs from fp32 above the size threshold, equals it bit for bit below", () => {
    assert.ok(addon.ok);
    const fp32 = createNativeBackend({ threads: 1 });
    const dflt = createNativeBackend({ threads: 1, bf16: true });
    for (const [M, N, K, big] of [
      [128, 128, 128, true],
      [16, 16, 16, false],
    ] as const) {
      assert.equal(M * N * K >= BF16_MIN_MACS, big);
      const A = seeded(M * K, 31);
      const B = seeded(K * N, 32);
      const viaFp32 = new Float32Array(M * N);
      const viaBf16 = new Float32Array(M * N);
      fp32.sgemm(false, false, M, N, K, 1, A, B, 0, viaFp32);
      dflt.sgemm(false, false, M, N, K, 1, A, B, 0, viaBf16);
      const same = viaFp32.every((v, i) => v === viaBf16[i]);
      assert.equal(same, !big, `${M}x${N}x${K}: bf16 ${big ? "not used" : "used below BF16_MIN_MACS"}`);
    }
  });

  it("gives the backend's threads to the addon's own split (OpenBLAS runs single-threaded parts) as without --bf16", () => {
    assert.ok(addon.ok);
    // One OpenMP pool serves the split fp32 products and oneDNN alike (native/src/split_gemm.h), so no OpenBLAS pool spins.
    createNativeBackend({ threads: 2, bf16: true });
    assert.equal(addon.addon.getThreads(), 2);
  });
});

describe("--bf16 where it cannot run", () => {
  it("is a UserError naming the setting and how to get it, for the wasm and ref backends", () => {
    for (const name of ["ref", "wasm"]) {
      assert.throws(
        () => getBackend(name, { bf16: true }),
        (e: unknown) =>
          e instanceof UserError &&
          /--bf16/.test(e.message) &&
          new RegExp(`--backend ${name}`).test(e.message) &&
          /libdnnl-dev/.test(e.message),
        name,
      );
    }
  });

  it("native without oneDNN (or without a bf16 CPU) says why", (t) => {
    if (avail.ok) return t.skip("this machine has --bf16; the refusal is for machines without it");
    assert.throws(
      () => createNativeBackend({ bf16: true }),
      (e: unknown) => e instanceof UserError && /--bf16/.test(e.message) && /libdnnl-dev/.test(e.message),
    );
  });
});
