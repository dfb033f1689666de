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
  /** The non-matmul kernels (assembly/pointwise.ts, assembly/attention.ts); see ops.ts. */
  ops: OpExports;
}

/** Pointwise, row and attention kernels: the ref kernels' argument order, byte-offset pointers. */
export interface OpExports {
  geluForward(out: number, inp: number, n: number): void;
  geluBackward(dinp: number, inp: number, dout: number, n: number): void;
  siluForward(out: number, inp: number, n: number): void;
  siluBackward(dinp: number, inp: number, dout: number, n: number): void;
  logSumExpRows(lse: number, x: number, N: number, C: number): void;
  scaledSoftmaxRows(x: number, lse: number, scale: number, N: number, C: number): void;
  attentionForward(
    out: number,
    lse: number,
    q: number,
    k: number,
    v: number,
    ranges: number,
    mask: number,
    scores: number,
    B: number,
    Hq: number,
    Hkv: number,
    T: number,
    S: number,
    D: number,
    scale: number,
  ): void;
  attentionBackward(
    dq: number,
    dk: number,
    dv: number,
    dout: number,
    q: number,
    k: number,
    v: number,
    out: number,
    lse: number,
    ranges: number,
    mask: number,
    B: number,
    Hq: number,
    Hkv: number,
    T: number,
    S: number,
    D: number,
    scale: number,
  ): void;
}

const OP_NAMES: readonly (keyof OpExports)[] = [
  "geluForward",
  "geluBackward",
  "siluForward",
  "siluBackward",
  "logSumExpRows",
  "scaledSoftmaxRows",
  "attentionForward",
  "attentionBackward",
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
  const ops: Record<string, unknown> = {};
  for (const name of OP_NAMES) {
    if (typeof exports[name] !== "function") throw new Error(`kernel module lacks the ${name} export; rebuild with scripts/build-wasm.mjs`);
    ops[name] = exports[name];
  }
  return { sgemm: sgemm as KernelExports["sgemm"], workBytes: workBytes as KernelExports["workBytes"], ops: ops as unknown as OpExports };
}
