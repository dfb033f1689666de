import { wasmApi } from "./wasm-api.js";
import { kernelBytes } from "./kernel-module.js";

export interface Availability {
  ok: boolean;
  /** Why not, when `ok` is false. */
  reason?: string;
}

// (module (func (result v128) (v128.const i32x4 0 0 0 0))): validates only where
// the engine supports SIMD128.
const TINY_SIMD_MODULE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // type: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // one function of type 0
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  0xfd,
  0x0c, // code: v128.const
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0x0b, // end
]);

let cached: Availability | undefined;

/** Whether this runtime can run the WASM backend (SIMD128, shared memory, threads). */
export function wasmAvailability(): Availability {
  if (cached) return cached;
  cached = probe();
  return cached;
}

function probe(): Availability {
  const api = wasmApi();
  if (!api) return { ok: false, reason: "this runtime has no WebAssembly" };
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") {
    return { ok: false, reason: "SharedArrayBuffer/Atomics are unavailable" };
  }
  if (!api.validate(TINY_SIMD_MODULE)) return { ok: false, reason: "WebAssembly SIMD128 is unsupported" };
  if (!api.validate(kernelBytes())) {
    return { ok: false, reason: "the kernel module does not validate (shared memory / threads unsupported?)" };
  }
  return { ok: true };
}
