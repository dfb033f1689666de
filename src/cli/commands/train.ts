/**
 * `rrhf train --model DIR --data FILE --out DIR [flags]`: RRHF training with
 * Hugging Face TrainingArguments-style flags (or a JSON/YAML `--config` file
 * holding the same snake_case keys; flags override it). Prints a header, the
 * metrics every logging step (a progress bar with ETA on a terminal, plain
 * `key=value` lines otherwise; also `metrics.jsonl` in the output folder) and
 * a one-line summary. `--resume-from-checkpoint` reuses the checkpoint's
 * settings (flags override them). The first Ctrl-C finishes the step, writes
 * a checkpoint and prints the command that resumes; a second quits at once.
 * Exit codes: 0 done, 1 a user error (bad data, settings, diverged run),
 * 2 bad flags, 130 interrupted.
 */
import { Command, Option } from "commander";
import { resolveTrainConfig, TRAIN_SETTINGS } from "../../train/config.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";
import { runTrainerCommand } from "../trainer-run.js";

/** Registers `rrhf train`. */
export function registerTrain(program: Command, io: CliIo): void {
  const cmd = new Command("train")
    .description("train a causal LM with the RRHF loss on ranked responses (flags named as HF TrainingArguments)")
    .addHelpText(
      "after",
      "\nExample:\n  rrhf train --model models/gpt2 --data train.jsonl --out runs/gpt2-rrhf --max-steps 100 --logging-steps 10\n" +
        "Resume after an interruption (the checkpoint's settings are reused; flags override them):\n" +
        "  rrhf train --out runs/gpt2-rrhf --resume-from-checkpoint latest\n",
    );
  cmd.addOption(new Option("--config <file>", "JSON or YAML file with any of these settings (snake_case keys); flags override it"));
  addSettingOptions(cmd, TRAIN_SETTINGS);
  cmd.action(async (opts: Record<string, unknown>) => {
    const configFile = typeof opts.config === "string" ? opts.config : null;
    const config = resolveTrainConfig({ configFile, overrides: settingsFromOptions(TRAIN_SETTINGS, opts) });
    // Loaded on use so that other commands start without the model code.
    const { train } = await import("../../train/loop.js");
    await runTrainerCommand("train", config, train, io);
  });
  program.addCommand(cmd);
}
