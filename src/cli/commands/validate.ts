/**
 * `rrhf validate FILE`: checks every line of an RRHF JSONL file, prints each
 * problem as `file:line: field: problem` on stderr (the first --max-errors of
 * them) and a summary on stdout; exit 0 when valid, 1 otherwise.
 */
import { Option, type Command } from "commander";
import type { RrhfRecord } from "../../data/record.js";
import { formatReportText, reportToJson } from "../../data/report-format.js";
import type { RecordTokenMeasure } from "../../data/token-stats.js";
import { validateFile } from "../../data/validate.js";
import { UserError } from "../../errors.js";
import type { CompatMode } from "../../tokenize/encode.js";
import type { RrhfTokenizer } from "../../tokenize/tokenizer.js";
import type { CliIo } from "../io.js";
import { positiveInt, TOKENIZE_FLAG_HELP } from "./loss.js";

interface ValidateFlags {
  tokenizer?: string;
  modelMaxLength?: number;
  strict?: boolean;
  chatTemplate?: boolean;
  compat?: "official";
  json?: boolean;
  maxErrors: number;
}

/** How training would tokenise: the options validate measures with. */
interface MeasureOptions {
  compat: CompatMode;
  chatTemplate: boolean;
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
  if (opts.chatTemplate) requireChatTemplate(tok, dir);
  const encodeOpts = { compat: opts.compat, chatTemplate: opts.chatTemplate };
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

/** Registers `rrhf validate`. */
export function registerValidate(program: Command, io: CliIo): void {
  program
    .command("validate")
    .description("check an RRHF JSONL file line by line and summarise it (queries, responses, score ties, tokens)")
    .argument("<file>", "JSONL file, one {query, responses, scores} object per line")
    .option("--tokenizer <dir>", "Hugging Face tokenizer folder: adds token-length percentiles")
    .option(
      "--model-max-length <n>",
      "with --tokenizer: count responses this token budget would truncate or empty",
      positiveInt("--model-max-length"),
    )
    .option("--strict", "also fail on unknown keys, queries whose scores are all equal, and emptied responses")
    .option("--chat-template", `with --tokenizer: ${TOKENIZE_FLAG_HELP.chatTemplate}`)
    .addOption(new Option("--compat <mode>", `with --tokenizer: measure with ${TOKENIZE_FLAG_HELP.compat}, as training with --compat official does`).choices(["official"]))
    .option("--json", "print the summary as one JSON object on stdout")
    .option("--max-errors <n>", "how many problems to print (all are counted)", positiveInt("--max-errors"), 50)
    .action(async (file: string, flags: ValidateFlags, cmd: Command) => {
      if (flags.modelMaxLength !== undefined && flags.tokenizer === undefined) {
        cmd.error("error: --model-max-length needs --tokenizer", { exitCode: 2 });
      }
      if (flags.chatTemplate === true && flags.tokenizer === undefined) cmd.error("error: --chat-template needs --tokenizer", { exitCode: 2 });
      if (flags.compat !== undefined && flags.tokenizer === undefined) cmd.error("error: --compat needs --tokenizer", { exitCode: 2 });
      const tokens =
        flags.tokenizer === undefined
          ? undefined
          : await tokenMeasure(flags.tokenizer, flags.modelMaxLength ?? null, {
              compat: flags.compat === "official" ? "official" : "paper",
              chatTemplate: flags.chatTemplate === true,
            });
      const report = await validateFile(file, {
        strict: flags.strict === true,
        maxErrors: flags.maxErrors,
        tokens,
      });
      for (const e of report.errors) io.stderr(`${e.message}\n`);
      const hidden = report.errorCount - report.errors.length;
      if (hidden > 0) io.stderr(`... and ${hidden} more problem${hidden === 1 ? "" : "s"} (see --max-errors)\n`);
      io.stdout(flags.json === true ? `${JSON.stringify(reportToJson(report))}\n` : formatReportText(report));
      if (!report.valid) {
        throw new UserError(`${file}: ${report.errorCount} problem${report.errorCount === 1 ? "" : "s"} found`);
      }
    });
}
