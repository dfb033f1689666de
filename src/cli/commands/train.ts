/**
 * `rrhf train --model DIR --data FILE --out DIR [flags]`: RRHF training with
 * Hugging Face TrainingArguments-style flags (or a JSON/YAML `--config` file
 * holding the same snake_case keys; flags override it). Prints a header, the
 * metrics every logging step (a progress bar with ETA on a terminal, plain
 * `key=value` lines otherwise; also `metrics.jsonl` in the output folder) and
 * a one-line summary. Exit codes: 0 done, 1 a user error (bad data, settings,
 * diverged run), 2 bad flags.
 */
import { Command } from "commander";
import { addTrainOptions, trainInputFromOptions } from "../../train/config-cli.js";
import { resolveTrainConfig } from "../../train/config.js";
import type { CliIo } from "../io.js";

/** Registers `rrhf train`. */
export function registerTrain(program: Command, io: CliIo): void {
  const cmd = new Command("train")
    .description("train a causal LM with the RRHF loss on ranked responses (flags named as HF TrainingArguments)")
    .addHelpText(
      "after",
      "\nExample:\n  rrhf train --model models/gpt2 --data train.jsonl --out runs/gpt2-rrhf --max-steps 100 --logging-steps 10\n" +
        "Resume after an interruption:\n  rrhf train --config run.yaml --resume-from-checkpoint latest\n",
    );
  addTrainOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    const config = resolveTrainConfig(trainInputFromOptions(opts));
    // Loaded on use so that other commands start without the model code.
    const { train } = await import("../../train/loop.js");
    // A progress bar needs a real terminal; anything else gets plain lines through io.
    const tty = process.stdout.isTTY === true;
    await train(config, { stdout: io.stdout, stderr: io.stderr, ...(tty ? { progressStream: process.stdout } : {}) });
  });
  program.addCommand(cmd);
}
