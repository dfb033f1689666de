// Worker thread of the WASM backend: instantiates the kernels over the shared
// memory, then sleeps on the control block and runs the tasks it can claim.
import { parentPort, workerData } from "node:worker_threads";
import { GEN, markWorkerDead, QUIT, runTasks, viewControlBlock } from "./control-block.js";
import { instantiateKernels } from "./kernel-module.js";
import { wasmApi, type WasmMemory, type WasmModule } from "./wasm-api.js";

export interface WorkerInit {
  module: WasmModule;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  /** Byte offset of this worker's packing scratch in the memory. */
  work: number;
  /** Thread index (1..threads-1; 0 is the main thread). */
  thread: number;
}

const init = workerData as WorkerInit;
const api = wasmApi();
if (!api) throw new Error("rrhf wasm worker: no WebAssembly in this thread");
const kernels = instantiateKernels(api, init.module, init.memory);
const cb = viewControlBlock(init.control);
// Runs on process.exit and on an uncaught error: a task this thread claimed
// will never finish, and the main thread (blocked in Atomics.wait, so deaf
// to the Worker's 'exit' event) must learn it from shared memory.
process.on("exit", () => markWorkerDead(cb, init.thread));
let seen = Atomics.load(cb.ints, GEN);
parentPort?.postMessage("ready");
// Run whatever job is already published (the main thread may have started one while we booted).
runTasks(cb, seen, kernels, init.work, init.thread);
for (;;) {
  Atomics.wait(cb.ints, GEN, seen);
  if (Atomics.load(cb.ints, QUIT) !== 0) break;
  seen = Atomics.load(cb.ints, GEN);
  runTasks(cb, seen, kernels, init.work, init.thread);
}
