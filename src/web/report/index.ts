/**
 * Run reports: `report.html` in a run folder, rebuilt from the folder's
 * files (metrics.jsonl, round-N/eval.json, summary.json, samples files,
 * training_args.json) whenever it is called, also while the run is going.
 * `rrhf train` calls it at every checkpoint and at the end; `rrhf report`
 * on demand. The file is replaced atomically, so a browser reloading it
 * never sees half a page.
 *
 * @example
 * const file = writeRunReport("runs/demo"); // "runs/demo/report.html"
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../errors.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { loadPlotAssets } from "./assets.js";
import { buildCharts } from "./charts.js";
import { renderReportHtml } from "./html.js";
import { readRunData } from "./run-data.js";

export { buildCharts, type ChartData, type ChartSeries } from "./charts.js";
export { escapeHtml, jsonForScript, renderReportHtml } from "./html.js";
export { isEmptyRun, parseMetricsLines, readRunData, type RunReportData } from "./run-data.js";

export const REPORT_FILE = "report.html";

/** Throws a UserError unless `runDir` is an existing folder. */
export function assertRunFolder(runDir: string): void {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory())
    throw new UserError(`${runDir} is not a folder (expected a run's output folder)`);
}

/**
 * Options of {@link writeRunReport}.
 *
 * @example
 * writeRunReport("runs/demo", { out: "/tmp/demo-report.html", title: "my run", samplesPerFile: 5 });
 */
export interface RunReportOptions {
  /** Where to write; default `<runDir>/report.html`. */
  out?: string;
  /** Page title; default "rrhf run report: <folder name>". */
  title?: string;
  /** Records shown per samples file (default 3). */
  samplesPerFile?: number;
}

/**
 * Writes (or rewrites) the self-contained HTML report of the run in
 * `runDir` and returns its path: curves of loss, rank and SFT loss, ranking
 * accuracy, margin, learning rate and gradient norm; reward, KL and the
 * other per-round evaluations; the summary, a few sample answers and the
 * run's settings — whichever of them the folder has. It works offline (the
 * plotting library is inlined) and escapes every text from the run's files.
 *
 * @example
 * import { writeRunReport } from "rrhf";
 * const file = writeRunReport("runs/demo"); // open runs/demo/report.html in a browser
 */
export function writeRunReport(runDir: string, options: RunReportOptions = {}): string {
  assertRunFolder(runDir);
  const data = readRunData(runDir, options.samplesPerFile === undefined ? {} : { samplesPerFile: options.samplesPerFile });
  const html = renderReportHtml(data, buildCharts(data), loadPlotAssets(), {
    generatedAt: new Date(),
    ...(options.title === undefined ? {} : { title: options.title }),
  });
  const out = options.out ?? join(runDir, REPORT_FILE);
  writeFileAtomic(out, html);
  return out;
}
