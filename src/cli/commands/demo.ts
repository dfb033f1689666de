/**
 * `rrhf demo [--out DIR]`: the whole RRHF loop on the model shipped in the
 * package (loop/demo.ts), then its report.html. Rerun to resume.
 */
import type { Command } from "commander";
import { join } from "node:path";
import type { CliIo } from "../io.js";
import { reportRefresher } from "../report-refresh.js";

/** Registers `rrhf demo`. */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command("demo")
    .description("the whole RRHF loop on a small shipped model that learns to add: sample, score, train, evaluate; then report.html")
    .option("--out <dir>", "output folder (rerun the same command to resume)", "rrhf-demo")
    .option("--rounds <r>", "rounds of sample, score, train and eval", "3")
    .action(async (flags: { out: string; rounds: string }) => {
      const { demo, formatDemoResult } = await import("../../loop/demo.js");
      const rounds = Number(flags.rounds);
      const started = Date.now();
      const tty = process.stderr.isTTY === true ? { progressStream: process.stderr } : {};
      const result = await demo({ out: flags.out, settings: { rounds }, log: (line) => io.stderr(line), ...tty });
      reportRefresher(flags.out, io, "rrhf demo")();
      const report = join(flags.out, "report.html");
      io.stdout(formatDemoResult(result));
      io.stdout(`\nreport: ${report} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    });
}
