/**
 * Exact-equality checks of the SGD and Adafactor kernels against their
 * reference loops (kernels/ref/optim.ts), shared by the native and WASM
 * kernel tests: the kernels compute in the reference's order and precision,
 * so every stored value and every sum must be identical, not just close.
 */
import assert from "node:assert/strict";
import type { Backend } from "../../src/kernels/backend.js";
import {
  ADAFACTOR_SUM_BLOCK,
  adafactorApplyRef,
  adafactorStatsRef,
  adafactorSumSquaresRef,
  type FactoredTensor,
  type SgdStep,
  sgdUpdateRef,
} from "../../src/kernels/ref/optim.js";
import { seededValues } from "./wasm-ops-helpers.js";

export type SgdAdafactorKernels = Required<Pick<Backend, "sgdUpdate" | "adafactorStats" | "adafactorSumSquares" | "adafactorApply">>;

/** Puts a copy of `values` where the kernels under test read it (e.g. into WASM memory); default a plain copy. */
export type Placer = (values: Float32Array) => Float32Array;
const plain: Placer = (v) => Float32Array.from(v);

/**
 * Factored tensors: R or C = 1, sizes that are no multiple of 2, 8 or the 2^16 block, rows that cross blocks,
 * several blocks (the largest are split over threads), batched matrices, and an offset into the arena.
 */
export const FACTORED_CASES: readonly FactoredTensor[] = [
  { offset: 0, batch: 1, rows: 1, cols: 1 },
  { offset: 3, batch: 1, rows: 1, cols: 1037 },
  { offset: 5, batch: 1, rows: 37, cols: 1 },
  { offset: 1, batch: 1, rows: 13, cols: 29 },
  { offset: 7, batch: 2, rows: 7, cols: 19 },
  { offset: 2, batch: 1, rows: 301, cols: 997 },
  { offset: 0, batch: 1, rows: 1, cols: 3 * ADAFACTOR_SUM_BLOCK + 11 },
  { offset: 9, batch: 1, rows: 70_001, cols: 3 },
  { offset: 4, batch: 3, rows: 101, cols: 517 },
];

/** Positive f64 factors that are not f32 values (the kernels must not round them). */
function factors(n: number, seed: number): Float64Array {
  const v = seededValues(n, seed, 0.25, 4);
  return Float64Array.from(v, (x, i) => x * (1 + 1e-9 * (i % 7)));
}

function tensorData(t: FactoredTensor, seed: number) {
  const len = t.offset + t.batch * t.rows * t.cols + 5;
  return {
    p: seededValues(len, seed, -1, 1),
    g: seededValues(len, seed + 1, -3, 3),
    rf: factors(t.batch * t.rows, seed + 2),
    cf: factors(t.batch * t.cols, seed + 3),
  };
}

const name = (t: FactoredTensor) => `[${t.batch}x${t.rows}x${t.cols}]@${t.offset}`;

/** Statistics, sum of squares and update (decayed and not) of every case, against the reference. */
export function checkAdafactorKernels(k: SgdAdafactorKernels, place: Placer = plain): void {
  FACTORED_CASES.forEach((t, i) => {
    const d = tensorData(t, 10 * i + 1);
    const g = place(d.g);
    const want = { rows: new Float64Array(t.batch * t.rows), cols: new Float64Array(t.batch * t.cols) };
    const got = { rows: new Float64Array(t.batch * t.rows), cols: new Float64Array(t.batch * t.cols).fill(Number.NaN) };
    adafactorStatsRef(d.g, t, 1e-30, want.rows, want.cols);
    k.adafactorStats(g, t, 1e-30, got.rows, got.cols);
    assert.deepEqual(got, want, `stats ${name(t)}`);
    const sum = k.adafactorSumSquares(g, t, d.rf, d.cf);
    assert.equal(sum, adafactorSumSquaresRef(d.g, t, d.rf, d.cf), `sum of squares ${name(t)}`);
    for (const decay of [1, 1 - 1e-3 * 0.1]) {
      const ref = Float32Array.from(d.p);
      const p = place(d.p);
      adafactorApplyRef(ref, d.g, t, d.rf, d.cf, decay, 1e-3);
      k.adafactorApply(p, g, t, d.rf, d.cf, decay, 1e-3);
      assert.deepEqual(p, ref, `apply ${name(t)} decay ${decay}`);
    }
  });
}

/** Lengths, sub-ranges, momentum on and off, first and later steps, weight decay or none, against the reference. */
export function checkSgdKernel(k: SgdAdafactorKernels, place: Placer = plain): void {
  for (const n of [1, 2, 3, 1037, 300_007]) {
    for (const momentum of [0, 0.9]) {
      for (const weightDecay of [0, 0.1]) {
        const [start, end] = n > 8 ? [5, n - 3] : [0, n];
        const ref = { p: seededValues(n, n), g: seededValues(n, n + 1, -3, 3), buf: seededValues(momentum ? n : 0, 7) };
        const [p, g, buf] = [ref.p, ref.g, ref.buf].map(place);
        for (const first of [true, false, false]) {
          const h: SgdStep = { lr: 0.05, weightDecay, momentum, first };
          sgdUpdateRef(ref.p, ref.g, ref.buf, start, end, h);
          k.sgdUpdate(p, g, buf, start, end, h);
        }
        assert.deepEqual([p, buf], [ref.p, ref.buf], `sgd n ${n} momentum ${momentum} wd ${weightDecay}`);
      }
    }
  }
}
