/**
 * `rrhf validate FILE`: checks every line of an RRHF JSONL file, prints each
 * problem as `file:line: field: problem` on stderr (the first --max-errors of
 * them) and a summary on stdout; exit 0 when valid, 1 otherwise.
 */
import { InvalidArgumentError, type Command } from "commander";
import type { RrhfRecord } from "../../data/record.js";
import { formatReportText, reportToJson } from "../../data/report-format.js";
import type { RecordTokenMeasure } from "../../data/token-stats.js";
import { validateFile } from "../../data/validate.js";
import { UserError } from "../../errors.js";
import type { RrhfTokenizer } from "../../tokenize/tokenizer.js";
import type { CliIo } from "../main.js";

interface ValidateFlags {
  tokenizer?: string;
  modelMaxLength?: number;
  strict?: boolean;
  json?: boolean;
  maxErrors: number;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    }
    return n;
  };
}

/**
 * Token measure for validate: lengths before truncation (query with special
 * tokens, responses without, EOS not counted) and, under a budget, what the
 * paper-mode encoder used for training would cut or empty.
 */
async function tokenMeasure(dir: string, maxLength: number | null): Promise<RecordTokenMeasure> {
  // Loaded on demand: the tokenizer library is not needed to check data, and every CLI start pays for imports.
  const [{ loadTokenizer }, { encodeRecord }] = await Promise.all([
    import("../../tokenize/tokenizer.js"),
    import("../../tokenize/encode.js"),
  ]);
  const tok: RrhfTokenizer = await loadTokenizer(dir);
  return {
    modelMaxLength: maxLength,
    measure(record: RrhfRecord) {
      const query = tok.encode(record.query).length;
      const responses = record.responses.map((r) => tok.encode(r, { addSpecialTokens: false }).length);
      if (maxLength === null) return { query, responses, queryTruncated: null, truncated: null, emptied: null };
      const enc = encodeRecord(tok, record, { maxLength });
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
    .option("--json", "print the summary as one JSON object on stdout")
    .option("--max-errors <n>", "how many problems to print (all are counted)", positiveInt("--max-errors"), 50)
    .action(async (file: string, flags: ValidateFlags, cmd: Command) => {
      if (flags.modelMaxLength !== undefined && flags.tokenizer === undefined) {
        cmd.error("error: --model-max-length needs --tokenizer", { exitCode: 2 });
      }
      const tokens =
        flags.tokenizer === undefined ? undefined : await tokenMeasure(flags.tokenizer, flags.modelMaxLength ?? null);
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
