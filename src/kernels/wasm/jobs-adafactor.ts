/** The Adafactor jobs of the WASM thread pool (and the SGD task runner beside them): builders and task runner. */
import {
  JOB_ADAFACTOR_APPLY,
  JOB_ADAFACTOR_COLS,
  JOB_ADAFACTOR_ROWS,
  JOB_ADAFACTOR_SUM_SQUARES,
  JOB_SGD,
  job,
  KIND,
  type PoolJob,
  rangeTasks,
} from "./job-kinds.js";
import type { KernelExports } from "./kernel-module.js";

/** An Adafactor tensor in the memory: byte offsets of its gradients, parameters and f64 row/column vectors. */
export interface AdafactorPtrs {
  g: number;
  p: number;
  rows: number;
  cols: number;
}

/** Adafactor's row sums over `rows` global rows of C values, `perTask` rows a task (each row summed by one task). */
export function adafactorRowsJob(a: AdafactorPtrs, rows: number, C: number, eps: number, perTask: number): PoolJob {
  return job(JOB_ADAFACTOR_ROWS, rangeTasks(0, rows, perTask), [a.g, a.rows, rows, C, eps, perTask]);
}

/** Adafactor's column sums of batch x [R, C], `perTask` columns a task (each column summed by one task). */
export function adafactorColsJob(a: AdafactorPtrs, batch: number, R: number, C: number, eps: number, perTask: number): PoolJob {
  return job(JOB_ADAFACTOR_COLS, rangeTasks(0, C, perTask), [a.g, a.cols, batch, R, C, eps, perTask]);
}

/**
 * Adafactor's sum of squares of u over n elements in fixed blocks of `block`, each block's sum stored at `out`
 * (one f64 per block), `blocksPerTask` blocks a task; the caller adds the block sums in order.
 */
export function adafactorSumSquaresJob(
  a: AdafactorPtrs,
  R: number,
  C: number,
  n: number,
  out: number,
  block: number,
  blocksPerTask: number,
): PoolJob {
  const tasks = Math.max(1, Math.ceil(Math.ceil(n / block) / blocksPerTask));
  return job(JOB_ADAFACTOR_SUM_SQUARES, tasks, [a.g, a.rows, a.cols, R, C, n, out, block, blocksPerTask]);
}

/** Adafactor's update of n elements, `chunk` elements a task (elementwise, so any split is exact). */
export function adafactorApplyJob(a: AdafactorPtrs, R: number, C: number, n: number, chunk: number, decay: number, scale: number): PoolJob {
  return job(JOB_ADAFACTOR_APPLY, rangeTasks(0, n, chunk), [a.p, a.g, a.rows, a.cols, R, C, n, chunk, decay, scale]);
}

/** Task `task` of an SGD or Adafactor job. */
export function runSgdAdafactor(k: KernelExports, p: Float64Array, task: number): void {
  switch (p[KIND]) {
    case JOB_SGD: {
      const lo = p[3] + task * p[5];
      k.optim.sgdUpdate(p[0], p[1], p[2], lo, Math.min(p[4], lo + p[5]), p[6], p[7], p[8], p[9]);
      return;
    }
    case JOB_ADAFACTOR_ROWS: {
      const [g, out, rows, C, eps, perTask] = p;
      const r0 = task * perTask;
      k.optim.adafactorRowSums(g, C, eps, out, r0, Math.min(rows, r0 + perTask));
      return;
    }
    case JOB_ADAFACTOR_COLS: {
      const [g, out, batch, R, C, eps, perTask] = p;
      const c0 = task * perTask;
      k.optim.adafactorColSums(g, batch, R, C, eps, out, c0, Math.min(C, c0 + perTask));
      return;
    }
    case JOB_ADAFACTOR_SUM_SQUARES: {
      const [g, rf, cf, R, C, n, out, block, perTask] = p;
      const last = Math.min(Math.ceil(n / block), (task + 1) * perTask);
      for (let b = task * perTask; b < last; b++) {
        k.optim.adafactorSumSquaresBlock(out + 8 * b, g, rf, cf, R, C, b * block, Math.min(n, (b + 1) * block));
      }
      return;
    }
    default: {
      const [pp, g, rf, cf, R, C, n, chunk, decay, scale] = p;
      const lo = task * chunk;
      k.optim.adafactorApply(pp, g, rf, cf, R, C, lo, Math.min(n, lo + chunk), decay, scale);
    }
  }
}
