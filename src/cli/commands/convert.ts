/**
 * `rrhf convert --from pairs|hh IN --out OUT`: public preference formats to
 * RRHF JSONL. The output appears only when every line converted; on the
 * first bad line the command exits 1 with `file:line: field: problem`.
 */
import { Option, type Command } from "commander";
import { CONVERT_FORMATS, convertFile, type ConvertFormat } from "../../data/convert/convert.js";
import type { CliIo } from "../io.js";

interface ConvertFlags {
  from: ConvertFormat;
  out: string;
}

/** Registers `rrhf convert`. */
export function registerConvert(program: Command, io: CliIo): void {
  program
    .command("convert")
    .description("convert preference data to RRHF JSONL ({query, responses, scores} per line; scores 1 and 0)")
    .argument("<input>", "JSONL file to convert")
    .addOption(
      new Option(
        "--from <format>",
        'input format: "pairs" ({prompt, chosen, rejected} per line) or "hh" (Anthropic HH-RLHF {chosen, rejected} transcripts)',
      )
        .choices(CONVERT_FORMATS)
        .makeOptionMandatory(),
    )
    .requiredOption("--out <file>", "output JSONL file (written atomically; replaced if it exists)")
    .action(async (input: string, flags: ConvertFlags) => {
      const { records } = await convertFile(flags.from, input, flags.out);
      io.stdout(`converted ${records} record${records === 1 ? "" : "s"} from ${input} (${flags.from}) to ${flags.out}\n`);
    });
}
