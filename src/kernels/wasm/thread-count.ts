import { availableParallelism } from "node:os";
import { UserError } from "../../errors.js";

/**
 * Default cap on kernel threads: past a handful of cores one sgemm is limited by
 * memory bandwidth and wake-up latency, and training steps are mostly sgemm-sized.
 */
export const MAX_DEFAULT_THREADS = 8;

/**
 * Thread count for a backend: the explicit option, else env RRHF_THREADS,
 * else os.availableParallelism() capped at MAX_DEFAULT_THREADS.
 */
export function resolveThreadCount(option?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) return checkCount(option, "threads option");
  const raw = env.RRHF_THREADS;
  if (raw !== undefined && raw.trim() !== "") return checkCount(Number(raw.trim()), `RRHF_THREADS=${raw}`);
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS));
}

function checkCount(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new UserError(`${what}: thread count must be an integer from 1 to 256`);
  }
  return n;
}
