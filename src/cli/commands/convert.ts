/**
 * `rrhf convert --from FORMAT IN --out OUT`: public preference formats to
 * RRHF JSONL. Inputs may be JSONL, .jsonl.gz or Parquet (by extension, or
 * --format). The output appears only when the conversion succeeded; on the
 * first bad row the command exits 1 with `file:line: field: problem`, unless
 * --skip-invalid, which skips bad rows and reports how many (and the first few).
 */
import { Option, type Command } from "commander";
import { CONVERT_FORMATS, convertFile, type ConvertFormat } from "../../data/convert/convert.js";
import { DATA_SETTINGS } from "../../data/settings.js";
import { resolveSettings } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

interface ConvertFlags {
  from: ConvertFormat;
  out: string;
  skipInvalid?: boolean;
  scoreField?: string;
}

const FROM_HELP =
  'input format: "pairs" ({prompt, chosen, rejected}), "hh" (Anthropic HH-RLHF {chosen, rejected} transcripts), ' +
  '"ultrafeedback" ({instruction, completions: [{response, overall_score, annotations}]}, or its binarized form), ' +
  '"chat-pairs" ({chosen: [messages], rejected: [messages]}) or "ranked" ({prompt, responses, ranks}, 1 = best)';

/** Registers `rrhf convert`. */
export function registerConvert(program: Command, io: CliIo): void {
  const cmd = program
    .command("convert")
    .description("convert preference data to RRHF JSONL ({query or messages, responses, scores} per line)")
    .argument("<input>", "file to convert: .jsonl, .jsonl.gz or .parquet")
    .addOption(new Option("--from <format>", FROM_HELP).choices(CONVERT_FORMATS).makeOptionMandatory())
    .requiredOption("--out <file>", "output JSONL file (written atomically; replaced if it exists)")
    .option("--skip-invalid", "skip bad rows (count and the first few are reported) instead of stopping at the first")
    .option(
      "--score-field <name>",
      "ultrafeedback: the rating used as score: overall_score (default), fine-grained_score, or an aspect such as helpfulness",
    );
  addSettingOptions(cmd, DATA_SETTINGS);
  cmd.action(async (input: string, flags: ConvertFlags & Record<string, unknown>) => {
    if (flags.scoreField !== undefined && flags.from !== "ultrafeedback")
      cmd.error("error: --score-field is for --from ultrafeedback", { exitCode: 2 });
    const result = await convertFile(flags.from, input, flags.out, {
      format: resolveSettings(DATA_SETTINGS, settingsFromOptions(DATA_SETTINGS, flags), "flags").data_format ?? undefined,
      skipInvalid: flags.skipInvalid === true,
      scoreField: flags.scoreField,
    });
    const { records, skipped } = result;
    if (skipped > 0) {
      io.stderr(`skipped ${skipped} invalid row${skipped === 1 ? "" : "s"}:\n`);
      for (const e of result.skippedErrors) io.stderr(`  ${e.message}\n`);
      if (skipped > result.skippedErrors.length) io.stderr(`  ... and ${skipped - result.skippedErrors.length} more\n`);
    }
    const skippedNote = skipped > 0 ? ` (${skipped} invalid row${skipped === 1 ? "" : "s"} skipped)` : "";
    io.stdout(`converted ${records} record${records === 1 ? "" : "s"} from ${input} (${flags.from}) to ${flags.out}${skippedNote}\n`);
  });
}
