/**
 * Ctrl-C for long-running commands: the first SIGINT aborts an
 * `AbortSignal` the command passes to the library (which stops cleanly, e.g.
 * `train` finishes its step and writes a checkpoint); from then on SIGINT has
 * its default action again, so a second Ctrl-C ends the process at once
 * (shells report 130), even in the middle of a computation. The command then
 * throws `InterruptedError`, which `runCli` turns into exit code 130.
 *
 * @example
 * const sigint = abortOnSigint(() => io.stderr("finishing the current step...\n"));
 * try {
 *   const result = await train(config, { ...io, signal: sigint.signal });
 *   if (result.interrupted) throw new InterruptedError("interrupted; resume with ...");
 * } finally {
 *   sigint.dispose();
 * }
 */

/** Exit code of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** A command stopped by Ctrl-C after saving what it could; the CLI prints the message and exits 130. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
}

export interface SigintWatch {
  /** Aborted by the first SIGINT. */
  signal: AbortSignal;
  /** Stops watching (call when the command ends). */
  dispose: () => void;
}

/** Watches SIGINT for one command: the first aborts `signal` (after `onFirst`), later ones act as if unwatched. */
export function abortOnSigint(onFirst: () => void): SigintWatch {
  const controller = new AbortController();
  let received = 0;
  const dispose = (): void => {
    process.off("SIGINT", listener);
  };
  function listener(): void {
    received++;
    // Two signals that arrived while JavaScript was busy are delivered together: the second one means "quit now".
    if (received > 1) process.exit(EXIT_INTERRUPTED);
    onFirst();
    controller.abort();
    // Removed only after the signals queued with this one were delivered; then SIGINT's default action is back.
    setImmediate(dispose);
  }
  process.on("SIGINT", listener);
  return { signal: controller.signal, dispose };
}

/** `arg` as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
