/**
 * `rrhf sample --model DIR [--model DIR2 ...] --prompts FILE -k K --strategy ... --out FILE`
 * (or `--endpoint URL --endpoint-model NAME` instead of --model):
 * k responses per prompt from a model (k per model when pooled, or from an OpenAI-compatible server) (KV-cache decoding; strategies and
 * their flags from the generation settings table), written as our JSONL
 * `{query, responses}` (or `{messages, responses}`), ready to be scored.
 * Streaming and resumable: complete lines are appended batch by batch, and
 * a rerun skips the prompts already written.
 */
import type { Command } from "commander";
import { resolveSettings } from "../../settings/index.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";
import { SAMPLE_COMMAND_SETTINGS } from "./sample-settings.js";

interface SamplePathFlags {
  model: string[];
  prompts: string;
  out: string;
  tokenizer?: string;
  keepProvided?: boolean;
}

/** Registers `rrhf sample`. */
export function registerSample(program: Command, io: CliIo): void {
  const cmd = program
    .command("sample")
    .description("generate k responses per prompt with a model (greedy, sampling, beam or diverse beam search) into JSONL")
    .option(
      "--model <dir>",
      "Hugging Face model folder (config.json + model.safetensors; tokenizer files too unless --tokenizer); repeat it to pool several models' answers (k each, in order)",
      (dir: string, dirs: string[]) => [...dirs, dir],
      [] as string[],
    )
    .requiredOption("--prompts <file>", "JSONL file, one {query} or {messages} object per line (optionally responses, or chosen/rejected)")
    .requiredOption("--out <file>", "output JSONL, one {query, responses} object per prompt; a rerun resumes after its complete lines")
    .option("--tokenizer <dir>", "tokenizer folder (default: the model folder)")
    .option("--keep-provided", "append each prompt's own responses (responses, or chosen then rejected) after the sampled ones");
  addSettingOptions(cmd, SAMPLE_COMMAND_SETTINGS);
  cmd.action(async (flags: SamplePathFlags & Record<string, unknown>) => {
    const settings = resolveSettings(SAMPLE_COMMAND_SETTINGS, settingsFromOptions(SAMPLE_COMMAND_SETTINGS, flags), "flags");
    const { runSample } = await import("./sample-run.js");
    await runSample(
      {
        models: flags.model,
        prompts: flags.prompts,
        out: flags.out,
        tokenizer: flags.tokenizer,
        keepProvided: flags.keepProvided === true,
        settings,
      },
      io,
    );
  });
}
