/**
 * The WASM backend's layer norm and RMS norm (assembly/norm.ts), split over the
 * thread pool: the forward and the input gradient by rows (rows are
 * independent), the weight and bias gradients by columns, each column summed
 * over the rows in order by one task. Every value is computed as the
 * reference loop (kernels/ref/layernorm.ts, ref/rmsnorm.ts) computes it, in
 * f64, so results equal it bit for bit on any thread count. Buffers outside
 * the backend's memory are copied in (and written ones back out).
 */
import type { Backend } from "../backend.js";
import { layernormBackward, layernormForward } from "../ref/layernorm.js";
import { rmsnormBackward, rmsnormForward } from "../ref/rmsnorm.js";
import type { WasmArena } from "./arena.js";
import {
  JOB_LAYERNORM_BACKWARD,
  JOB_LAYERNORM_FORWARD,
  JOB_LAYERNORM_PARAM_GRADS,
  JOB_RMSNORM_BACKWARD,
  JOB_RMSNORM_FORWARD,
  JOB_RMSNORM_PARAM_GRADS,
  normJob,
  type PoolJob,
} from "./jobs.js";
import { IN, INOUT, OUT, staged } from "./ops.js";

/** The norm kernels the WASM backend implements. */
export type WasmNormOps = Required<Pick<Backend, "layernormForward" | "layernormBackward" | "rmsnormForward" | "rmsnormBackward">>;

/** The least work a task gets: 2^14 values (tens of microseconds), below which waking a worker costs more than it saves. */
const MIN_VALUES_PER_TASK = 1 << 14;

/** About two tasks per thread, each at least MIN_VALUES_PER_TASK values, in multiples of 4 (the kernels' row group, f64x2 column pairs). */
function perTask(count: number, other: number, threads: number): number {
  return Math.ceil(Math.max(count / (2 * threads), MIN_VALUES_PER_TASK / other) / 4) * 4;
}

/** True for shapes the kernels run; an empty or malformed one takes the reference loop (which defines what it does). */
function runnable(N: number, C: number): boolean {
  return Number.isInteger(N) && Number.isInteger(C) && N > 0 && C > 0;
}

/** Binds the norm kernels to an arena; `run` runs a job on the pool (or the calling thread alone). */
export function createWasmNormOps(arena: WasmArena, threads: number, run: (job: PoolJob) => void): WasmNormOps {
  const rowsJob = (kind: number, bufs: number[], N: number, C: number, eps: number) =>
    run(normJob(kind, bufs, N, C, eps, perTask(N, C, threads)));
  const colsJob = (kind: number, bufs: number[], N: number, C: number) => run(normJob(kind, bufs, N, C, 0, perTask(C, N, threads)));
  return {
    layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps) {
      if (!runnable(N, C)) {
        layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps);
        return;
      }
      const args = [OUT(out, N * C), OUT(mean, N), OUT(rstd, N), IN(inp, N * C), IN(weight, C), IN(bias, C)];
      staged(arena, "layernormForward", args, (p) => rowsJob(JOB_LAYERNORM_FORWARD, p, N, C, eps));
    },
    layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C) {
      if (!runnable(N, C)) {
        layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
        return;
      }
      const args = [
        INOUT(dinp, N * C),
        INOUT(dweight, C),
        INOUT(dbias, C),
        IN(dout, N * C),
        IN(inp, N * C),
        IN(weight, C),
        IN(mean, N),
        IN(rstd, N),
      ];
      staged(arena, "layernormBackward", args, ([di, dw, db, g, x, w, m, s]) => {
        if (di !== 0) rowsJob(JOB_LAYERNORM_BACKWARD, [di, g, x, w, m, s], N, C, 0);
        if (dw !== 0 || db !== 0) colsJob(JOB_LAYERNORM_PARAM_GRADS, [dw, db, g, x, m, s], N, C);
      });
    },
    rmsnormForward(out, rstd, inp, weight, N, C, eps) {
      if (!runnable(N, C)) {
        rmsnormForward(out, rstd, inp, weight, N, C, eps);
        return;
      }
      const args = [OUT(out, N * C), OUT(rstd, N), IN(inp, N * C), IN(weight, C)];
      staged(arena, "rmsnormForward", args, (p) => rowsJob(JOB_RMSNORM_FORWARD, p, N, C, eps));
    },
    rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C) {
      if (!runnable(N, C)) {
        rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C);
        return;
      }
      const args = [INOUT(dinp, N * C), INOUT(dweight, C), IN(dout, N * C), IN(inp, N * C), IN(weight, C), IN(rstd, N)];
      staged(arena, "rmsnormBackward", args, ([di, dw, g, x, w, s]) => {
        if (di !== 0) rowsJob(JOB_RMSNORM_BACKWARD, [di, g, x, w, s], N, C, 0);
        if (dw !== 0) colsJob(JOB_RMSNORM_PARAM_GRADS, [dw, g, x, s], N, C);
      });
    },
  };
}
