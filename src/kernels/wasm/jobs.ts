/**
 * The jobs the WASM thread pool runs, as the pool sees them: up to 15 numeric
 * parameters plus a kind, cut into tasks that threads claim by index. One
 * encoding for the pool and for the calling thread alone, so a job computes
 * the same values however many threads take part (each task's output is its
 * own; nothing is summed across tasks in a thread-dependent order).
 */
import type { BlockCopy } from "../ref/memops.js";
import type { KernelExports } from "./kernel-module.js";
import { runSgdAdafactor } from "./jobs-adafactor.js";
import {
  JOB_ADAFACTOR_APPLY,
  JOB_ADAFACTOR_COLS,
  JOB_ADAFACTOR_ROWS,
  JOB_ADAFACTOR_SUM_SQUARES,
  JOB_ADAMW,
  JOB_COL_SUMS,
  JOB_COPY_BLOCKS,
  JOB_GELU_BACKWARD,
  JOB_GELU_FORWARD,
  JOB_LAYERNORM_BACKWARD,
  JOB_LAYERNORM_FORWARD,
  JOB_LAYERNORM_PARAM_GRADS,
  JOB_LOG_SUM_EXP_ROWS,
  JOB_PRODUCT_BACKWARD,
  JOB_PRODUCT_FORWARD,
  JOB_RMSNORM_BACKWARD,
  JOB_RMSNORM_FORWARD,
  JOB_RMSNORM_PARAM_GRADS,
  JOB_ROPE,
  JOB_SCALE,
  JOB_SCALED_SOFTMAX_ROWS,
  JOB_SGD,
  JOB_SGEMM,
  JOB_SILU_BACKWARD,
  JOB_SILU_FORWARD,
  JOB_SUM_SQUARES,
  job,
  KIND,
  type PoolJob,
  rangeTasks,
} from "./job-kinds.js";

// The encoding and the Adafactor builders live beside this file; importers keep importing from here.
export * from "./job-kinds.js";
export * from "./jobs-adafactor.js";

/** One sgemm cut along M (axis 0) or N (axis 1) into chunks of `chunk` rows/columns. */
export interface SgemmJob {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  A: number;
  B: number;
  beta: number;
  C: number;
  axis: 0 | 1;
  chunk: number;
  tasks: number;
}

export function sgemmJob(j: SgemmJob): PoolJob {
  const { M, N, K, alpha, A, B, beta, C, axis, chunk } = j;
  return job(JOB_SGEMM, j.tasks, [j.transA ? 1 : 0, j.transB ? 1 : 0, M, N, K, alpha, A, B, beta, C, axis, chunk]);
}

/** AdamW over elements [start, end) of the four buffers (byte offsets), `chunk` elements a task. */
export function adamwJob(
  ptrs: readonly [number, number, number, number],
  start: number,
  end: number,
  chunk: number,
  hyper: readonly number[],
): PoolJob {
  return job(JOB_ADAMW, rangeTasks(start, end, chunk), [...ptrs, start, end, chunk, ...hyper]);
}

/** SGD over elements [start, end) of params, grads and the momentum buffer (byte offsets), `chunk` elements a task. */
export function sgdJob(
  ptrs: readonly [number, number, number],
  start: number,
  end: number,
  chunk: number,
  hyper: readonly number[],
): PoolJob {
  return job(JOB_SGD, rangeTasks(start, end, chunk), [...ptrs, start, end, chunk, ...hyper]);
}

/**
 * Sums of squares of x's fixed blocks of `block` elements, each block's f64
 * sum stored in `out` (byte offset, one f64 per block); `blocksPerTask`
 * blocks a task. The caller adds the block sums in order: the same total for
 * any thread count.
 */
export function sumSquaresJob(x: number, n: number, out: number, block: number, blocksPerTask: number): PoolJob {
  const blocks = Math.ceil(n / block);
  return job(JOB_SUM_SQUARES, Math.max(1, Math.ceil(blocks / blocksPerTask)), [x, n, out, block, blocksPerTask]);
}

export function scaleJob(x: number, n: number, chunk: number, coef: number): PoolJob {
  return job(JOB_SCALE, rangeTasks(0, n, chunk), [x, 0, n, chunk, coef]);
}

/**
 * A pointwise kernel (JOB_GELU_* / JOB_SILU_* / JOB_PRODUCT_FORWARD) over n elements of up to three
 * buffers (byte offsets; 0 where the kernel takes fewer), `chunk` elements a task.
 */
export function pointwiseJob(kind: number, bufs: readonly [number, number, number], n: number, chunk: number): PoolJob {
  return job(kind, rangeTasks(0, n, chunk), [...bufs, n, chunk]);
}

/**
 * A row kernel (JOB_LOG_SUM_EXP_ROWS / JOB_SCALED_SOFTMAX_ROWS) over N rows of C
 * values, `rowsPerTask` rows a task; bufs in the kernel's argument order.
 */
export function rowsJob(kind: number, bufs: readonly [number, number, number], N: number, C: number, rowsPerTask: number): PoolJob {
  return job(kind, rangeTasks(0, N, rowsPerTask), [...bufs, N, C, rowsPerTask]);
}

