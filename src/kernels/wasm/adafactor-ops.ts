/**
 * The WASM backend's Adafactor kernels (assembly/adafactor.ts), split over the
 * thread pool the way that keeps every value the reference's: row sums by
 * rows, column sums by columns, the sum of squares by fixed blocks (added in
 * order here), the update by element ranges. The parameters and gradients
 * must be in the backend's memory (else the reference loops run); the small
 * f64 row and column vectors are copied into it for each call.
 */
import type { Backend } from "../backend.js";
import { ADAFACTOR_SUM_BLOCK, adafactorApplyRef, adafactorStatsRef, adafactorSumSquaresRef, type FactoredTensor } from "../ref/optim.js";
import type { WasmArena } from "./arena.js";
import {
  type AdafactorPtrs,
  adafactorApplyJob,
  adafactorColsJob,
  adafactorRowsJob,
  adafactorSumSquaresJob,
  elementsPerTask,
  type PoolJob,
} from "./jobs.js";
import { MIN_CHUNK } from "./optim-ops.js";

export type WasmAdafactorOps = Required<Pick<Backend, "adafactorStats" | "adafactorSumSquares" | "adafactorApply">>;

function checkTensor(op: string, t: FactoredTensor, arenas: readonly Float32Array[], rows: Float64Array, cols: Float64Array): void {
  const { offset, batch, rows: R, cols: C } = t;
  for (const v of [offset, batch, R, C]) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`wasm ${op}: bad tensor ${JSON.stringify(t)}`);
  }
  if (R < 1 || C < 1) throw new RangeError(`wasm ${op}: rows and cols must be >= 1`);
  for (const a of arenas) {
    if (a.length < offset + batch * R * C) throw new RangeError(`wasm ${op}: the tensor reaches past a buffer of ${a.length} values`);
  }
  if (rows.length < batch * R || cols.length < batch * C) throw new RangeError(`wasm ${op}: row/column vectors too short`);
}

/**
 * Runs `body` with the tensor's pointers (g, p: byte offsets of the arenas), its row/column vectors copied into f64
 * scratch in the memory (plus `extra` f64 values after them, at the second argument); `copyBack` copies the vectors
 * back out afterwards. The vectors are small (R + C values), the passes read all R * C.
 */
function withScratch<T>(
  arena: WasmArena,
  t: FactoredTensor,
  at: { g: number; p: number },
  rows: Float64Array,
  cols: Float64Array,
  extra: number,
  copyBack: boolean,
  body: (a: AdafactorPtrs, extraPtr: number, scratch: Float64Array) => T,
): T {
  const nr = t.batch * t.rows;
  const nc = t.batch * t.cols;
  const buf = arena.alloc(2 * (nr + nc + extra)); // f64 values; the arena's blocks are 64-byte aligned
  try {
    const base = arena.offsetOf(buf) ?? 0;
    const f64 = new Float64Array(buf.buffer, buf.byteOffset, nr + nc + extra);
    f64.set(rows.subarray(0, nr), 0);
    f64.set(cols.subarray(0, nc), nr);
    const ptrs = { g: at.g + 4 * t.offset, p: at.p + 4 * t.offset, rows: base, cols: base + 8 * nr };
    const out = body(ptrs, base + 8 * (nr + nc), f64);
    if (copyBack) {
      rows.set(f64.subarray(0, nr));
      cols.set(f64.subarray(nr, nr + nc));
    }
    return out;
  } finally {
    arena.release(buf);
  }
}

/** Binds the Adafactor kernels to an arena; `run` runs a job on the pool (or the calling thread alone). */
export function createWasmAdafactorOps(arena: WasmArena, threads: number, run: (job: PoolJob) => void): WasmAdafactorOps {
  return {
    adafactorStats(grads, t, eps, rowSums, colSums) {
      checkTensor("adafactorStats", t, [grads], rowSums, colSums);
      const g = arena.offsetOf(grads);
      const n = t.batch * t.rows * t.cols;
      if (g === undefined || n === 0) {
        adafactorStatsRef(grads, t, eps, rowSums, colSums);
        return;
      }
      const per = elementsPerTask(n, threads, MIN_CHUNK);
      withScratch(arena, t, { g, p: 0 }, rowSums, colSums, 0, true, (a) => {
        run(adafactorRowsJob(a, t.batch * t.rows, t.cols, eps, Math.ceil(per / t.cols)));
        run(adafactorColsJob(a, t.batch, t.rows, t.cols, eps, Math.ceil(per / (t.batch * t.rows))));
      });
    },
    adafactorSumSquares(grads, t, rFactor, cFactor) {
      checkTensor("adafactorSumSquares", t, [grads], rFactor, cFactor);
      const g = arena.offsetOf(grads);
      const n = t.batch * t.rows * t.cols;
      if (g === undefined || n === 0) return adafactorSumSquaresRef(grads, t, rFactor, cFactor);
      const blocks = Math.ceil(n / ADAFACTOR_SUM_BLOCK);
      return withScratch(arena, t, { g, p: 0 }, rFactor, cFactor, blocks, false, (a, out, f64) => {
        run(adafactorSumSquaresJob(a, t.rows, t.cols, n, out, ADAFACTOR_SUM_BLOCK, Math.ceil(blocks / (2 * threads))));
        // The block sums in order, from the same start as the reference: the same total for any thread count.
        const sums = f64.subarray(f64.length - blocks);
        let total = 0;
        for (let b = 0; b < blocks; b++) total += sums[b];
        return total;
      });
    },
    adafactorApply(params, grads, t, rFactor, cFactor, decay, scale) {
      checkTensor("adafactorApply", t, [params, grads], rFactor, cFactor);
      const g = arena.offsetOf(grads);
      const p = arena.offsetOf(params);
      const n = t.batch * t.rows * t.cols;
      if (g === undefined || p === undefined || n === 0) {
        adafactorApplyRef(params, grads, t, rFactor, cFactor, decay, scale);
        return;
      }
      withScratch(arena, t, { g, p }, rFactor, cFactor, 0, false, (a) => {
        run(adafactorApplyJob(a, t.rows, t.cols, n, elementsPerTask(n, threads, MIN_CHUNK), decay, scale));
      });
    },
  };
}
