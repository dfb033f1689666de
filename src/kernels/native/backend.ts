import type { Backend } from "../backend.js";
import { UserError } from "../../errors.js";
import { checkSgemmArgs } from "../wasm/sgemm-args.js";
import { resolveThreadCount } from "../wasm/thread-count.js";
import { createWasmBackend, type WasmBackend } from "../wasm/backend.js";
import { WASM_OP_NAMES, type WasmOps } from "../wasm/ops.js";
import { wasmAvailability } from "../wasm/simd-support.js";
import { gemmAttentionBackward, gemmAttentionForward, type TiledAttentionKernels } from "../gemm-attention.js";
import { loadNativeAddon, type NativeAddon } from "./addon.js";
import { BF16_MIN_MACS, requireBf16Sgemm } from "./bf16.js";
import { hugePageMode, pageKernels } from "./pages.js";

export interface NativeBackendOptions {
  /**
   * Threads (default: env RRHF_THREADS, else CPUs capped at 8): large products
   * are split over them, each part single-threaded OpenBLAS, as are the other
   * kernels (native/src/split_gemm.h). The addon keeps one count per process,
   * so each call sets it when it differs.
   */
  threads?: number;
  /** `--bf16`: matrix products of at least BF16_MIN_MACS multiply-adds on oneDNN's bf16 matmul (kernels/native/bf16.ts). */
  bf16?: boolean;
  /** With bf16: the smallest product (M*N*K) sent to bf16; default BF16_MIN_MACS. 0 sends every product (tests). */
  bf16MinMacs?: number;
  /** `--release-memory`: large buffers on huge pages and `discard`, on Linux with transparent huge pages (pages.ts). */
  releaseMemory?: boolean;
}

export interface NativeBackend extends Backend, Partial<WasmOps>, Partial<TiledAttentionKernels> {
  readonly name: "native";
  readonly threads: number;
  /** OpenBLAS build and core, for diagnostics. */
  readonly config: string;
  /** Whether matrix products run in bf16 (`--bf16`). */
  readonly bf16: boolean;
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
  const bf16 = opts.bf16 ? requireBf16Sgemm(addon, threads) : null;
  const bf16MinMacs = opts.bf16MinMacs ?? BF16_MIN_MACS;
  addon.setThreads(threads);
  // The addon's thread count is process-wide: another backend may have changed it since.
  const sync = (): void => {
    if (addon.getThreads() !== threads) addon.setThreads(threads);
  };
  const backend: NativeBackend = {
    name: "native",
    threads,
    config: addon.config(),
    bf16: bf16 !== null,
    ...pageKernels(addon, opts.releaseMemory ? hugePageMode() : null),
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
      sync();
      if (bf16 && M * N * K >= bf16MinMacs) bf16(transA, transB, M, N, K, alpha, A, B, beta, C);
      else addon.sgemm(transA, transB, M, N, K, alpha, A, B, beta, C);
    },
    // Attention as batched OpenBLAS products (kernels/gemm-attention.ts), not the
    // single-threaded fused WASM kernels: about 1.3x faster forward, 3x backward
    // on the small benchmark shape (bench/ops.ts).
    attentionForward: (out, lse, q, k, v, d) => gemmAttentionForward(backend, out, lse, q, k, v, d),
    attentionBackward: (dq, dk, dv, dout, q, k, v, out, lse, d) => gemmAttentionBackward(backend, dq, dk, dv, dout, q, k, v, out, lse, d),
    ...optimKernels(addon, sync),
    ...sgdAdafactorKernels(addon, sync),
    ...normKernels(addon, sync),
    ...pointwiseKernels(addon, sync),
    ...memKernels(addon, sync),
    ...attentionKernels(addon, sync),
    ...decodeKernels(addon, sync),
    ...ropeKernels(addon, sync),
  };
  return backend;
}

/** The addon's fused decode attention, where this build of it has it. */
function decodeKernels(addon: NativeAddon, sync: () => void): Pick<Backend, "decodeAttention"> {
  const { decodeAttention } = addon;
  if (!decodeAttention) return {};
  return {
    decodeAttention: (a) => {
      sync();
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
      );
    },
  };
}

/** The addon's threaded RoPE kernels (bit-equal to kernels/ref/rope.ts), where this build has them. */
function ropeKernels(addon: NativeAddon, sync: () => void): Pick<Backend, "ropeForward" | "ropeBackward"> {
  const { ropeForward: fwd, ropeBackward: bwd } = addon;
  if (!fwd || !bwd) return {};
  return {
    ropeForward: (out, inp, cos, sin, positions, past, d) => {
      sync();
      fwd.call(addon, out, inp, cos, sin, positions, past, d.B, d.H, d.T, d.D);
    },
    ropeBackward: (dinp, dout, cos, sin, positions, past, d) => {
      sync();
      bwd.call(addon, dinp, dout, cos, sin, positions, past, d.B, d.H, d.T, d.D);
    },
  };
}

