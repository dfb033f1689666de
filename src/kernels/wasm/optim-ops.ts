/**
 * The WASM backend's optimizer and clipping kernels (AdamW, SGD, sum of
 * squares, scaling; Adafactor's are in adafactor-ops.ts), split over the thread pool. They work in place on buffers inside
 * the backend's memory (the trainer's parameter, gradient and, through
 * `alloc`, optimizer-state arenas); a buffer elsewhere takes the reference
 * loop rather than a copy of a whole arena.
 */
import type { Backend } from "../backend.js";
import { adamwUpdateRef, scaleInPlaceRef, sgdUpdateRef, sumSquaresRef } from "../ref/optim.js";
import type { WasmArena } from "./arena.js";
import { adamwJob, elementsPerTask, type PoolJob, scaleJob, sgdJob, sumSquaresJob } from "./jobs.js";

/** The optimizer kernels the WASM backend implements. */
export type WasmOptimOps = Required<Pick<Backend, "adamwUpdate" | "sgdUpdate" | "sumSquares" | "scaleInPlace">>;

/** Below this many elements a split costs more in wake-ups than it saves (about 30 us of one core's AdamW). */
export const MIN_CHUNK = 1 << 15;
/**
 * The sum of squares adds fixed blocks of this many elements, each in f64,
 * in order: the total does not depend on the thread count (so neither does
 * the clipping coefficient), as in the native backend.
 */
const SUM_BLOCK = 1 << 16;

export function checkRange(op: string, bufs: readonly Float32Array[], start: number, end: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end) {
    throw new RangeError(`wasm ${op}: bad range [${start}, ${end})`);
  }
  for (const b of bufs) if (b.length < end) throw new RangeError(`wasm ${op}: a buffer has ${b.length} values, needs ${end}`);
}

/** Binds the optimizer kernels to an arena; `run` runs a job on the pool (or the calling thread alone). */
export function createWasmOptimOps(arena: WasmArena, threads: number, run: (job: PoolJob) => void): WasmOptimOps {
  return {
    adamwUpdate(params, grads, m, v, start, end, h) {
      checkRange("adamwUpdate", [params, grads, m, v], start, end);
      const ptrs = [params, grads, m, v].map((b) => arena.offsetOf(b));
      if (ptrs.some((p) => p === undefined)) {
        adamwUpdateRef(params, grads, m, v, start, end, h);
        return;
      }
      if (start === end) return;
      const hyper = [h.beta1, h.beta2, h.eps, h.stepSize, h.bc2Sqrt, h.decay];
      run(adamwJob(ptrs as [number, number, number, number], start, end, elementsPerTask(end - start, threads, MIN_CHUNK), hyper));
    },
    sgdUpdate(params, grads, buf, start, end, h) {
      const bufs = h.momentum !== 0 ? [params, grads, buf] : [params, grads];
      checkRange("sgdUpdate", bufs, start, end);
      const ptrs = bufs.map((b) => arena.offsetOf(b));
      if (ptrs.some((p) => p === undefined)) {
        sgdUpdateRef(params, grads, buf, start, end, h);
        return;
      }
      if (start === end) return;
      const hyper = [h.lr, h.weightDecay, h.momentum, h.first ? 1 : 0];
      const [p, g, b] = ptrs as number[];
      run(sgdJob([p, g, b ?? 0], start, end, elementsPerTask(end - start, threads, MIN_CHUNK), hyper));
    },
    sumSquares(x) {
      const ptr = arena.offsetOf(x);
      if (ptr === undefined) return sumSquaresRef(x);
      const n = x.length;
      if (n === 0) return 0;
      const blocks = Math.ceil(n / SUM_BLOCK);
      const partial = arena.alloc(2 * blocks); // one f64 per block
      try {
        const out = arena.offsetOf(partial) ?? 0;
        run(sumSquaresJob(ptr, n, out, SUM_BLOCK, Math.max(1, Math.ceil(blocks / (2 * threads)))));
        const sums = new Float64Array(partial.buffer, partial.byteOffset, blocks);
        let total = 0;
        for (let b = 0; b < blocks; b++) total += sums[b];
        return total;
      } finally {
        arena.release(partial);
      }
    },
    scaleInPlace(x, coef) {
      const ptr = arena.offsetOf(x);
      if (ptr === undefined) {
        scaleInPlaceRef(x, coef);
        return;
      }
      if (x.length > 0) run(scaleJob(ptr, x.length, elementsPerTask(x.length, threads, MIN_CHUNK), coef));
    },
  };
}
