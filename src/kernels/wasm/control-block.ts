import { JOB_WORDS, type PoolJob, runTask } from "./jobs.js";
import type { KernelExports } from "./kernel-module.js";

/**
 * The SharedArrayBuffer through which the main thread hands one job (jobs.ts: an sgemm, an optimizer update, ...) to its
 * workers. Int32 words (all accessed with Atomics):
 *   GEN    job generation; workers Atomics.wait on it and wake when it changes
 *   CLAIM  (gen & 0x3ff) << 20 | taskCount << 10 | nextTask — claimed by CAS, so
 *          a worker that wakes late can never take a task of a later job
 *   DONE   tasks finished in this job; the main thread waits on it
 *   QUIT   set when the pool closes
 *   FAILED set when a task threw (the main thread rethrows)
 *   DIE_FOR_TEST   a worker thread index told to die at its next claimed task (tests only)
 *   TASKS_RUN + t  tasks run by thread t (0 = main), for diagnostics
 *   BUSY + t       1 while thread t runs a task it claimed
 *   DEAD + t       1 once worker t has exited; with BUSY + t it holds a task that will never finish
 * Float64 job parameters follow the int32 words (written before CLAIM is published).
 */
export const GEN = 0;
export const CLAIM = 1;
export const DONE = 2;
export const QUIT = 3;
export const FAILED = 4;
export const DIE_FOR_TEST = 5;
export const TASKS_RUN = 8;
export const MAX_THREADS = 256;
export const BUSY = TASKS_RUN + MAX_THREADS;
export const DEAD = BUSY + MAX_THREADS;
const INT_WORDS = DEAD + MAX_THREADS;
const PARAM_OFFSET = INT_WORDS * 4;
const PARAMS = JOB_WORDS;
/** Most tasks one job may be cut into (10 bits in CLAIM). */
export const MAX_TASKS = 1023;

export interface ControlBlock {
  sab: SharedArrayBuffer;
  ints: Int32Array;
  params: Float64Array;
}

export function createControlBlock(): ControlBlock {
  return viewControlBlock(new SharedArrayBuffer(PARAM_OFFSET + PARAMS * 8));
}

export function viewControlBlock(sab: SharedArrayBuffer): ControlBlock {
  return { sab, ints: new Int32Array(sab, 0, INT_WORDS), params: new Float64Array(sab, PARAM_OFFSET, PARAMS) };
}

/** Writes the job's parameter words (before publishJob). */
export function writeJob(cb: ControlBlock, job: PoolJob): void {
  cb.params.set(job.words);
}

/** Publishes the job (after writeJob) and wakes the workers. */
export function publishJob(cb: ControlBlock, tasks: number): number {
  const gen = (Atomics.load(cb.ints, GEN) + 1) | 0;
  Atomics.store(cb.ints, DONE, 0);
  Atomics.store(cb.ints, CLAIM, ((gen & 0x3ff) << 20) | (tasks << 10));
  Atomics.store(cb.ints, GEN, gen);
  Atomics.notify(cb.ints, GEN);
  return gen;
}

/**
 * Claims and runs tasks of job `gen` until none are left. Used by the main
 * thread and the workers alike, so a worker that has not started yet costs
 * nothing: the others take its share.
 */
export function runTasks(cb: ControlBlock, gen: number, kernels: KernelExports, work: number, thread: number): void {
  const { ints, params: p } = cb;
  for (;;) {
    const word = Atomics.load(ints, CLAIM);
    if (word >>> 20 !== (gen & 0x3ff)) return;
    const next = word & 0x3ff;
    if (next >= ((word >>> 10) & 0x3ff)) return;
    if (Atomics.compareExchange(ints, CLAIM, word, word + 1) !== word) continue;
    Atomics.store(ints, BUSY + thread, 1);
    if (thread !== 0 && Atomics.load(ints, DIE_FOR_TEST) === thread) {
      // Outside the try: the worker dies holding a claimed task, as a crashed thread would.
      throw new Error(`wasm kernel worker ${thread}: told to die mid-task (test)`);
    }
    try {
      runTask(kernels, p, next, work);
    } catch {
      Atomics.store(ints, FAILED, 1);
    }
    Atomics.add(ints, TASKS_RUN + thread, 1);
    Atomics.store(ints, BUSY + thread, 0);
    Atomics.add(ints, DONE, 1);
    Atomics.notify(ints, DONE);
  }
}

/** Marks worker `thread` as gone and wakes the waiting main thread (called from its exit paths). */
export function markWorkerDead(cb: ControlBlock, thread: number): void {
  Atomics.store(cb.ints, DEAD + thread, 1);
  Atomics.notify(cb.ints, DONE);
}

/**
 * Blocks the calling thread until `tasks` tasks of the current job are done.
 * Returns the number of tasks that will never finish because the worker that
 * claimed them died (0 normally); it returns once every other task is done,
 * so no live worker still writes into the job's buffers. The wait is sliced
 * so that a death marked without a notify is still seen.
 */
export function waitDone(cb: ControlBlock, tasks: number, threads: number): number {
  const { ints } = cb;
  for (;;) {
    const done = Atomics.load(ints, DONE);
    if (done >= tasks) return 0;
    let lost = 0;
    for (let t = 1; t < threads; t++) {
      if (Atomics.load(ints, DEAD + t) !== 0 && Atomics.load(ints, BUSY + t) !== 0) lost++;
    }
    if (lost > 0 && done + lost >= tasks) return lost;
    Atomics.wait(ints, DONE, done, 200);
  }
}
