/** The run report of a command's output folder, refreshed as the run goes (train, sft, iterate, demo). */
import { writeRunReport } from "../web/report/index.js";
import type { CliIo } from "./io.js";

/**
 * A function that (re)writes `outDir/report.html`. The report is a view of the
 * run: failing to write it warns, it never stops or fails the run.
 */
export function reportRefresher(outDir: string, io: CliIo, title?: string): () => void {
  return () => {
    try {
      writeRunReport(outDir, title === undefined ? {} : { title });
    } catch (err) {
      io.stderr(`rrhf: warning: report.html not written: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
}
