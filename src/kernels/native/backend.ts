import type { Backend } from "../backend.js";
import { UserError } from "../../errors.js";
import { checkSgemmArgs } from "../wasm/sgemm-args.js";
import { resolveThreadCount } from "../wasm/thread-count.js";
import { createWasmBackend, type WasmBackend } from "../wasm/backend.js";
import { WASM_OP_NAMES, type WasmOps } from "../wasm/ops.js";
import { wasmAvailability } from "../wasm/simd-support.js";
import { gemmAttentionBackward, gemmAttentionForward } from "../gemm-attention.js";
import { loadNativeAddon, type NativeAddon } from "./addon.js";

export interface NativeBackendOptions {
  /**
   * OpenBLAS threads (default: env RRHF_THREADS, else CPUs capped at 8). OpenBLAS
   * keeps one pool per process, so each call sets the count when it differs.
   */
  threads?: number;
}

export interface NativeBackend extends Backend, Partial<WasmOps> {
  readonly name: "native";
  readonly threads: number;
  /** OpenBLAS build and core, for diagnostics. */
  readonly config: string;
}

/**
 * The OpenBLAS backend: cblas_sgemm on the caller's buffers in place. `alloc`
 * returns ordinary Float32Arrays; views into WASM memory work as well.
 * Throws UserError when the addon is not available, saying why.
 */
export function createNativeBackend(opts: NativeBackendOptions = {}): NativeBackend {
  const load = loadNativeAddon();
  if (!load.ok) throw new UserError(`native backend unavailable: ${load.reason}`);
  const { addon } = load;
  const threads = resolveThreadCount(opts.threads);
  addon.setThreads(threads);
  const backend: NativeBackend = {
    name: "native",
    threads,
    config: addon.config(),
    alloc: (n) => new Float32Array(n),
    release: () => {},
    ...wasmOps(),
    sgemm(transA, transB, M, N, K, alpha, A, B, beta, C) {
      checkSgemmArgs(M, N, K, A, B, C);
      if (M === 0 || N === 0) return;
      if (K === 0) {
        // BLAS rejects K = 0 with a zero leading dimension; the result is just beta * C.
        const c = C.subarray(0, M * N);
        if (beta === 0) c.fill(0);
        else for (let i = 0; i < c.length; i++) c[i] *= beta;
        return;
      }
      if (addon.getThreads() !== threads) addon.setThreads(threads);
      addon.sgemm(transA, transB, M, N, K, alpha, A, B, beta, C);
    },
    // Attention as batched OpenBLAS products (kernels/gemm-attention.ts), not the
    // single-threaded fused WASM kernels: about 1.3x faster forward, 3x backward
    // on the small benchmark shape (bench/ops.ts).
    attentionForward: (out, lse, q, k, v, d) => gemmAttentionForward(backend, out, lse, q, k, v, d),
    attentionBackward: (dq, dk, dv, dout, q, k, v, out, lse, d) => gemmAttentionBackward(backend, dq, dk, dv, dout, q, k, v, out, lse, d),
    ...optimKernels(addon),
    ...normKernels(addon),
    ...decodeKernels(addon),
    ...activationKernels(addon),
  };
  return backend;
}

/** The addon's GELU/SiLU forward (in place on plain buffers, unlike the lent WASM ones, which copy), where this build has them. */
function activationKernels(addon: NativeAddon): Pick<Backend, "geluForward" | "siluForward"> {
  const { geluForward, siluForward } = addon;
  if (!geluForward || !siluForward) return {};
  return { geluForward: geluForward.bind(addon), siluForward: siluForward.bind(addon) };
}

/** The addon's fused decode attention, where this build of it has it. */
function decodeKernels(addon: NativeAddon): Pick<Backend, "decodeAttention"> {
  const { decodeAttention } = addon;
  if (!decodeAttention) return {};
  return {
    decodeAttention: (a) =>
      decodeAttention.call(
        addon,
        a.out,
        a.q,
        a.k,
        a.v,
        a.promptK,
        a.promptV,
        a.ownK,
        a.ownV,
        a.lengths,
        Int32Array.of(a.s0, a.s1, a.Hq, a.Hkv, a.D, a.M, a.P),
        a.scale,
      ),
  };
}

/** The addon's SIMD layer/RMS norm kernels, where this build of it has them. */
function normKernels(addon: NativeAddon): Pick<Backend, "layernormForward" | "layernormBackward" | "rmsnormForward" | "rmsnormBackward"> {
  const { layernormForward, layernormBackward, rmsnormForward, rmsnormBackward } = addon;
  if (!layernormForward || !layernormBackward || !rmsnormForward || !rmsnormBackward) return {};
  return {
    layernormForward: layernormForward.bind(addon),
    layernormBackward: layernormBackward.bind(addon),
    rmsnormForward: rmsnormForward.bind(addon),
    rmsnormBackward: rmsnormBackward.bind(addon),
  };
}

/** The addon's SIMD optimizer kernels, where this build of it has them. */
function optimKernels(addon: NativeAddon): Pick<Backend, "adamwUpdate" | "sumSquares" | "scaleInPlace"> {
  const { adamwUpdate, sumSquares, scaleInPlace } = addon;
  if (!adamwUpdate || !sumSquares || !scaleInPlace) return {};
  return {
    adamwUpdate: (p, g, m, v, start, end, h) =>
      adamwUpdate.call(addon, p, g, m, v, start, end, h.beta1, h.beta2, h.eps, h.stepSize, h.bc2Sqrt, h.decay),
    sumSquares: (x) => sumSquares.call(addon, x),
    scaleInPlace: (x, coef) => scaleInPlace.call(addon, x, coef),
  };
}

/**
 * OpenBLAS has no kernels for the non-matmul ops, so the native backend lends
 * the WASM SIMD ones (where this runtime has WASM SIMD): a single-threaded WASM
 * backend, made on first use, runs them on copies of the plain buffers.
 */
function wasmOps(): Partial<WasmOps> {
  if (!wasmAvailability().ok) return {};
  let wasm: WasmBackend | undefined;
  const ops: Record<string, (...args: unknown[]) => void> = {};
  for (const name of WASM_OP_NAMES) {
    ops[name] = (...args) => {
      wasm ??= createWasmBackend({ threads: 1 });
      (wasm[name] as (...a: unknown[]) => void)(...args);
    };
  }
  return ops as Partial<WasmOps>;
}
