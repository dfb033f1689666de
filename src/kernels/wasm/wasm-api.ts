/**
 * The slice of the WebAssembly JS API the kernels use, typed locally: the
 * project compiles against lib ES2023 without DOM, which has no WebAssembly
 * types, and a global declaration here could clash with other packages'.
 */
export interface WasmMemory {
  /** Shared memory: a SharedArrayBuffer; a new object after each grow, old ones stay valid. */
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}

export type WasmModule = object;

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}

/** The runtime's WebAssembly object, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/** 64 KiB, the WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;
