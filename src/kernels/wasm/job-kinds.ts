/**
 * How a job of the WASM thread pool is encoded: its kind, its parameter words (jobs.ts and the other job builders
 * fill them) and how elementwise jobs are cut into tasks.
 */
/** How many float64 parameter words a job has (the last one is its kind). */
export const JOB_WORDS = 16;
/** The word that holds a job's kind. */
export const KIND = JOB_WORDS - 1;

export const JOB_SGEMM = 0;
export const JOB_ADAMW = 1;
export const JOB_SUM_SQUARES = 2;
export const JOB_SCALE = 3;
export const JOB_GELU_FORWARD = 4;
export const JOB_GELU_BACKWARD = 5;
export const JOB_SILU_FORWARD = 6;
export const JOB_SILU_BACKWARD = 7;
export const JOB_LOG_SUM_EXP_ROWS = 8;
export const JOB_SCALED_SOFTMAX_ROWS = 9;
export const JOB_COPY_BLOCKS = 10;
export const JOB_COL_SUMS = 11;
export const JOB_PRODUCT_FORWARD = 12;
export const JOB_PRODUCT_BACKWARD = 13;
export const JOB_LAYERNORM_FORWARD = 14;
export const JOB_LAYERNORM_BACKWARD = 15;
export const JOB_LAYERNORM_PARAM_GRADS = 16;
export const JOB_RMSNORM_FORWARD = 17;
export const JOB_RMSNORM_BACKWARD = 18;
export const JOB_RMSNORM_PARAM_GRADS = 19;
export const JOB_ROPE = 20;
export const JOB_SGD = 21;
export const JOB_ADAFACTOR_ROWS = 22;
export const JOB_ADAFACTOR_COLS = 23;
export const JOB_ADAFACTOR_SUM_SQUARES = 24;
export const JOB_ADAFACTOR_APPLY = 25;

/** A job as published: its parameter words (kind last) and its task count. */
export interface PoolJob {
  words: Float64Array;
  tasks: number;
}

/** A job of `kind` in `tasks` tasks with its parameter words. */
export function job(kind: number, tasks: number, params: readonly number[]): PoolJob {
  const words = new Float64Array(JOB_WORDS);
  words.set(params);
  words[KIND] = kind;
  return { words, tasks };
}

/**
 * Elements per task of an elementwise job over n elements: about two tasks per thread (so one descheduled thread
 * does not hold up the rest), a multiple of 16, and at least `minPerTask`, below which waking a worker costs more
 * than it saves.
 */
export function elementsPerTask(n: number, threads: number, minPerTask: number): number {
  return Math.max(minPerTask, Math.ceil(n / (2 * threads) / 16) * 16);
}

/** Elements [start, end) in tasks of `chunk` elements: the split of the elementwise jobs. */
export function rangeTasks(start: number, end: number, chunk: number): number {
  return Math.max(1, Math.ceil((end - start) / chunk));
}