/** The addon's threaded layer/RMS norm kernels (bit-equal to kernels/ref/layernorm.ts, rmsnorm.ts), where this build has them. */
function normKernels(
  addon: NativeAddon,
  sync: () => void,
): Pick<Backend, "layernormForward" | "layernormBackward" | "rmsnormForward" | "rmsnormBackward"> {
  const { layernormForward: lnF, layernormBackward: lnB, rmsnormForward: rmsF, rmsnormBackward: rmsB } = addon;
  if (!lnF || !lnB || !rmsF || !rmsB) return {};
  return {
    layernormForward: (out, mean, rstd, inp, weight, bias, N, C, eps) => {
      sync();
      lnF.call(addon, out, mean, rstd, inp, weight, bias, N, C, eps);
    },
    layernormBackward: (dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C) => {
      sync();
      lnB.call(addon, dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    },
    rmsnormForward: (out, rstd, inp, weight, N, C, eps) => {
      sync();
      rmsF.call(addon, out, rstd, inp, weight, N, C, eps);
    },
    rmsnormBackward: (dinp, dweight, dout, inp, weight, rstd, N, C) => {
      sync();
      rmsB.call(addon, dinp, dweight, dout, inp, weight, rstd, N, C);
    },
  };
}

/**
 * The addon's activation and row-softmax kernels, where this build has them:
 * in place on the plain buffers and threaded, where the lent WASM ones copy
 * every operand into WASM memory and back on one thread.
 */
function pointwiseKernels(addon: NativeAddon, sync: () => void): Partial<Pick<Backend, (typeof POINTWISE)[number]>> {
  const out: Partial<Record<(typeof POINTWISE)[number], unknown>> = {};
  for (const name of POINTWISE) {
    const f = addon[name] as ((...args: unknown[]) => void) | undefined;
    if (typeof f === "function") {
      out[name] = (...args: unknown[]) => {
        sync();
        f.apply(addon, args);
      };
    }
  }
  return out as Partial<Pick<Backend, (typeof POINTWISE)[number]>>;
}

const POINTWISE = [
  "geluForward",
  "geluBackward",
  "siluForward",
  "siluBackward",
  "logSumExpRows",
  "scaledSoftmaxRows",
  "productForward",
  "productBackward",
] as const;

/** The addon's tiled attention (gemm-attention.ts hands it every call without a key mask), where this build has it. */
function attentionKernels(addon: NativeAddon, sync: () => void): Partial<TiledAttentionKernels> {
  const { attentionTilesForward: fwd, attentionTilesBackward: bwd } = addon;
  if (!fwd || !bwd) return {};
  return {
    attentionTilesForward: (...args) => {
      sync();
      fwd.apply(addon, args);
    },
    attentionTilesBackward: (...args) => {
      sync();
      bwd.apply(addon, args);
    },
  };
}

/** The addon's block copy and column sums, where this build has them. */
function memKernels(addon: NativeAddon, sync: () => void): Pick<Backend, "copyBlocks" | "colSumsAcc"> {
  const { copyBlocks, colSumsAcc } = addon;
  if (!copyBlocks || !colSumsAcc) return {};
  return {
    copyBlocks: (dst, src, b) => {
      sync();
      copyBlocks.call(addon, dst, b.dOff, src, b.sOff, b.n0, b.dS0, b.sS0, b.n1, b.dS1, b.sS1, b.cols, b.accumulate);
    },
    colSumsAcc: (sum, x, M, N) => {
      sync();
      colSumsAcc.call(addon, sum, x, M, N);
    },
  };
}

/** The addon's SIMD optimizer kernels, where this build of it has them. */
function optimKernels(addon: NativeAddon, sync: () => void): Pick<Backend, "adamwUpdate" | "sumSquares" | "scaleInPlace"> {
  const { adamwUpdate, sumSquares, scaleInPlace } = addon;
  if (!adamwUpdate || !sumSquares || !scaleInPlace) return {};
  return {
    adamwUpdate: (p, g, m, v, start, end, h) => {
      sync();
      adamwUpdate.call(addon, p, g, m, v, start, end, h.beta1, h.beta2, h.eps, h.stepSize, h.bc2Sqrt, h.decay);
    },
    sumSquares: (x) => {
      sync();
      return sumSquares.call(addon, x);
    },
    scaleInPlace: (x, coef) => {
      sync();
      scaleInPlace.call(addon, x, coef);
    },
  };
}

/**
 * Op kernels an older addon build lacks are lent from WASM (where this runtime
 * has WASM SIMD): a single-threaded WASM backend, made on first use, runs them
 * on copies of the plain buffers. The addon's own kernels, spread after these,
 * replace them where present.
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

type SgdAdafactorKernels = Pick<Backend, "sgdUpdate" | "adafactorStats" | "adafactorSumSquares" | "adafactorApply">;

/** The addon's threaded SGD and Adafactor kernels, where this build of it has them. */
function sgdAdafactorKernels(addon: NativeAddon, sync: () => void): SgdAdafactorKernels {
  const { sgdUpdate, adafactorStats, adafactorSumSquares, adafactorApply } = addon;
  if (!sgdUpdate || !adafactorStats || !adafactorSumSquares || !adafactorApply) return {};
  return {
    sgdUpdate: (p, g, buf, start, end, h) => {
      sync();
      sgdUpdate.call(addon, p, g, h.momentum !== 0 ? buf : null, start, end, h.lr, h.weightDecay, h.momentum, h.first);
    },
    adafactorStats: (g, t, eps, rowSums, colSums) => {
      sync();
      adafactorStats.call(addon, g, t.offset, t.batch, t.rows, t.cols, rowSums, colSums, eps);
    },
    adafactorSumSquares: (g, t, rf, cf) => {
      sync();
      return adafactorSumSquares.call(addon, g, t.offset, t.batch, t.rows, t.cols, rf, cf);
    },
    adafactorApply: (p, g, t, rf, cf, decay, scale) => {
      sync();
      adafactorApply.call(addon, p, g, t.offset, t.batch, t.rows, t.cols, rf, cf, decay, scale);
    },
  };
}
