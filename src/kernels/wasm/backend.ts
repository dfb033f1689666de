import type { Backend } from "../backend.js";
import { UserError } from "../../errors.js";
import { WasmArena } from "./arena.js";
import { MAX_TASKS } from "./control-block.js";
import { type PoolJob, runOnCaller, sgemmJob, type SgemmJob } from "./jobs.js";
import { createWasmMemOps, type WasmMemOps } from "./memops.js";
import { createWasmAdafactorOps, type WasmAdafactorOps } from "./adafactor-ops.js";
import { createWasmOptimOps, type WasmOptimOps } from "./optim-ops.js";
import { instantiateKernels, kernelModule } from "./kernel-module.js";
import { gemmAttentionBackward, gemmAttentionForward } from "../gemm-attention.js";
import { createWasmNormOps, type WasmNormOps } from "./norm-ops.js";
import { createWasmOps, type WasmOps } from "./ops.js";
import { createWasmRopeOps, type WasmRopeOps } from "./rope-ops.js";
import { checkSgemmArgs } from "./sgemm-args.js";
import { wasmAvailability } from "./simd-support.js";
import { resolveThreadCount } from "./thread-count.js";
import { ThreadPool } from "./thread-pool.js";
import { wasmApi } from "./wasm-api.js";

export interface WasmBackendOptions {
  /** Kernel threads including the calling one (default: env RRHF_THREADS, else CPUs capped at 8). */
  threads?: number;
  /** Initial memory in bytes (default 16 MiB; it grows on demand). */
  initialMemoryBytes?: number;
  /** Most memory in bytes (default 4 GiB, the wasm32 limit). */
  maxMemoryBytes?: number;
  /**
   * Smallest sgemm, in multiply-adds (M*N*K), worth splitting across threads;
   * smaller ones run on the calling thread, where waking workers would cost more
   * than it saves (default 2^21, about 0.1 ms of one core's work).
   */
  minParallelWork?: number;
}

/** The WASM SIMD backend (sgemm plus the optional op kernels), with the extras tests and benchmarks use. */
export type WasmBackend = Backend &
  WasmOps &
  WasmOptimOps &
  WasmAdafactorOps &
  WasmMemOps &
  WasmNormOps &
  WasmRopeOps &
  WasmAttention &
  WasmBackendExtras;

/** Attention forward and backward, through the threaded sgemm (kernels/gemm-attention.ts). */
type WasmAttention = Required<Pick<Backend, "attentionForward" | "attentionBackward">>;

interface WasmBackendExtras {
  readonly name: "wasm";
  readonly threads: number;
  readonly arena: WasmArena;
  /** Resolves when all worker threads are up (sgemm works before that, on fewer threads). */
  ready(): Promise<void>;
  /** Tasks each thread ran so far (index 0 = calling thread); diagnostics only. */
  tasksRun(): number[];
  /** Stops the workers; the backend must not be used afterwards. */
  close(): Promise<void>;
  /** Tests only: worker `thread` dies at its next claimed task (see ThreadPool). */
  killWorkerMidTaskForTests(thread: number): void;
}

/**
 * Creates a WASM SIMD backend with its own shared memory and `threads - 1` workers.
 * Throws UserError where this runtime cannot run it (see `wasmAvailability()`).
 */
