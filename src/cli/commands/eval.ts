/**
 * `rrhf eval --model DIR [--ref DIR] [--data FILE] [--prompts FILE --scorer SPEC --max-new-tokens N] [--json]`:
 * ranking accuracy, perplexity and KL on scored data; mean and median
 * reward of greedy generations on prompts (see eval/evaluate.ts). A table
 * on stdout, or with --json one object with exactly the metric keys and `tokens`.
 */
import type { Command } from "commander";
import { EVAL_SETTINGS } from "../../eval/settings.js";
import { resolveSettings } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

interface EvalPathFlags {
  model: string;
  ref?: string;
  data?: string;
  prompts?: string;
  scorer?: string;
  tokenizer?: string;
  json?: boolean;
}

/** Registers `rrhf eval`. */
export function registerEval(program: Command, io: CliIo): void {
  const cmd = program
    .command("eval")
    .description("evaluate a model: ranking accuracy, perplexity and KL on scored data; reward of greedy generations on prompts")
    .requiredOption("--model <dir>", "the policy: Hugging Face model folder")
    .option("--ref <dir>", "reference model folder (same vocabulary): adds kl, KL(policy || ref) in nats per scored token")
    .option("--data <file>", "scored records {query|messages, responses, scores}: ranking_accuracy, perplexity (and kl)")
    .option(
      "--prompts <file>",
      "prompts {query|messages[, answer]}: reward_mean, reward_median of greedy generations (and kl without --data)",
    )
    .option("--scorer <spec>", "scores the generations: model:DIR | http(s)://... | cmd:COMMAND | rule:...")
    .option("--tokenizer <dir>", "tokenizer folder (default: the model folder)")
    .option("--json", "print one JSON object with the metric keys and tokens");
  addSettingOptions(cmd, EVAL_SETTINGS);
  cmd.action(async (flags: EvalPathFlags & Record<string, unknown>) => {
    const settings = resolveSettings(EVAL_SETTINGS, settingsFromOptions(EVAL_SETTINGS, flags), "flags");
    const { evaluate, formatEvalTable } = await import("../../eval/evaluate.js");
    const result = await evaluate({
      model: flags.model,
      ref: flags.ref ?? null,
      data: flags.data ?? null,
      prompts: flags.prompts ?? null,
      scorer: flags.scorer ?? null,
      ...(flags.tokenizer === undefined ? {} : { tokenizer: flags.tokenizer }),
      settings,
      log: (line) => io.stderr(line),
    });
    io.stdout(flags.json === true ? `${JSON.stringify(result)}\n` : formatEvalTable(result));
  });
}
