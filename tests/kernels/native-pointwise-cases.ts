/**
 * Checks of the native addon's activation and row-softmax kernels against
 * their references (kernels/ref/activations.ts, ref/row-softmax.ts), shared by
 * native-pointwise.test.ts and the child process that runs them with
 * RRHF_SMALL_GEMM=plain (the plain C loops; the addon reads it once per process).
 * Sizes below and above the point where a call is split over threads; the
 * results must not depend on the thread count (bit for bit).
 */
import assert from "node:assert/strict";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { geluBackward, geluForward, siluBackward, siluForward } from "../../src/kernels/ref/activations.js";
import { logSumExpRowsRef, scaledSoftmaxRowsRef } from "../../src/kernels/ref/row-softmax.js";
import { assertClose, seededValues } from "./wasm-ops-helpers.js";

/** Same bound as the WASM kernels' tests: f32 with a polynomial exp against f64 references. */
const TOL = 1e-5;
/** Lengths around the 8-wide vectors, and past 2 x 32768 values (split over 2 threads). */
const LENGTHS = [0, 1, 7, 8, 9, 33, 1027, 200_003];
/** [N, C]: an LM head chunk (split over threads), an attention tile, a row with a tail. */
const ROWS: ReadonlyArray<readonly [number, number]> = [
  [3, 1031],
  [128, 257],
  [40, 8192],
];

type Fwd = (out: Float32Array, inp: Float32Array, n: number) => void;
type Bwd = (dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number) => void;
const KERNELS = { gelu: [geluForward, geluBackward], silu: [siluForward, siluBackward] } as const;

/** Forward output and accumulated backward gradient of one activation at every length. */
function runPointwise(f: Fwd, b: Bwd, n: number): [Float32Array, Float32Array] {
  const x = seededValues(n, 7 + n, -12, 12);
  // Saturated ends, signed zero neighbourhood and NaN (must come out NaN).
  if (n >= 8) x.set([0, -30, 30, 1e-4, -1e-4, Number.NaN, 88, -88]);
  const out = new Float32Array(n).fill(Number.NaN);
  f(out, x, n);
  const dinp = seededValues(n, 13 + n);
  b(dinp, x, seededValues(n, 11 + n), n);
  return [out, dinp];
}

function runRows(threads: number, N: number, C: number): [Float32Array, Float32Array] {
  const be = createNativeBackend({ threads });
  const x = seededValues(N * C, N + C, -20, 20);
  const lse = new Float32Array(N);
  be.logSumExpRows?.(lse, x, N, C);
  const scale = seededValues(N, 5, -2, 2);
  be.scaledSoftmaxRows?.(x, lse, scale, N, C);
  return [lse, x];
}

/** Throws (assert) on any mismatch; `label` names the mode in messages. */
export function checkNativePointwise(label: string): void {
  for (const [name, [refF, refB]] of Object.entries(KERNELS)) {
    for (const n of LENGTHS) {
      const [want, wantD] = runPointwise(refF, refB, n);
      let first: Float32Array[] | undefined;
      for (const threads of [1, 2]) {
        const be = createNativeBackend({ threads });
        const f = name === "gelu" ? be.geluForward : be.siluForward;
        const b = name === "gelu" ? be.geluBackward : be.siluBackward;
        assert.ok(f && b, `${label}: native ${name} kernels missing`);
        const got = runPointwise(f, b, n);
        assertClose(got[0], want, TOL, `${label} ${name} forward n=${n} threads=${threads}`);
        assertClose(got[1], wantD, TOL, `${label} ${name} backward n=${n} threads=${threads}`);
        if (first) assert.deepEqual(got, first, `${label} ${name} n=${n}: 2 threads differ from 1`);
        first = got;
      }
    }
  }
  for (const [N, C] of ROWS) {
    const x = seededValues(N * C, N + C, -20, 20);
    const lse = new Float32Array(N);
    logSumExpRowsRef(lse, x, N, C);
    scaledSoftmaxRowsRef(x, lse, seededValues(N, 5, -2, 2), N, C);
    const one = runRows(1, N, C);
    assertClose(one[0], lse, TOL, `${label} logSumExpRows ${N}x${C}`);
    assertClose(one[1], x, TOL, `${label} scaledSoftmaxRows ${N}x${C}`);
    assert.deepEqual(runRows(2, N, C), one, `${label} rows ${N}x${C}: 2 threads differ from 1`);
  }
}
