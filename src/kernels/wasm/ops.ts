import type { Backend } from "../backend.js";
import type { WasmArena } from "./arena.js";
import {
  JOB_GELU_BACKWARD,
  JOB_GELU_FORWARD,
  JOB_LOG_SUM_EXP_ROWS,
  JOB_SCALED_SOFTMAX_ROWS,
  JOB_SILU_BACKWARD,
  JOB_SILU_FORWARD,
  elementsPerTask,
  type PoolJob,
  pointwiseJob,
  rowsJob,
} from "./jobs.js";

/** Names of the optional Backend kernels the WASM backend implements. */
export const WASM_OP_NAMES = ["geluForward", "geluBackward", "siluForward", "siluBackward", "logSumExpRows", "scaledSoftmaxRows"] as const;

/** The optional Backend kernels the WASM backend implements. */
export type WasmOps = Required<Pick<Backend, (typeof WASM_OP_NAMES)[number]>>;

/** One buffer argument: how many values the kernel touches, and which way they flow. */
export interface Arg {
  buf: Float32Array | null;
  n: number;
  /** Read by the kernel (copied in when the buffer lives outside the memory). */
  read: boolean;
  /** Written by the kernel (copied back out when outside). */
  write: boolean;
}

/**
 * Runs `kernel` on byte offsets of `args` in the arena. Buffers already in the
 * memory are passed in place (the normal case: tensors come from the backend's
 * pool); others take the copy path through temporary blocks. A length short of
 * what the kernel touches is a caller bug: RangeError, before any raw access.
 */
export function staged(arena: WasmArena, op: string, args: readonly Arg[], kernel: (ptrs: number[]) => void): void {
  for (const a of args) {
    if (a.buf && a.buf.length < a.n) throw new RangeError(`wasm ${op}: a buffer has ${a.buf.length} values, needs ${a.n}`);
  }
  const temps: Float32Array[] = [];
  const copies: Array<{ from: Float32Array; to: Float32Array; n: number }> = [];
  try {
    const ptrs = args.map((a) => {
      if (a.buf === null) return 0; // kernels read 0 as "not wanted"; offset 0 is never a block
      const own = arena.offsetOf(a.buf);
      if (own !== undefined) return own;
      const tmp = arena.alloc(a.n);
      temps.push(tmp);
      if (a.read) tmp.set(a.buf.subarray(0, a.n));
      if (a.write) copies.push({ from: tmp, to: a.buf, n: a.n });
      return arena.offsetOf(tmp) ?? 0;
    });
    kernel(ptrs);
    for (const c of copies) c.to.set(c.from.subarray(0, c.n));
  } finally {
    for (const t of temps) arena.release(t);
  }
}

export const IN = (buf: Float32Array | null, n: number): Arg => ({ buf, n, read: true, write: false });
export const OUT = (buf: Float32Array, n: number): Arg => ({ buf, n, read: false, write: true });
export const INOUT = (buf: Float32Array | null, n: number): Arg => ({ buf, n, read: true, write: true });

/** The least work a pointwise or row task gets: 2^14 values (~20 us of GELU). */
const MIN_POINTWISE_CHUNK = 1 << 14;

/** Rows per task of the row kernels: about two tasks per thread, each at least 2^14 values. */
function rowsPerTask(N: number, C: number, threads: number): number {
  return Math.max(Math.ceil(N / (2 * threads)), Math.ceil(MIN_POINTWISE_CHUNK / Math.max(C, 1)));
}

/**
 * Binds the WASM op kernels to an arena; `run` runs a job on the thread pool (or the calling thread alone), the
 * work split by elements or rows, so every value is computed as one thread would.
 */
export function createWasmOps(arena: WasmArena, threads: number, run: (job: PoolJob) => void): WasmOps {
  const pointwise = (kind: number, a: number, b: number, c: number, n: number) => {
    if (n > 0) run(pointwiseJob(kind, [a, b, c], n, elementsPerTask(n, threads, MIN_POINTWISE_CHUNK)));
  };
  const rows = (kind: number, a: number, b: number, c: number, N: number, C: number) => {
    if (N > 0) run(rowsJob(kind, [a, b, c], N, C, rowsPerTask(N, C, threads)));
  };
  return {
    geluForward: (out, inp, n) =>
      staged(arena, "geluForward", [OUT(out, n), IN(inp, n)], (p) => pointwise(JOB_GELU_FORWARD, p[0], p[1], 0, n)),
    geluBackward: (dinp, inp, dout, n) =>
      staged(arena, "geluBackward", [INOUT(dinp, n), IN(inp, n), IN(dout, n)], (p) => pointwise(JOB_GELU_BACKWARD, p[0], p[1], p[2], n)),
    siluForward: (out, inp, n) =>
      staged(arena, "siluForward", [OUT(out, n), IN(inp, n)], (p) => pointwise(JOB_SILU_FORWARD, p[0], p[1], 0, n)),
    siluBackward: (dinp, inp, dout, n) =>
      staged(arena, "siluBackward", [INOUT(dinp, n), IN(inp, n), IN(dout, n)], (p) => pointwise(JOB_SILU_BACKWARD, p[0], p[1], p[2], n)),
    logSumExpRows: (lse, x, N, C) =>
      staged(arena, "logSumExpRows", [OUT(lse, N), IN(x, N * C)], (p) => rows(JOB_LOG_SUM_EXP_ROWS, p[0], p[1], 0, N, C)),
    scaledSoftmaxRows: (x, lse, scale, N, C) =>
      staged(arena, "scaledSoftmaxRows", [INOUT(x, N * C), IN(lse, N), IN(scale, N)], (p) =>
        rows(JOB_SCALED_SOFTMAX_ROWS, p[0], p[1], p[2], N, C),
      ),
  };
}
