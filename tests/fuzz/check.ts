/** The property every fuzz target checks for each input: fail cleanly or succeed, in bounded time and memory. */
import { UserError } from "../../src/errors.js";

/** Most milliseconds one input may take (generous: CI machines are slow and shared). */
export const TIME_LIMIT_MS = 5_000;
/** Most array-buffer growth one input may cause: anything above means a size taken from the file unchecked. */
export const MEMORY_LIMIT_BYTES = 256 * 1024 ** 2;

/**
 * Runs `fn` on one input. Passing means: it returned, or it threw a UserError
 * (DataError included) whose message names one of `names` (the file or folder
 * at fault); and it took under TIME_LIMIT_MS and grew array buffers by under
 * MEMORY_LIMIT_BYTES. Anything else throws, with the original error attached.
 */
export async function expectCleanOutcome(fn: () => unknown, names: readonly string[]): Promise<void> {
  const startBytes = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  let failure: Error | null = null;
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof UserError)) {
      failure = new Error(`crash: not a UserError: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { cause: err });
    } else if (!names.some((n) => err.message.includes(n))) {
      failure = new Error(`UserError names none of ${JSON.stringify(names)}: ${err.message}`);
    }
  }
  // The limits are checked whatever the outcome, and win over it: a hang or a huge allocation is the worse finding.
  const ms = performance.now() - started;
  if (ms > TIME_LIMIT_MS) throw new Error(`hang: one input took ${ms.toFixed(0)} ms (limit ${TIME_LIMIT_MS})`);
  const grown = process.memoryUsage().arrayBuffers - startBytes;
  if (grown > MEMORY_LIMIT_BYTES) throw new Error(`allocation: one input grew array buffers by ${(grown / 1024 ** 2).toFixed(0)} MiB`);
  if (failure !== null) throw failure;
}
