import type { Command } from "commander";
import type { CliIo } from "../main.js";

/** Adds every `rrhf` sub-command to `program`; one module per command. */
export function registerCommands(program: Command, io: CliIo): void {
  void program;
  void io;
}
