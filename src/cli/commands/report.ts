/**
 * `rrhf report RUN_DIR`: (re)builds RUN_DIR/report.html from the run's files,
 * also while the run is still writing them (a torn last metrics line is
 * skipped). Prints the page's path. Exit 1 when RUN_DIR is not a folder or
 * holds nothing a report could show.
 */
import { Command } from "commander";
import { UserError } from "../../errors.js";
import { resolveSettings } from "../../settings/index.js";
import { assertRunFolder, isEmptyRun, readRunData, writeRunReport } from "../../web/report/index.js";
import { REPORT_SETTINGS } from "../../web/report/settings.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

/** Registers `rrhf report`. */
export function registerReport(program: Command, io: CliIo): void {
  const cmd = new Command("report")
    .description("write RUN_DIR/report.html: curves, per-round evaluation, sample answers and settings of a run (works offline)")
    .argument("<run_dir>", "output folder of rrhf train (or of a run of rounds: round-N/eval.json)")
    .addHelpText("after", "\nExample:\n  rrhf report runs/demo   # then open runs/demo/report.html\n");
  addSettingOptions(cmd, REPORT_SETTINGS);
  cmd.action((runDir: string, opts: Record<string, unknown>) => {
    const settings = resolveSettings(REPORT_SETTINGS, settingsFromOptions(REPORT_SETTINGS, opts), "flags");
    // Refuse a folder that is not a run before writing a page into it.
    assertRunFolder(runDir);
    if (isEmptyRun(readRunData(runDir)))
      throw new UserError(
        `${runDir} holds no metrics.jsonl, round-N/eval.json, summary.json, samples*.jsonl or training_args.json: is it a run's output folder?`,
      );
    const file = writeRunReport(runDir, {
      samplesPerFile: settings.samples_per_file,
      ...(settings.out === null ? {} : { out: settings.out }),
    });
    io.stdout(`wrote ${file}\n`);
  });
  program.addCommand(cmd);
}
