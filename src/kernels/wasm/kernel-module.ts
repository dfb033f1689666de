import { KERNEL_WASM_BASE64 } from "./kernel-binary.generated.js";
import type { WasmApi, WasmMemory, WasmModule } from "./wasm-api.js";

/** The functions exported by assembly/sgemm.ts, the module's entry (pointers are byte offsets). */
export interface KernelExports {
  sgemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: number,
    B: number,
    beta: number,
    C: number,
    m0: number,
    m1: number,
    n0: number,
    n1: number,
    work: number,
  ): void;
  /** Scratch bytes one thread needs. */
  workBytes(): number;
  /** The pointwise and row kernels (assembly/pointwise.ts); see ops.ts. */
  ops: OpExports;
  /** The optimizer and clipping kernels (assembly/optim.ts), run as threaded jobs; see optim-ops.ts. */
  optim: OptimExports;
  /** The block copies and column sums (assembly/memops.ts), run as threaded jobs; see memops.ts. */
  mem: MemExports;
  /** Layer/RMS norm and RoPE (assembly/norm.ts, assembly/rope.ts), run as threaded jobs; see norm-ops.ts and rope-ops.ts. */
  norm: NormExports;
}

/**
 * assembly/norm.ts and rope.ts: byte-offset pointers (0 for a gradient not wanted); bit-equal to kernels/ref/layernorm.ts,
 * rmsnorm.ts and rope.ts. The row kernels take rows [r0, r1); the parameter-gradient kernels columns [c0, c1) of all N rows.
 */
export interface NormExports {
  layernormForward(
    out: number,
    mean: number,
    rstd: number,
    inp: number,
    w: number,
    b: number,
    r0: number,
    r1: number,
    C: number,
    eps: number,
  ): void;
  layernormBackward(
    dinp: number,
    dout: number,
    inp: number,
    w: number,
    mean: number,
    rstd: number,
    r0: number,
    r1: number,
    C: number,
  ): void;
  layernormParamGrads(
    dw: number,
    db: number,
    dout: number,
    inp: number,
    mean: number,
    rstd: number,
    N: number,
    C: number,
    c0: number,
    c1: number,
  ): void;
  rmsnormForward(out: number, rstd: number, inp: number, w: number, r0: number, r1: number, C: number, eps: number): void;
  rmsnormBackward(dinp: number, dout: number, inp: number, w: number, rstd: number, r0: number, r1: number, C: number): void;
  rmsnormParamGrads(dw: number, dout: number, inp: number, rstd: number, N: number, C: number, c0: number, c1: number): void;
  ropeRows(
    y: number,
    x: number,
    cos: number,
    sin: number,
    pos: number,
    past: number,
    pBase: number,
    H: number,
    T: number,
    D: number,
    r0: number,
    r1: number,
    backward: number,
  ): void;
}

/** assembly/memops.ts: byte-offset pointers with the block offsets added in, strides in elements; bit-equal to kernels/ref/memops.ts. */
export interface MemExports {
  copyBlocks(
    dst: number,
    src: number,
    i0: number,
    i1: number,
    dS0: number,
    sS0: number,
    n1: number,
    dS1: number,
    sS1: number,
    cols: number,
    acc: number,
  ): void;
  colSumsAcc(sum: number, x: number, M: number, N: number, c0: number, c1: number): void;
  productForward(out: number, a: number, b: number, n: number): void;
  /** acc[i] = f32(acc[i] + dout[i] * x[i]) in f64: one half of the product's backward. */
  productGrad(acc: number, dout: number, x: number, n: number): void;
}

