/**
 * The settings of `rrhf report` (and of {@link writeRunReport}'s options):
 * where the page goes and how many sample answers it shows.
 *
 * @example
 * const s = resolveSettings(REPORT_SETTINGS, { samples_per_file: 5 }, "flags"); // { out: null, samples_per_file: 5 }
 */
import { rules, setting, type SettingsOf } from "../../settings/index.js";

export const REPORT_SETTINGS = {
  out: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "file",
    help: "Where to write the page; default RUN_DIR/report.html.",
  }),
  samples_per_file: setting({
    rule: rules.int({ min: 1 }),
    default: 3,
    metavar: "n",
    help: "Records shown from each samples file (samples*.jsonl in the run folder and its round-N folders).",
  }),
} as const;

export type ReportSettings = SettingsOf<typeof REPORT_SETTINGS>;
