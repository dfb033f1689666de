/**
 * `rrhf validate FILE`: checks every line of an RRHF JSONL file, prints each
 * problem as `file:line: field: problem` on stderr (the first --max-errors of
 * them) and a summary on stdout; exit 0 when valid, 1 otherwise.
 */
import type { Command } from "commander";
import type { RrhfRecord } from "../../data/record.js";
import { formatReportText, reportToJson } from "../../data/report-format.js";
import type { RecordTokenMeasure } from "../../data/token-stats.js";
import { validateFile } from "../../data/validate.js";
import { UserError } from "../../errors.js";
import { RRHF_SETTINGS } from "../../rrhf/settings.js";
import { flagOf, pickSettings, resolveSettings, rules, setting, type SettingsInput, type SettingsOf } from "../../settings/index.js";
import { TOKENIZE_SETTINGS } from "../../tokenize/settings.js";
import type { RrhfTokenizer } from "../../tokenize/tokenizer.js";
import { DATA_SETTINGS } from "../../data/settings.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

/** The budget to measure against; no default: without it validate reports lengths only. */
const BUDGET_SETTINGS = pickSettings(TOKENIZE_SETTINGS, ["model_max_length"]);

/** How training would tokenise: the settings validate measures with (the same tables as loss and train). */
const TOKENISATION_SETTINGS = {
  ...pickSettings(TOKENIZE_SETTINGS, ["max_query_share", "chat_template"]),
  compat: RRHF_SETTINGS.compat,
} as const;

type MeasureOptions = SettingsOf<typeof TOKENISATION_SETTINGS>;

const REPORT_SETTINGS = {
  max_errors: setting({ rule: rules.int({ min: 1 }), default: 50, metavar: "n", help: "How many problems to print (all are counted)." }),
} as const;

interface ValidateFlags {
  tokenizer?: string;
  strict?: boolean;
  json?: boolean;
}

/**
 * Token measure for validate, tokenising exactly as training would (chat
 * template and compat mode included): lengths before truncation (query with
 * special tokens, responses without the EOS) and, under a budget, what the
 * encoder used for training would cut or empty.
 */
async function tokenMeasure(dir: string, maxLength: number | null, opts: MeasureOptions): Promise<RecordTokenMeasure> {
  // Loaded on demand: the tokenizer library is not needed to check data, and every CLI start pays for imports.
  const [{ loadTokenizer }, { encodeRecord }, { requireChatTemplate }] = await Promise.all([
    import("../../tokenize/tokenizer.js"),
    import("../../tokenize/encode.js"),
    import("../../train/run-data.js"),
  ]);
  const tok: RrhfTokenizer = await loadTokenizer(dir);
  if (opts.chat_template) requireChatTemplate(tok, dir);
  const encodeOpts = { compat: opts.compat, chatTemplate: opts.chat_template, maxQueryShare: opts.max_query_share };
  return {
    modelMaxLength: maxLength,
    measure(record: RrhfRecord) {
      // One encoding gives both the full lengths training starts from and what the budget cuts.
      const enc = encodeRecord(tok, record, { ...encodeOpts, maxLength });
      const { query, responses } = enc.untruncated;
      if (maxLength === null) return { query, responses, queryTruncated: null, truncated: null, emptied: null };
      const kept = new Map(enc.responses.map((r) => [r.responseIndex, r]));
      return {
        query,
        responses,
        queryTruncated: enc.report.queriesCut > 0,
        truncated: record.responses.map((_, i) => kept.get(i)?.cut === true),
        emptied: record.responses.map((_, i) => !kept.has(i)),
      };
    },
  };
}

/** Flags of settings that only mean something with --tokenizer, and were given. */
function givenTokenFlags(given: SettingsInput): string[] {
  const table = { ...BUDGET_SETTINGS, ...TOKENISATION_SETTINGS };
  return Object.keys(given).map((name) => flagOf(name, table[name as keyof typeof table]));
}

/** Registers `rrhf validate`. */
export function registerValidate(program: Command, io: CliIo): void {
  const cmd = program
    .command("validate")
    .description("check an RRHF data file record by record and summarise it (queries, responses, score ties, tokens)")
    .argument("<file>", "JSONL (.jsonl, .jsonl.gz) or Parquet file of {query or messages, responses, scores} records")
    .option("--tokenizer <dir>", "Hugging Face tokenizer folder: adds token-length percentiles")
    .option(
      "--strict",
      "also fail on unknown keys, queries whose scores are all equal, and (with --model-max-length) responses emptied by truncation",
    )
    .option("--json", "print the summary as one JSON object on stdout");
  addSettingOptions(cmd, BUDGET_SETTINGS, {
    helpPrefix: "with --tokenizer: count the responses and queries this budget would cut or empty. ",
    showDefaults: false,
  });
  addSettingOptions(cmd, TOKENISATION_SETTINGS, { helpPrefix: "with --tokenizer, measure as training would: " });
  addSettingOptions(cmd, DATA_SETTINGS);
  addSettingOptions(cmd, REPORT_SETTINGS);
  cmd.action(async (file: string, flags: ValidateFlags & Record<string, unknown>) => {
    const budget = settingsFromOptions(BUDGET_SETTINGS, flags);
    const given = settingsFromOptions(TOKENISATION_SETTINGS, flags);
    if (flags.tokenizer === undefined) {
      const needless = givenTokenFlags({ ...budget, ...given });
      if (needless.length > 0) cmd.error(`error: ${needless[0]} needs --tokenizer`, { exitCode: 2 });
    }
    const measure = resolveSettings(TOKENISATION_SETTINGS, given, "flags");
    const { data_format } = resolveSettings(DATA_SETTINGS, settingsFromOptions(DATA_SETTINGS, flags), "flags");
    const { max_errors: maxErrors } = resolveSettings(REPORT_SETTINGS, settingsFromOptions(REPORT_SETTINGS, flags), "flags");
    const maxLength = typeof budget.model_max_length === "number" ? budget.model_max_length : null;
    const tokens = flags.tokenizer === undefined ? undefined : await tokenMeasure(flags.tokenizer, maxLength, measure);
    const report = await validateFile(file, { strict: flags.strict === true, maxErrors, format: data_format ?? undefined, tokens });
    for (const e of report.errors) io.stderr(`${e.message}\n`);
    const hidden = report.errorCount - report.errors.length;
    if (hidden > 0) io.stderr(`... and ${hidden} more problem${hidden === 1 ? "" : "s"} (see --max-errors)\n`);
    io.stdout(flags.json === true ? `${JSON.stringify(reportToJson(report))}\n` : formatReportText(report));
    if (!report.valid) {
      throw new UserError(`${file}: ${report.errorCount} problem${report.errorCount === 1 ? "" : "s"} found`);
    }
  });
}
