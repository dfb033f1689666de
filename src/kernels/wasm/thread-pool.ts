import { Worker } from "node:worker_threads";
import { InternalError } from "../../errors.js";
import {
  createControlBlock,
  DIE_FOR_TEST,
  FAILED,
  GEN,
  markWorkerDead,
  MAX_THREADS,
  publishJob,
  QUIT,
  runTasks,
  TASKS_RUN,
  waitDone,
  writeJob,
  type ControlBlock,
} from "./control-block.js";
import type { PoolJob } from "./jobs.js";
import type { KernelExports } from "./kernel-module.js";
import type { WasmMemory, WasmModule } from "./wasm-api.js";
import type { WorkerInit } from "./worker.js";

/**
 * Worker threads that share the backend's memory and kernel module. `run` is
 * synchronous: it publishes the job, works on it on the calling thread too,
 * and blocks in Atomics.wait (allowed on Node's main thread) until the last
 * task is done. Workers are unref'd, so an idle pool never keeps the process alive.
 */
export class ThreadPool {
  private readonly cb: ControlBlock = createControlBlock();
  private readonly workers: Worker[] = [];
  private readonly readyPromise: Promise<void>;
  private closed = false;
  /** Set once a worker died holding a task: the job's output is incomplete and the pool unusable. */
  private broken: string | null = null;

  /** `works[t]` is thread t's scratch offset; thread 0 is the calling thread. */
  constructor(
    module: WasmModule,
    memory: WasmMemory,
    private readonly kernels: KernelExports,
    private readonly works: number[],
  ) {
    if (works.length > MAX_THREADS) throw new RangeError(`at most ${MAX_THREADS} threads`);
    const started: Promise<void>[] = [];
    for (let t = 1; t < works.length; t++) {
      const init: WorkerInit = { module, memory, control: this.cb.sab, work: works[t], thread: t };
      const w = new Worker(new URL("./worker.js", import.meta.url), { workerData: init, execArgv: workerExecArgv() });
      w.unref();
      // The worker marks itself dead on its own exit paths too; this covers a
      // terminate() seen while the main thread is not blocked in run().
      w.once("exit", () => markWorkerDead(this.cb, t));
      started.push(
        new Promise<void>((resolve, reject) => {
          w.once("message", () => resolve());
          w.once("error", reject);
          w.once("exit", (code) => reject(new Error(`wasm kernel worker ${t} exited (code ${code}) before it was ready`)));
        }),
      );
      this.workers.push(w);
    }
    this.readyPromise = Promise.all(started).then(() => undefined);
    this.readyPromise.catch(() => {}); // a worker that never starts only costs speed; `ready()` reports it
  }

  get threads(): number {
    return this.works.length;
  }

  /** Resolves once every worker has instantiated the kernels (calls before then just use fewer threads). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Tasks each thread has run so far (index 0 = calling thread). */
  tasksRun(): number[] {
    return this.works.map((_, t) => Atomics.load(this.cb.ints, TASKS_RUN + t));
  }

  run(job: PoolJob): void {
    if (this.closed) throw new Error("wasm backend: used after close()");
    if (this.broken !== null) throw new InternalError(this.broken);
    writeJob(this.cb, job);
    Atomics.store(this.cb.ints, FAILED, 0);
    const gen = publishJob(this.cb, job.tasks);
    runTasks(this.cb, gen, this.kernels, this.works[0], 0);
    const lost = waitDone(this.cb, job.tasks, this.works.length);
    if (lost > 0) {
      this.broken =
        `wasm kernels: a worker thread died mid-task (${lost} of ${job.tasks} task(s) never finished); ` +
        "the wasm backend cannot continue in this process (rerun, or use --threads 1 or the native backend)";
      throw new InternalError(this.broken);
    }
    if (Atomics.load(this.cb.ints, FAILED) !== 0) throw new Error("wasm kernels: a kernel task failed");
  }

  /**
   * Tests only (not part of the public API): worker `thread` dies, like a
   * crashed thread, as soon as it claims its next task.
   */
  killWorkerMidTaskForTests(thread: number): void {
    if (!Number.isInteger(thread) || thread < 1 || thread >= this.works.length) {
      throw new RangeError(`no worker thread ${thread} (1..${this.works.length - 1})`);
    }
    Atomics.store(this.cb.ints, DIE_FOR_TEST, thread);
  }

  /** Stops the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.cb.ints, QUIT, 1);
    Atomics.add(this.cb.ints, GEN, 1); // sleepers wake and see QUIT
    Atomics.notify(this.cb.ints, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The parent's flags minus those that only make sense for an entry script (`node --input-type=module -e`). */
function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith("--input-type"));
}