/**
 * A block copy (see BlockCopy in kernels/ref/memops.ts) with byte-offset dst/src that include the block offsets,
 * `perTask` outer blocks a task (disjoint destinations, so any split is exact).
 */
export function copyBlocksJob(dst: number, src: number, b: BlockCopy, perTask: number): PoolJob {
  const { n0, dS0, sS0, n1, dS1, sS1, cols } = b;
  return job(JOB_COPY_BLOCKS, rangeTasks(0, n0, perTask), [dst, src, n0, dS0, sS0, n1, dS1, sS1, cols, b.accumulate ? 1 : 0, perTask]);
}

/** Column sums of x [M, N] added into sum, `perTask` columns a task (each column summed in row order by one task). */
export function colSumsJob(sum: number, x: number, M: number, N: number, perTask: number): PoolJob {
  return job(JOB_COL_SUMS, rangeTasks(0, N, perTask), [sum, x, M, N, perTask]);
}

/** The product's backward over n elements: da += dout * b, db += dout * a (byte offsets; 0 for a gradient not wanted). */
export function productBackwardJob(bufs: readonly [number, number, number, number, number], n: number, chunk: number): PoolJob {
  return job(JOB_PRODUCT_BACKWARD, rangeTasks(0, n, chunk), [...bufs, n, chunk]);
}

/**
 * A norm kernel (JOB_LAYERNORM_* / JOB_RMSNORM_*) over N rows of C values: up to six buffers (byte offsets, in the
 * kernel's order; 0 where unused or not wanted), eps (forward kernels), `perTask` rows a task, or columns for the
 * *_PARAM_GRADS kinds (each column summed over the rows in order by one task, so any split is exact).
 */
export function normJob(kind: number, bufs: readonly number[], N: number, C: number, eps: number, perTask: number): PoolJob {
  const six = [0, 1, 2, 3, 4, 5].map((i) => bufs[i] ?? 0);
  const columns = kind === JOB_LAYERNORM_PARAM_GRADS || kind === JOB_RMSNORM_PARAM_GRADS;
  return job(kind, rangeTasks(0, columns ? C : N, perTask), [...six, N, C, eps, perTask]);
}

function runNorm(k: KernelExports, p: Float64Array, task: number): void {
  const [a, b, c, d, e, f, N, C, eps, perTask] = p;
  const lo = task * perTask;
  const rowsEnd = Math.min(N, lo + perTask);
  const colsEnd = Math.min(C, lo + perTask);
  const n = k.norm;
  const kind = p[KIND];
  if (kind === JOB_LAYERNORM_FORWARD) n.layernormForward(a, b, c, d, e, f, lo, rowsEnd, C, eps);
  else if (kind === JOB_LAYERNORM_BACKWARD) n.layernormBackward(a, b, c, d, e, f, lo, rowsEnd, C);
  else if (kind === JOB_LAYERNORM_PARAM_GRADS) n.layernormParamGrads(a, b, c, d, e, f, N, C, lo, colsEnd);
  else if (kind === JOB_RMSNORM_FORWARD) n.rmsnormForward(a, b, c, d, lo, rowsEnd, C, eps);
  else if (kind === JOB_RMSNORM_BACKWARD) n.rmsnormBackward(a, b, c, d, e, lo, rowsEnd, C);
  else n.rmsnormParamGrads(a, b, c, d, N, C, lo, colsEnd);
}

/** RoPE over `rows` = B*H*T rows of D values (see NormExports.ropeRows), `perTask` rows a task (rows are independent). */
export interface RopeJob {
  y: number;
  x: number;
  cos: number;
  sin: number;
  pos: number;
  past: number;
  pBase: number;
  H: number;
  T: number;
  D: number;
  rows: number;
  backward: boolean;
}

export function ropeJob(r: RopeJob, perTask: number): PoolJob {
  const words = [r.y, r.x, r.cos, r.sin, r.pos, r.past, r.pBase, r.H, r.T, r.D, r.rows, perTask, r.backward ? 1 : 0];
  return job(JOB_ROPE, rangeTasks(0, r.rows, perTask), words);
}

function runRope(k: KernelExports, p: Float64Array, task: number): void {
  const [y, x, cos, sin, pos, past, pBase, H, T, D, rows, perTask, backward] = p;
  const r0 = task * perTask;
  k.norm.ropeRows(y, x, cos, sin, pos, past, pBase, H, T, D, r0, Math.min(rows, r0 + perTask), backward);
}

function runProductBackward(k: KernelExports, p: Float64Array, task: number): void {
  const [da, db, dout, a, b, n, chunk] = p;
  const lo = task * chunk;
  const len = Math.min(n, lo + chunk) - lo;
  const at = (ptr: number) => ptr + 4 * lo;
  if (da !== 0) k.mem.productGrad(at(da), at(dout), at(b), len);
  if (db !== 0) k.mem.productGrad(at(db), at(dout), at(a), len);
}

