/**
 * `rrhf loss --model DIR --data FILE`: the RRHF loss of a model on a data
 * file, query by query, streaming (one query in memory at a time). Prints a
 * table, or with --json one object per query:
 * `{"line": 3, "scores": [p_1, ...], "rrhf_loss": x, "sft_loss": y, "loss": z}`
 * where `scores` are the policy's length-normalised scores p_i (null for a
 * response that truncation emptied). `--chat-template` and `--strict` change
 * the tokenisation exactly as they do for `rrhf train`.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import type { CliIo } from "../io.js";

export type LossLayout = "plain" | "shared-prefix" | "packed" | "packed-shared-prefix";

export interface LossFlags {
  model: string;
  data: string;
  tokenizer?: string;
  lengthPenalty: number;
  rrhfWeight: number;
  modelMaxLength?: number;
  compat?: "official";
  chatTemplate?: boolean;
  strict?: boolean;
  backend: string;
  json?: boolean;
  layout: LossLayout;
}

/** One query's result; nulls where nothing could be scored. */
export interface QueryLoss {
  line: number;
  scores: (number | null)[];
  rrhf_loss: number | null;
  sft_loss: number | null;
  loss: number | null;
}

/**
 * Help of the tokenisation flags, shared by `rrhf loss` and `rrhf validate`
 * so both describe them alike (`rrhf train` takes its text from its field table).
 */
export const TOKENIZE_FLAG_HELP = {
  chatTemplate:
    "render each query through the tokenizer's chat_template (tokenizer_config.json) with the generation prompt, no second BOS: " +
    "HH transcripts become user/assistant turns, other text one user message",
  strict: "a response that truncation empties is an error naming its record (default: a warning with counts)",
  compat: "the official GanjinZero/RRHF code's tokenisation (each response encoded on its own with special tokens, e.g. its own BOS)",
} as const;

function finiteNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

/** Commander parser of a positive integer flag (digits only); shared with `rrhf validate`. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

/** Registers `rrhf loss`. */
export function registerLoss(program: Command, io: CliIo): void {
  program
    .command("loss")
    .description("compute the RRHF loss of a model on a JSONL data file, query by query (no training)")
    .requiredOption("--model <dir>", "Hugging Face model folder (config.json + model.safetensors; tokenizer files too unless --tokenizer)")
    .requiredOption("--data <file>", "JSONL file, one {query, responses, scores} object per line")
    .option("--tokenizer <dir>", "tokenizer folder (default: the model folder)")
    .option("--length-penalty <x>", "exponent on the response length in p_i = sum logp / |y_i|^x", finiteNumber("--length-penalty"), 1)
    .option("--rrhf-weight <w>", "weight of the ranking term: loss = w * rrhf_loss + sft_loss", finiteNumber("--rrhf-weight"), 1)
    .option("--model-max-length <n>", "token budget per row (default: the tokenizer's model_max_length)", positiveInt("--model-max-length"))
    .addOption(new Option("--compat <mode>", `reproduce ${TOKENIZE_FLAG_HELP.compat} and loss`).choices(["official"]))
    .option("--chat-template", TOKENIZE_FLAG_HELP.chatTemplate)
    .option("--strict", `${TOKENIZE_FLAG_HELP.strict}; paper mode only (official mode never empties a response)`)
    .option("--backend <name>", "compute backend: auto, native, wasm or ref (threads: env RRHF_THREADS)", "auto")
    .option("--json", "print one JSON object per query instead of a table")
    .addOption(
      new Option("--layout <name>", "batch layout of the forward pass (same numbers, different work; see README)")
        .choices(["plain", "shared-prefix", "packed", "packed-shared-prefix"])
        .default("packed-shared-prefix"),
    )
    .action(async (flags: LossFlags) => {
      // Loaded on use so that other commands start without the model code.
      const { runLoss } = await import("./loss-run.js");
      await runLoss(flags, io);
    });
}
