import { Command, CommanderError } from "commander";
import { UserError, userErrorFromFs } from "../errors.js";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands/index.js";
import { EXIT_INTERRUPTED, InterruptedError } from "./interrupt.js";
import type { CliIo } from "./io.js";

/**
 * Exit codes: 0 success, 1 a user error (bad input), 2 a usage error (bad
 * flags), 70 an internal error (a bug in rrhf; EX_SOFTWARE of sysexits.h),
 * 130 stopped by Ctrl-C (EXIT_INTERRUPTED).
 */
export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL_ERROR = 70;

export type { CliIo } from "./io.js";

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Builds the `rrhf` program with every command registered. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command("rrhf")
    .description(
      "Align language models with human preferences by RRHF: validate and convert preference data, initialise a model, compute the RRHF loss, train.",
    )
    .version(VERSION, "-V, --version", "print the version and exit")
    .option("--debug", "show stack traces for errors")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerCommands(program, io);
  // Usage errors (unknown option, missing argument) exit 2 everywhere.
  const overrideAll = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    cmd.commands.forEach(overrideAll);
  };
  overrideAll(program);
  return program;
}

/**
 * Runs the CLI on `argv` (without `node` and the script path) and returns the
 * exit code instead of calling `process.exit`, so tests can drive it in-process.
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also arrive here, with exit code 0.
      if (err.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    if (err instanceof InterruptedError) {
      io.stderr(`rrhf: ${err.message}\n`);
      return EXIT_INTERRUPTED;
    }
    return reportError(err, io, debug);
  }
}

/**
 * Prints an error thrown by a command and returns the exit code: a user
 * error (a `UserError`, or a file-system problem on a path) is one line,
 * exit 1 (its stack only with `--debug`); anything else is a bug, exit 70.
 */
export function reportError(err: unknown, io: CliIo, debug: boolean): number {
  const userError = err instanceof UserError ? err : userErrorFromFs(err);
  if (userError !== null) {
    io.stderr(`rrhf: error: ${userError.message}\n`);
    if (debug) io.stderr(`${stackOf(err)}\n`);
    return EXIT_USER_ERROR;
  }
  reportInternalError(err, io);
  return EXIT_INTERNAL_ERROR;
}

function stackOf(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

/**
 * A bug (an `InternalError` or any other unexpected throw): the message, the
 * stack (always: a bug report needs it) and a request to report it.
 */
function reportInternalError(err: unknown, io: CliIo): void {
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`rrhf: internal error: ${message}\n`);
  io.stderr(`${stackOf(err)}\n`);
  io.stderr(`This is a bug in rrhf, not in your input: please report this, with the command and the output of --debug.\n`);
}
