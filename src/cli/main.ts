import { Command, CommanderError } from "commander";
import { UserError } from "../errors.js";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands/index.js";
import { EXIT_INTERRUPTED, InterruptedError } from "./interrupt.js";
import type { CliIo } from "./io.js";

/** Exit codes: 0 success, 1 a user error (bad input), 2 a usage error (bad flags), 130 stopped by Ctrl-C (EXIT_INTERRUPTED). */
export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;

export type { CliIo } from "./io.js";

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Builds the `rrhf` program with every command registered. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command("rrhf")
    .description("Align language models with human preferences by RRHF (rank responses, rank-train, evaluate).")
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
    if (err instanceof UserError) {
      io.stderr(`rrhf: error: ${err.message}\n`);
      if (debug && err.stack) io.stderr(`${err.stack}\n`);
      return EXIT_USER_ERROR;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    io.stderr(`rrhf: internal error: ${e.message}\n`);
    if (debug && e.stack) io.stderr(`${e.stack}\n`);
    else io.stderr("(run with --debug for the stack trace)\n");
    return EXIT_USER_ERROR;
  }
}
