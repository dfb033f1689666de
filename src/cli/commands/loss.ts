/**
 * `rrhf loss --model DIR --data FILE`: the RRHF loss of a model on a data
 * file, query by query, streaming (one query in memory at a time). Prints a
 * table, or with --json one object per query:
 * `{"line": 3, "scores": [p_1, ...], "rrhf_loss": x, "sft_loss": y, "loss": z}`
 * where `scores` are the policy's length-normalised scores p_i (null for a
 * response that truncation emptied). The loss, tokenisation and compute
 * flags come from the same settings tables as `rrhf train`'s, so they mean
 * the same and default alike.
 */
import type { Command } from "commander";
import { resolveSettings } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";
import { LOSS_COMMAND_SETTINGS } from "./loss-settings.js";

interface LossPathFlags {
  model: string;
  data: string;
  tokenizer?: string;
  json?: boolean;
}

/** Registers `rrhf loss`. */
export function registerLoss(program: Command, io: CliIo): void {
  const cmd = program
    .command("loss")
    .description("compute the RRHF loss of a model on a data file, query by query (no training)")
    .requiredOption("--model <dir>", "Hugging Face model folder (config.json + model.safetensors; tokenizer files too unless --tokenizer)")
    .requiredOption("--data <file>", "data file, one {query, responses, scores} record per line (JSONL, .jsonl.gz or Parquet)")
    .option("--tokenizer <dir>", "tokenizer folder (default: the model folder)")
    .option("--json", "print one JSON object per query instead of a table");
  addSettingOptions(cmd, LOSS_COMMAND_SETTINGS);
  cmd.action(async (flags: LossPathFlags & Record<string, unknown>) => {
    const settings = resolveSettings(LOSS_COMMAND_SETTINGS, settingsFromOptions(LOSS_COMMAND_SETTINGS, flags), "flags");
    // Loaded on use so that other commands start without the model code.
    const { runLoss } = await import("./loss-run.js");
    await runLoss({ model: flags.model, data: flags.data, tokenizer: flags.tokenizer, json: flags.json === true, settings }, io);
  });
}
