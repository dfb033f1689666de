export { createWasmBackend, type WasmBackend, type WasmBackendOptions } from "./backend.js";
export { WASM_OP_NAMES, type WasmOps } from "./ops.js";
export { WasmArena, ALIGN_BYTES, type ArenaOptions } from "./arena.js";
export { wasmAvailability, type Availability } from "./simd-support.js";
export { resolveThreadCount, MAX_DEFAULT_THREADS } from "./thread-count.js";
