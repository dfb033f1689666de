import { createRequire } from "node:module";
import type { Backend } from "../backend.js";
import type { TiledAttentionKernels } from "../gemm-attention.js";
import type { layernormBackward, layernormForward } from "../ref/layernorm.js";
import type { rmsnormBackward, rmsnormForward } from "../ref/rmsnorm.js";
import { fileURLToPath } from "node:url";

/** What the rrhf-native addon (native/src/rrhf_native.c) exports. */
export interface NativeAddon {
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
  ): void;
  /**
   * The addon's threads, process-wide: large products are split over them
   * (each part single-threaded OpenBLAS), as are the other kernels.
   */
  setThreads(n: number): void;
  getThreads(): number;
  /** OpenBLAS build and detected core, e.g. "OpenBLAS 0.3.21 ... ; core Haswell". */
  config(): string;
  /**
   * SIMD optimizer kernels (see kernels/ref/optim.ts); absent from an addon
   * built before they existed, which then still serves sgemm.
   */
  adamwUpdate?(
    params: Float32Array,
    grads: Float32Array,
    m: Float32Array,
    v: Float32Array,
    start: number,
    end: number,
    beta1: number,
    beta2: number,
    eps: number,
    stepSize: number,
    bc2Sqrt: number,
    decay: number,
  ): void;
  sumSquares?(x: Float32Array): number;
  /** n zero floats on 2 MiB-aligned transparent huge pages (native/src/pages.h), or null; absent from older builds. */
  allocHugePages?(n: number): ArrayBuffer | null;
  /** Zeroes buf; true when its whole pages went back to the kernel (Linux), false when only zeroed in place. */
  discardPages?(buf: Float32Array): boolean;
  scaleInPlace?(x: Float32Array, coef: number): void;
  /** SGD and Adafactor kernels (native/src/optim.h), positional; absent from older builds. */
  sgdUpdate?(
    params: Float32Array,
    grads: Float32Array,
    buf: Float32Array | null,
    start: number,
    end: number,
    lr: number,
    weightDecay: number,
    momentum: number,
    first: boolean,
  ): void;
  adafactorStats?(
    grads: Float32Array,
    offset: number,
    batch: number,
    rows: number,
    cols: number,
    rowSums: Float64Array,
    colSums: Float64Array,
    eps: number,
  ): void;
  adafactorSumSquares?(
    grads: Float32Array,
    offset: number,
    batch: number,
    rows: number,
    cols: number,
    rFactor: Float64Array,
    cFactor: Float64Array,
  ): number;
  adafactorApply?(
    params: Float32Array,
    grads: Float32Array,
    offset: number,
    batch: number,
    rows: number,
    cols: number,
    rFactor: Float64Array,
    cFactor: Float64Array,
    decay: number,
    scale: number,
  ): void;
  /** Threaded SIMD norm kernels, same signatures as kernels/ref/layernorm.ts and rmsnorm.ts and bit-equal to them; absent from older builds. */
  layernormForward?: typeof layernormForward;
  layernormBackward?: typeof layernormBackward;
  rmsnormForward?: typeof rmsnormForward;
  rmsnormBackward?: typeof rmsnormBackward;
  /**
   * SIMD (and, for large calls, threaded) activation and row-softmax kernels,
   * the signatures of kernels/ref/activations.ts and ref/row-softmax.ts; absent from older builds.
   */
  geluForward?: Backend["geluForward"];
  geluBackward?: Backend["geluBackward"];
  siluForward?: Backend["siluForward"];
  siluBackward?: Backend["siluBackward"];
  logSumExpRows?: Backend["logSumExpRows"];
  scaledSoftmaxRows?: Backend["scaledSoftmaxRows"];
  /** Same-shape product and its backward (native/src/product.h); absent from older builds. */
  productForward?: Backend["productForward"];
  productBackward?: Backend["productBackward"];
  /** The BlockCopy of kernels/ref/memops.ts as positional arguments; absent from older builds. */
  copyBlocks?(
    dst: Float32Array,
    dOff: number,
    src: Float32Array,
    sOff: number,
    n0: number,
    dS0: number,
    sS0: number,
    n1: number,
    dS1: number,
    sS1: number,
    cols: number,
    accumulate: boolean,
  ): void;
  colSumsAcc?: Backend["colSumsAcc"];
  /** native/src/attention.h; absent from older builds. */
  attentionTilesForward?: TiledAttentionKernels["attentionTilesForward"];
  attentionTilesBackward?: TiledAttentionKernels["attentionTilesBackward"];
  /**
   * bf16 matmul (oneDNN; native/src/bf16_gemm.h): sgemm's contract, A and B
   * rounded to bfloat16, fp32 accumulation. Only in an addon built with oneDNN.
   */
  sgemmBf16?: NativeAddon["sgemm"];
  /** Whether the CPU has bf16 dot products (AVX512-BF16/AMX) and oneDNN's version and ISA. */
  bf16Config?(): { hardware: boolean; detail: string };
  /** Threads of the bf16 matmul (oneDNN's OpenMP), apart from OpenBLAS's. */
  setBf16Threads?(n: number): void;
  /**
   * RoPE (native/src/rope.h): kernels/ref/rope.ts's ropeForward/ropeBackward with the dims spread as
   * B, H, T, D; bit-equal to the reference, threaded. Absent from older builds.
   */
  ropeForward?(
    out: Float32Array,
    inp: Float32Array,
    cos: Float32Array,
    sin: Float32Array,
    positions: Int32Array | null,
    past: number,
    B: number,
    H: number,
    T: number,
    D: number,
  ): void;
  ropeBackward?: NativeAddon["ropeForward"];
  /** Fused decode-step attention (kernels/ref/decode-attention.ts); dims = [s0, s1, Hq, Hkv, D, M, P]; absent from older builds. */
  decodeAttention?(
    out: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    promptK: Float32Array,
    promptV: Float32Array,
    ownK: Float32Array,
    ownV: Float32Array,
    lengths: Int32Array,
    dims: Int32Array,
    scale: number,
  ): void;
}

export type AddonLoad = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

let cached: AddonLoad | undefined;

/**
 * Loads the optional addon once (lazily: nothing native is touched until a
 * native backend is asked for). It lives in the package's own `native/`
 * folder (shipped in the npm package as sources) and is built at install
 * time only where OpenBLAS is present (`scripts/install.cjs`).
 */
export function loadNativeAddon(): AddonLoad {
  cached ??= tryLoad();
  return cached;
}

/** `native/index.cjs` of this package: dist/src/kernels/native/addon.js is four folders below the package root. */
const LOADER = fileURLToPath(new URL("../../../../native/index.cjs", import.meta.url));

/** How to rebuild, for both ways of having rrhf. */
const REBUILD_HINT = "rebuild it: npm rebuild rrhf (in a project that uses rrhf) or npm run build:native (in a clone of rrhf)";

function tryLoad(): AddonLoad {
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(LOADER);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "MODULE_NOT_FOUND" && e.message.includes(LOADER)) {
      return { ok: false, reason: `${LOADER} is missing: this copy of rrhf is incomplete; reinstall rrhf` };
    }
    return { ok: false, reason: e.message };
  }
  const m = mod as Partial<Record<keyof NativeAddon, unknown>>;
  if (
    typeof m.sgemm !== "function" ||
    typeof m.setThreads !== "function" ||
    typeof m.getThreads !== "function" ||
    typeof m.config !== "function"
  ) {
    return { ok: false, reason: `the native addon loaded but lacks sgemm/setThreads/getThreads/config; ${REBUILD_HINT}` };
  }
  return { ok: true, addon: mod as NativeAddon };
}