/** Task `task` of a pointwise job: the same kernel on its slice of every buffer (elementwise, so any split is exact). */
function runPointwise(k: KernelExports, p: Float64Array, task: number): void {
  const [a, b, c, n, chunk] = p;
  const lo = task * chunk;
  const len = Math.min(n, lo + chunk) - lo;
  const [a1, b1, c1] = [a + 4 * lo, b + 4 * lo, c + 4 * lo];
  const kind = p[KIND];
  if (kind === JOB_GELU_FORWARD) k.ops.geluForward(a1, b1, len);
  else if (kind === JOB_GELU_BACKWARD) k.ops.geluBackward(a1, b1, c1, len);
  else if (kind === JOB_SILU_FORWARD) k.ops.siluForward(a1, b1, len);
  else if (kind === JOB_PRODUCT_FORWARD) k.mem.productForward(a1, b1, c1, len);
  else k.ops.siluBackward(a1, b1, c1, len);
}

/** Task `task` of a row job: its rows of x and of the per-row vectors. */
function runRows(k: KernelExports, p: Float64Array, task: number): void {
  const [a, b, c, N, C, perTask] = p;
  const r0 = task * perTask;
  const rows = Math.min(N, r0 + perTask) - r0;
  if (p[KIND] === JOB_LOG_SUM_EXP_ROWS) k.ops.logSumExpRows(a + 4 * r0, b + 4 * r0 * C, rows, C);
  else k.ops.scaledSoftmaxRows(a + 4 * r0 * C, b + 4 * r0, c + 4 * r0, rows, C);
}

/** Runs task `task` of the job whose words are `p`, with `work` as this thread's sgemm scratch. */
export function runTask(k: KernelExports, p: Float64Array, task: number, work: number): void {
  switch (p[KIND]) {
    case JOB_SGEMM: {
      const [transA, transB, M, N, K, alpha, A, B, beta, C, axis, chunk] = p;
      const lo = task * chunk;
      if (axis === 0) k.sgemm(transA, transB, M, N, K, alpha, A, B, beta, C, lo, Math.min(M, lo + chunk), 0, N, work);
      else k.sgemm(transA, transB, M, N, K, alpha, A, B, beta, C, 0, M, lo, Math.min(N, lo + chunk), work);
      return;
    }
    case JOB_ADAMW: {
      const lo = p[4] + task * p[6];
      k.optim.adamwUpdate(p[0], p[1], p[2], p[3], lo, Math.min(p[5], lo + p[6]), p[7], p[8], p[9], p[10], p[11], p[12]);
      return;
    }
    case JOB_SUM_SQUARES: {
      const [x, n, out, block, perTask] = p;
      const lastBlock = Math.min(Math.ceil(n / block), (task + 1) * perTask);
      for (let b = task * perTask; b < lastBlock; b++) k.optim.sumSquares(out + 8 * b, x, b * block, Math.min(n, (b + 1) * block));
      return;
    }
    case JOB_SCALE: {
      const lo = p[1] + task * p[3];
      k.optim.scaleInPlace(p[0], lo, Math.min(p[2], lo + p[3]), p[4]);
      return;
    }
    case JOB_GELU_FORWARD:
    case JOB_GELU_BACKWARD:
    case JOB_SILU_FORWARD:
    case JOB_SILU_BACKWARD:
    case JOB_PRODUCT_FORWARD:
      runPointwise(k, p, task);
      return;
    case JOB_PRODUCT_BACKWARD:
      runProductBackward(k, p, task);
      return;
    case JOB_LOG_SUM_EXP_ROWS:
    case JOB_SCALED_SOFTMAX_ROWS:
      runRows(k, p, task);
      return;
    case JOB_COPY_BLOCKS: {
      const [dst, src, n0, dS0, sS0, n1, dS1, sS1, cols, acc, perTask] = p;
      const i0 = task * perTask;
      k.mem.copyBlocks(dst, src, i0, Math.min(n0, i0 + perTask), dS0, sS0, n1, dS1, sS1, cols, acc);
      return;
    }
    case JOB_LAYERNORM_FORWARD:
    case JOB_LAYERNORM_BACKWARD:
    case JOB_LAYERNORM_PARAM_GRADS:
    case JOB_RMSNORM_FORWARD:
    case JOB_RMSNORM_BACKWARD:
    case JOB_RMSNORM_PARAM_GRADS:
      runNorm(k, p, task);
      return;
    case JOB_ROPE:
      runRope(k, p, task);
      return;
    case JOB_COL_SUMS: {
      const [sum, x, M, N, perTask] = p;
      const c0 = task * perTask;
      k.mem.colSumsAcc(sum, x, M, N, c0, Math.min(N, c0 + perTask));
      return;
    }
    case JOB_SGD:
    case JOB_ADAFACTOR_ROWS:
    case JOB_ADAFACTOR_COLS:
    case JOB_ADAFACTOR_SUM_SQUARES:
    case JOB_ADAFACTOR_APPLY:
      runSgdAdafactor(k, p, task);
      return;
    default:
      throw new Error(`wasm pool: unknown job kind ${p[KIND]}`);
  }
}

/** Runs every task of `j` on the calling thread. */
export function runOnCaller(k: KernelExports, j: PoolJob, work: number): void {
  for (let t = 0; t < j.tasks; t++) runTask(k, j.words, t, work);
}
