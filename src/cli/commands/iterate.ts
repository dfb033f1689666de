/**
 * `rrhf iterate --model DIR --prompts FILE --scorer SPEC --rounds R [sampling flags] [training flags] --out DIR`:
 * R rounds of sample → score → train → eval (loop/iterate.ts), each in
 * OUT/round-N/, resumable after a crash at any stage (rerun the same
 * command); a table of reward and KL per round at the end.
 */
import type { Command } from "commander";
import { ITERATE_SETTINGS } from "../../loop/settings.js";
import { resolveSettings } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";
import { reportRefresher } from "../report-refresh.js";

interface IteratePathFlags {
  model: string;
  prompts: string;
  scorer: string;
  out: string;
}

/** Registers `rrhf iterate`. */
export function registerIterate(program: Command, io: CliIo): void {
  const cmd = program
    .command("iterate")
    .description("iterated RRHF: rounds of sample, score, train and eval, each in OUT/round-N/; rerun the same command to resume")
    .requiredOption("--model <dir>", "the start model: Hugging Face folder with its tokenizer")
    .requiredOption("--prompts <file>", "prompts {query|messages[, answer]} to sample from each round")
    .requiredOption("--scorer <spec>", "model:DIR | http(s)://... | cmd:COMMAND | rule:...")
    .requiredOption(
      "--out <dir>",
      "output folder: round-0/eval.json, round-N/{samples.jsonl,scored.jsonl,model/,metrics.jsonl,eval.json}, summary.json",
    );
  addSettingOptions(cmd, ITERATE_SETTINGS);
  cmd.action(async (flags: IteratePathFlags & Record<string, unknown>) => {
    // Checked here so that bad flags fail before any stage runs.
    const settings = resolveSettings(ITERATE_SETTINGS, settingsFromOptions(ITERATE_SETTINGS, flags), "flags");
    const { iterate, formatIterateSummary } = await import("../../loop/iterate.js");
    const summary = await iterate({
      model: flags.model,
      prompts: flags.prompts,
      scorer: flags.scorer,
      out: flags.out,
      settings,
      log: (line) => io.stderr(line),
      ...(process.stderr.isTTY === true ? { progressStream: process.stderr } : {}),
    });
    reportRefresher(flags.out, io, "rrhf iterate")();
    io.stdout(formatIterateSummary(summary));
  });
}
