/**
 * The WASM backend's block copies and column sums (head split/merge, residual
 * adds, bias rows and their gradients), split over the thread pool by outer
 * blocks or by columns: every value is the one f32 copy or add the reference
 * loop makes, in its order. Buffers outside the backend's memory take the
 * reference loop.
 */
import type { Backend } from "../backend.js";
import { type BlockCopy, colSumsAccRef, copyBlocksRef } from "../ref/memops.js";
import type { WasmArena } from "./arena.js";
import { colSumsJob, copyBlocksJob, type PoolJob } from "./jobs.js";

/** The memory kernels the WASM backend implements. */
export type WasmMemOps = Required<Pick<Backend, "copyBlocks" | "colSumsAcc">>;

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
  };
}
