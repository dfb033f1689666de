import { KERNEL_WASM_BASE64 } from "./kernel-binary.generated.js";
import type { WasmApi, WasmMemory, WasmModule } from "./wasm-api.js";

/** The functions exported by assembly/sgemm.ts (pointers are byte offsets). */
export interface KernelExports {
  sgemm(
    transA: number, transB: number, M: number, N: number, K: number,
    alpha: number, A: number, B: number, beta: number, C: number,
    m0: number, m1: number, n0: number, n1: number, work: number,
  ): void;
  /** Scratch bytes one thread needs. */
  workBytes(): number;
}

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
  return { sgemm: sgemm as KernelExports["sgemm"], workBytes: workBytes as KernelExports["workBytes"] };
}
