/**
 * The WASM layer norm and RMS norm (assembly/norm.ts, split over the pool by
 * kernels/wasm/norm-ops.ts) against kernels/ref/layernorm.ts and
 * ref/rmsnorm.ts. The kernels keep the reference's f64 arithmetic and its
 * order (each row summed in order, each weight/bias gradient column summed
 * over the rows in order), so results must be EQUAL BIT FOR BIT, compared as
 * raw float32 bits, on 1 and 2 threads and for buffers in WASM memory
 * (aligned or not) and outside it. Row counts that are and are not multiples
 * of the kernels' 4-row groups, C odd and even; backward accumulates, and each
 * combination of wanted gradients is run.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Backend } from "../../src/kernels/backend.js";
import { layernormBackward, layernormForward } from "../../src/kernels/ref/layernorm.js";
import { rmsnormBackward, rmsnormForward } from "../../src/kernels/ref/rmsnorm.js";
import { wasmAvailability } from "../../src/kernels/wasm/index.js";
import { assertAllBitEqual, place, PLACEMENTS, seededValues, wasmByThreads } from "./wasm-ops-helpers.js";

const available = wasmAvailability();
const wasm = wasmByThreads();

/** [N, C]: tiny, odd, SmolLM-135M's and GPT-2's widths, and shapes large enough for several row and column tasks. */
const SHAPES = [
  [1, 1],
  [3, 8],
  [5, 13],
  [7, 576],
  [67, 768],
  [9, 5001],
] as const;

/** Which gradients the backward is asked for: all, input only, parameters only. */
const WANTS = [
  { dx: true, dp: true },
  { dx: true, dp: false },
  { dx: false, dp: true },
] as const;

type Put = (a: Float32Array) => Float32Array;

function runLayerNorm(be: Backend | null, N: number, C: number, withBias: boolean, want: (typeof WANTS)[number], put: Put) {
  const fwd = be?.layernormForward ?? layernormForward;
  const bwd = be?.layernormBackward ?? layernormBackward;
  // An offset keeps the row means away from 0, where a reordered sum would show most.
  const x = put(seededValues(N * C, C + N, -2, 4));
  const w = put(seededValues(C, C + 1, 0.5, 1.5));
  const bias = withBias ? put(seededValues(C, C + 3)) : null;
  const out = put(new Float32Array(N * C).fill(Number.NaN));
  const mean = put(new Float32Array(N));
  const rstd = put(new Float32Array(N));
  fwd(out, mean, rstd, x, w, bias, N, C, 1e-5);
  const dx = want.dx ? put(seededValues(N * C, 9)) : null;
  const dw = want.dp ? put(seededValues(C, 10)) : null;
  const db = want.dp ? put(seededValues(C, 11)) : null;
  bwd(dx, dw, db, put(seededValues(N * C, C + 2)), x, w, mean, rstd, N, C);
  return { out, mean, rstd, dx, dw, db };
}

function runRmsNorm(be: Backend | null, N: number, C: number, want: (typeof WANTS)[number], put: Put) {
  const fwd = be?.rmsnormForward ?? rmsnormForward;
  const bwd = be?.rmsnormBackward ?? rmsnormBackward;
  const x = put(seededValues(N * C, C + N, -3, 3));
  const w = put(seededValues(C, C + 1, 0.5, 1.5));
  const out = put(new Float32Array(N * C).fill(Number.NaN));
  const rstd = put(new Float32Array(N));
  fwd(out, rstd, x, w, N, C, 1e-6);
  const dx = want.dx ? put(seededValues(N * C, 9)) : null;
  const dw = want.dp ? put(seededValues(C, 10)) : null;
  bwd(dx, dw, put(seededValues(N * C, C + 2)), x, w, rstd, N, C);
  return { out, rstd, dx, dw };
}

describe("wasm norm kernels", { skip: available.ok ? false : available.reason }, () => {
  for (const [N, C] of SHAPES) {
    it(`layer norm forward and backward equal the reference bit for bit (N ${N}, C ${C}); 1 and 2 threads, every placement`, async () => {
      for (const withBias of [true, false]) {
        for (const want of WANTS) {
          const ref = runLayerNorm(null, N, C, withBias, want, (a) => a);
          for (const threads of [1, 2]) {
            const be = wasm(threads);
            await be.ready();
            for (const where of PLACEMENTS) {
              const got = runLayerNorm(be, N, C, withBias, want, (a) => place(be, a, where));
              assertAllBitEqual(got, ref, `bias ${withBias} grads ${JSON.stringify(want)} threads ${threads} ${where}`);
            }
          }
        }
      }
    });

    it(`RMS norm forward and backward equal the reference bit for bit (N ${N}, C ${C}); 1 and 2 threads, every placement`, async () => {
      for (const want of WANTS) {
        const ref = runRmsNorm(null, N, C, want, (a) => a);
        for (const threads of [1, 2]) {
          const be = wasm(threads);
          await be.ready();
          for (const where of PLACEMENTS) {
            const got = runRmsNorm(be, N, C, want, (a) => place(be, a, where));
            assertAllBitEqual(got, ref, `grads ${JSON.stringify(want)} threads ${threads} ${where}`);
          }
        }
      }
    });
  }

  it("a large norm runs as several tasks on 2 threads; short buffers are refused", async () => {
    const be = wasm(2);
    await be.ready();
    const [N, C] = [67, 768];
    const before = be.tasksRun().reduce((a, c) => a + c, 0);
    runRmsNorm(be, N, C, WANTS[0], (a) => place(be, a, "wasm"));
    assert.ok(be.tasksRun().reduce((a, c) => a + c, 0) - before > 3);
    const x = be.alloc(N * C);
    assert.throws(() => be.rmsnormForward(be.alloc(N * C - 1), be.alloc(N), x, be.alloc(C), N, C, 1e-6), RangeError);
    assert.throws(() => be.layernormForward(be.alloc(N * C), be.alloc(N), be.alloc(N), x, be.alloc(C - 1), null, N, C, 1e-5), RangeError);
  });
});
