/**
 * The WASM backend's block copies and column sums (head split/merge, residual
 * adds, bias rows and their gradients) and same-shape products (SwiGLU),
 * split over the thread pool by outer blocks, columns or elements: every value
 * is computed as the reference loop computes it. Buffers outside the backend's memory take the
 * reference loop.
 */
import type { Backend } from "../backend.js";
import { type BlockCopy, colSumsAccRef, copyBlocksRef } from "../ref/memops.js";
import { productBackwardRef, productForwardRef } from "../ref/product.js";
import type { WasmArena } from "./arena.js";
import { colSumsJob, copyBlocksJob, elementsPerTask, JOB_PRODUCT_FORWARD, type PoolJob, pointwiseJob, productBackwardJob } from "./jobs.js";

/** The memory kernels the WASM backend implements. */
export type WasmMemOps = Required<Pick<Backend, "copyBlocks" | "colSumsAcc" | "productForward" | "productBackward">>;

/** Values a task should move at least, so waking a worker (tens of microseconds) pays. */
const MIN_VALUES_PER_TASK = 1 << 15;

/** One past the last index an access pattern touches (0 when it touches none). */
function extent(off: number, n0: number, s0: number, n1: number, s1: number, cols: number): number {
  return n0 === 0 || n1 === 0 || cols === 0 ? 0 : off + (n0 - 1) * s0 + (n1 - 1) * s1 + cols;
}

function checkCopy(dst: Float32Array, src: Float32Array, b: BlockCopy): void {
  for (const v of [b.dOff, b.sOff, b.n0, b.dS0, b.sS0, b.n1, b.dS1, b.sS1, b.cols]) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`wasm copyBlocks: offsets, counts and strides must be non-negative integers, got ${v}`);
  }
  if (extent(b.dOff, b.n0, b.dS0, b.n1, b.dS1, b.cols) > dst.length || extent(b.sOff, b.n0, b.sS0, b.n1, b.sS1, b.cols) > src.length) {
    throw new RangeError("wasm copyBlocks: reaches past a buffer");
  }
}

function checkProduct(op: string, bufs: readonly (Float32Array | null)[], n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`wasm ${op}: n must be an integer >= 0, got ${n}`);
  for (const b of bufs) if (b && b.length < n) throw new RangeError(`wasm ${op}: a buffer has ${b.length} values, needs ${n}`);
}

/** Binds the memory kernels to an arena; `run` runs a job on the pool (or the calling thread alone). */
export function createWasmMemOps(arena: WasmArena, threads: number, run: (job: PoolJob) => void): WasmMemOps {
  return {
    copyBlocks(dst, src, b) {
      checkCopy(dst, src, b);
      const perBlock = b.n1 * b.cols;
      if (b.n0 * perBlock === 0) return;
      const d = arena.offsetOf(dst);
      const s = arena.offsetOf(src);
      if (d === undefined || s === undefined) {
        copyBlocksRef(dst, src, b);
        return;
      }
      const perTask = Math.max(Math.ceil(b.n0 / (2 * threads)), Math.ceil(MIN_VALUES_PER_TASK / perBlock));
      run(copyBlocksJob(d + 4 * b.dOff, s + 4 * b.sOff, b, perTask));
    },
    colSumsAcc(sum, x, M, N) {
      if (!Number.isInteger(M) || !Number.isInteger(N) || M < 0 || N < 0) throw new RangeError(`wasm colSumsAcc: bad shape [${M}, ${N}]`);
      if (sum.length < N || x.length < M * N) throw new RangeError("wasm colSumsAcc: a buffer is shorter than the shape");
      if (M * N === 0) return;
      const sp = arena.offsetOf(sum);
      const xp = arena.offsetOf(x);
      if (sp === undefined || xp === undefined) {
        colSumsAccRef(sum, x, M, N);
        return;
      }
      // Column ranges in multiples of 4 keep every task on whole vectors but the last.
      const perTask = Math.ceil(Math.max(N / (2 * threads), MIN_VALUES_PER_TASK / M) / 4) * 4;
      run(colSumsJob(sp, xp, M, N, perTask));
    },
    productForward(out, a, b, n) {
      checkProduct("productForward", [out, a, b], n);
      const ptrs = [out, a, b].map((x) => arena.offsetOf(x));
      if (ptrs.some((p) => p === undefined)) productForwardRef(out, a, b, n);
      else if (n > 0)
        run(pointwiseJob(JOB_PRODUCT_FORWARD, ptrs as [number, number, number], n, elementsPerTask(n, threads, MIN_VALUES_PER_TASK)));
    },
    productBackward(da, db, dout, a, b, n) {
      checkProduct("productBackward", [da, db, dout, a, b], n);
      // 0 marks a gradient not wanted (offset 0 is never a block).
      const ptrs = [da, db, dout, a, b].map((x) => (x === null ? 0 : arena.offsetOf(x)));
      if (ptrs.some((p) => p === undefined)) productBackwardRef(da, db, dout, a, b, n);
      else if (n > 0 && (da || db))
        run(productBackwardJob(ptrs as [number, number, number, number, number], n, elementsPerTask(n, threads, MIN_VALUES_PER_TASK)));
    },
  };
}
