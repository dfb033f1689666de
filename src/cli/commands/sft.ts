/**
 * `rrhf sft --model DIR --data FILE --out DIR [flags]`: supervised
 * fine-tuning on `{query, response}` records (loss on the response and its
 * EOS) or `{text}` records (loss on every token). The same trainer as
 * `rrhf train` (flags, `--config` file, checkpoints, resume, metrics.jsonl,
 * progress, Ctrl-C), without the RRHF flags. Exit codes as `rrhf train`.
 */
import { Command, Option } from "commander";
import { resolveSftConfig, SFT_SETTINGS } from "../../train/sft-config.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";
import { runTrainerCommand } from "../trainer-run.js";

/** Registers `rrhf sft`. */
export function registerSft(program: Command, io: CliIo): void {
  const cmd = new Command("sft")
    .description("supervised fine-tuning on {query, response} or {text} records (the trainer of rrhf train, mean token NLL)")
    .addHelpText(
      "after",
      "\nExample:\n  rrhf sft --model models/gpt2 --data sft.jsonl --out runs/gpt2-sft --max-steps 100 --save-dtype bfloat16\n" +
        "Resume after an interruption (the checkpoint's settings are reused; flags override them):\n" +
        "  rrhf sft --out runs/gpt2-sft --resume-from-checkpoint latest\n",
    );
  cmd.addOption(new Option("--config <file>", "JSON or YAML file with any of these settings (snake_case keys); flags override it"));
  addSettingOptions(cmd, SFT_SETTINGS);
  cmd.action(async (opts: Record<string, unknown>) => {
    const configFile = typeof opts.config === "string" ? opts.config : null;
    const config = resolveSftConfig({ configFile, overrides: settingsFromOptions(SFT_SETTINGS, opts) });
    const { sft } = await import("../../train/sft.js");
    await runTrainerCommand("sft", config, sft, io);
  });
  program.addCommand(cmd);
}