export function createWasmBackend(opts: WasmBackendOptions = {}): WasmBackend {
  const availability = wasmAvailability();
  const api = wasmApi();
  if (!availability.ok || !api) throw new UserError(`wasm backend unavailable: ${availability.reason}`);
  const threads = resolveThreadCount(opts.threads);
  const minParallelWork = opts.minParallelWork ?? 2 ** 21;
  const arena = new WasmArena(api, { initialBytes: opts.initialMemoryBytes, maximumBytes: opts.maxMemoryBytes });
  const module = kernelModule(api);
  const kernels = instantiateKernels(api, module, arena.memory);
  const works: number[] = [];
  for (let t = 0; t < threads; t++) works.push(arena.offsetOf(arena.alloc(kernels.workBytes() / 4)) ?? 0);
  const pool = threads > 1 ? new ThreadPool(module, arena.memory, kernels, works) : undefined;
  const runJob = (job: PoolJob): void => {
    if (pool && job.tasks > 1) pool.run(job);
    else runOnCaller(kernels, job, works[0]);
  };

  const sgemm: Backend["sgemm"] = (transA, transB, M, N, K, alpha, A, B, beta, C) => {
    checkSgemmArgs(M, N, K, A, B, C);
    if (M === 0 || N === 0) return;
    // Buffers outside the memory take the slow path: copied in, and C copied back out.
    const temps: Float32Array[] = [];
    const ptr = (buf: Float32Array, n: number, copyIn: boolean): number => {
      const own = arena.offsetOf(buf);
      if (own !== undefined) return own;
      const tmp = arena.alloc(n);
      if (copyIn) tmp.set(buf.subarray(0, n));
      temps.push(tmp);
      return arena.offsetOf(tmp) ?? 0;
    };
    try {
      const a = ptr(A, M * K, true);
      const b = ptr(B, K * N, true);
      const cOwn = arena.offsetOf(C) !== undefined;
      const c = ptr(C, M * N, beta !== 0);
      runJob(sgemmJob(planJob(transA, transB, M, N, K, alpha, a, b, beta, c, pool ? threads : 1, minParallelWork)));
      if (!cOwn) C.set(temps[temps.length - 1].subarray(0, M * N));
    } finally {
      for (const t of temps) arena.release(t);
    }
  };

  const backend: WasmBackend = {
    name: "wasm",
    threads,
    arena,
    alloc: (n) => arena.alloc(n),
    release: (buf) => arena.release(buf),
    sgemm,
    ...createWasmOps(arena, pool ? threads : 1, runJob),
    ...createWasmOptimOps(arena, pool ? threads : 1, runJob),
    ...createWasmAdafactorOps(arena, pool ? threads : 1, runJob),
    ...createWasmMemOps(arena, pool ? threads : 1, runJob),
    ...createWasmNormOps(arena, pool ? threads : 1, runJob),
    ...createWasmRopeOps(arena, pool ? threads : 1, runJob),
    // Attention as tiles of the threaded SIMD sgemm (kernels/gemm-attention.ts). The single-threaded fused WASM
    // kernels these replaced were slower: the backward about 2x (bench/ops.ts), and a whole small-shape `rrhf train`
    // step 0.85 s against 0.78 s at 1 thread and 0.57 s against 0.53 s at 2 with the fused forward (2026-12-05).
    attentionForward: (out, lse, q, k, v, d) => gemmAttentionForward(backend, out, lse, q, k, v, d),
    attentionBackward: (dq, dk, dv, dout, q, k, v, out, lse, d) => gemmAttentionBackward(backend, dq, dk, dv, dout, q, k, v, out, lse, d),
    ready: () => pool?.ready() ?? Promise.resolve(),
    tasksRun: () => pool?.tasksRun() ?? [0],
    close: () => pool?.close() ?? Promise.resolve(),
    killWorkerMidTaskForTests: (thread) => {
      if (!pool) throw new RangeError("wasm backend: no worker threads (threads: 1)");
      pool.killWorkerMidTaskForTests(thread);
    },
  };
  return backend;
}

/**
 * Cuts C into slabs along whichever of M (in 4-row micro-tiles) or N (in
 * 8-column micro-tiles) has more tiles; each slab packs its own panels. Two
 * slabs per thread, claimed dynamically, so a thread the OS descheduled for a
 * while does not hold up the others.
 */
function planJob(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: number,
  B: number,
  beta: number,
  C: number,
  threads: number,
  minParallelWork: number,
): SgemmJob {
  const base = { transA, transB, M, N, K, alpha, A, B, beta, C };
  const rowTiles = Math.ceil(M / 4);
  const colTiles = Math.ceil(N / 8);
  const wanted = threads === 1 || M * N * K < minParallelWork ? 1 : Math.min(2 * threads, MAX_TASKS);
  const axis: 0 | 1 = rowTiles >= colTiles ? 0 : 1;
  const tiles = axis === 0 ? rowTiles : colTiles;
  const tasks = Math.max(1, Math.min(wanted, tiles));
  const chunk = Math.ceil(tiles / tasks) * (axis === 0 ? 4 : 8);
  return { ...base, axis, chunk, tasks: Math.ceil((axis === 0 ? M : N) / chunk) };
}