/** assembly/optim.ts: element ranges [start, end) of byte-offset buffers; bit-equal to kernels/ref/optim.ts. */
export interface OptimExports {
  adamwUpdate(
    params: number,
    grads: number,
    m: number,
    v: number,
    start: number,
    end: number,
    beta1: number,
    beta2: number,
    eps: number,
    stepSize: number,
    bc2Sqrt: number,
    decay: number,
  ): void;
  /** Stores the f64 sum of squares of x[start, end) at byte offset `out`. */
  sumSquares(out: number, x: number, start: number, end: number): void;
  scaleInPlace(x: number, start: number, end: number, coef: number): void;
  sgdUpdate(
    params: number,
    grads: number,
    buf: number,
    start: number,
    end: number,
    lr: number,
    wd: number,
    mu: number,
    first: number,
  ): void;
  /** assembly/adafactor.ts: g and p at the tensor's first element, f64 vectors at their first value. */
  adafactorRowSums(g: number, C: number, eps: number, out: number, r0: number, r1: number): void;
  adafactorColSums(g: number, batch: number, R: number, C: number, eps: number, out: number, c0: number, c1: number): void;
  /** Stores at `out` the blocked sum of squares of u over flat elements [k0, k1) (one block). */
  adafactorSumSquaresBlock(out: number, g: number, rf: number, cf: number, R: number, C: number, k0: number, k1: number): void;
  adafactorApply(
    p: number,
    g: number,
    rf: number,
    cf: number,
    R: number,
    C: number,
    k0: number,
    k1: number,
    decay: number,
    scale: number,
  ): void;
}

/** Pointwise and row kernels: the ref kernels' argument order, byte-offset pointers. */
export interface OpExports {
  geluForward(out: number, inp: number, n: number): void;
  geluBackward(dinp: number, inp: number, dout: number, n: number): void;
  siluForward(out: number, inp: number, n: number): void;
  siluBackward(dinp: number, inp: number, dout: number, n: number): void;
  logSumExpRows(lse: number, x: number, N: number, C: number): void;
  scaledSoftmaxRows(x: number, lse: number, scale: number, N: number, C: number): void;
}

const OP_NAMES: readonly (keyof OpExports)[] = [
  "geluForward",
  "geluBackward",
  "siluForward",
  "siluBackward",
  "logSumExpRows",
  "scaledSoftmaxRows",
];

const OPTIM_NAMES: readonly (keyof OptimExports)[] = [
  "adamwUpdate",
  "sumSquares",
  "scaleInPlace",
  "sgdUpdate",
  "adafactorRowSums",
  "adafactorColSums",
  "adafactorSumSquaresBlock",
  "adafactorApply",
];
const MEM_NAMES: readonly (keyof MemExports)[] = ["copyBlocks", "colSumsAcc", "productForward", "productGrad"];
const NORM_NAMES: readonly (keyof NormExports)[] = [
  "layernormForward",
  "layernormBackward",
  "layernormParamGrads",
  "rmsnormForward",
  "rmsnormBackward",
  "rmsnormParamGrads",
  "ropeRows",
];

let bytes: Uint8Array | undefined;

/** The compiled kernel binary (decoded once). */
export function kernelBytes(): Uint8Array {
  bytes ??= new Uint8Array(Buffer.from(KERNEL_WASM_BASE64, "base64"));
  return bytes;
}

let module: WasmModule | undefined;

/** The kernel module, compiled once per thread; it can be posted to workers. */
export function kernelModule(api: WasmApi): WasmModule {
  module ??= new api.Module(kernelBytes());
  return module;
}

/** Instantiates the kernels over `memory` (each thread does this over the same shared memory). */
export function instantiateKernels(api: WasmApi, mod: WasmModule, memory: WasmMemory): KernelExports {
  const { exports } = new api.Instance(mod, { env: { memory } });
  const { sgemm, workBytes } = exports;
  if (typeof sgemm !== "function" || typeof workBytes !== "function") {
    throw new Error("kernel module lacks the sgemm/workBytes exports; rebuild with scripts/build-wasm.mjs");
  }
  const pick = (names: readonly string[]): Record<string, unknown> => {
    const picked: Record<string, unknown> = {};
    for (const name of names) {
      if (typeof exports[name] !== "function")
        throw new Error(`kernel module lacks the ${name} export; rebuild with scripts/build-wasm.mjs`);
      picked[name] = exports[name];
    }
    return picked;
  };
  return {
    sgemm: sgemm as KernelExports["sgemm"],
    workBytes: workBytes as KernelExports["workBytes"],
    ops: pick(OP_NAMES) as unknown as OpExports,
    optim: pick(OPTIM_NAMES) as unknown as OptimExports,
    mem: pick(MEM_NAMES) as unknown as MemExports,
    norm: pick(NORM_NAMES) as unknown as NormExports,
  };
}
