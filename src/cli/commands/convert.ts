/**
 * `rrhf convert --from FORMAT IN --out OUT`: public preference formats to
 * RRHF JSONL. Inputs may be JSONL, .jsonl.gz or Parquet (by extension, or
 * --format). The output appears only when the conversion succeeded; on the
 * first bad row the command exits 1 with `file:line: field: problem`, unless
 * --skip-invalid, which skips bad rows and reports how many (and the first few).
 */
import type { Command } from "commander";
import { CONVERT_FORMATS, convertFile } from "../../data/convert/convert.js";
import { DEFAULT_SCORE_FIELD } from "../../data/convert/ultrafeedback.js";
import { DATA_SETTINGS } from "../../data/settings.js";
import { resolveSettings, rules, setting } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

/** The flags of `rrhf convert`, checked at parse time like every setting (a bad value exits 2). */
const CONVERT_COMMAND_SETTINGS = {
  from: setting({
    rule: rules.choice(CONVERT_FORMATS),
    metavar: "format",
    help:
      'Input format: "pairs" ({prompt, chosen, rejected}), "hh" (Anthropic HH-RLHF {chosen, rejected} transcripts), ' +
      '"ultrafeedback" ({instruction, completions: [{response, overall_score, annotations}]}, or its binarized form), ' +
      '"chat-pairs" ({chosen: [messages], rejected: [messages]}) or "ranked" ({prompt, responses, ranks}, 1 = best).',
  }),
  out: setting({ rule: rules.string(), metavar: "file", help: "Output JSONL file (written atomically; replaced if it exists)." }),
  skip_invalid: setting({
    rule: rules.boolean(),
    default: false,
    help: "Skip bad rows (their count and the first few are reported) instead of stopping at the first.",
  }),
  score_field: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "name",
    help: `ultrafeedback only: the rating used as score: ${DEFAULT_SCORE_FIELD} (default), fine-grained_score, or an aspect such as helpfulness.`,
  }),
  ...DATA_SETTINGS,
} as const;

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Registers `rrhf convert`. */
export function registerConvert(program: Command, io: CliIo): void {
  const cmd = program
    .command("convert")
    .description("convert preference data to RRHF JSONL ({query or messages, responses, scores} per line)")
    .argument("<input>", "file to convert: .jsonl, .jsonl.gz or .parquet");
  addSettingOptions(cmd, CONVERT_COMMAND_SETTINGS, { requiredFlags: true });
  cmd.action(async (input: string, flags: Record<string, unknown>) => {
    const s = resolveSettings(CONVERT_COMMAND_SETTINGS, settingsFromOptions(CONVERT_COMMAND_SETTINGS, flags), "flags");
    if (s.score_field !== null && s.from !== "ultrafeedback")
      cmd.error("error: --score-field is for --from ultrafeedback", { exitCode: 2 });
    const result = await convertFile(s.from, input, s.out, {
      format: s.data_format ?? undefined,
      skipInvalid: s.skip_invalid,
      scoreField: s.score_field ?? undefined,
    });
    const { records, skipped } = result;
    if (skipped > 0) {
      io.stderr(`skipped ${plural(skipped, "invalid row")}:\n`);
      for (const e of result.skippedErrors) io.stderr(`  ${e.message}\n`);
      if (skipped > result.skippedErrors.length) io.stderr(`  ... and ${skipped - result.skippedErrors.length} more\n`);
    }
    const skippedNote = skipped > 0 ? ` (${plural(skipped, "invalid row")} skipped)` : "";
    io.stdout(`converted ${plural(records, "record")} from ${input} (${s.from}) to ${s.out}${skippedNote}\n`);
  });
}
