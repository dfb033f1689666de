/** Shared tokenizer fixtures for the tokenize tests (loaded once per test file). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createTokenizer, loadTokenizer, type RrhfTokenizer } from "../../src/tokenize/tokenizer.js";
import { fixture } from "../helpers.js";

export const GPT2_DIR = fixture("tokenizers", "gpt2");
export const LLAMA_DIR = fixture("tokenizers", "llama");

/** GPT-2 ids, each looked up by hand in tests/fixtures/tokenizers/gpt2/tokenizer.json's vocab. */
export const G = {
  Hello: 15496,
  _world: 995, // "Ġworld"
  _Hello: 18435, // "ĠHello"
  bang: 0, // "!"
  _there: 612,
  The: 464,
  _cat: 3797,
  _sat: 3332,
  _on: 319,
  _the: 262,
  _mat: 2603,
  eot: 50256, // "<|endoftext|>": GPT-2's BOS, EOS and (by fallback) PAD
} as const;

/** Llama-family (SentencePiece BPE with byte fallback) ids, looked up in tests/fixtures/tokenizers/llama/tokenizer.json. */
export const L = {
  bos: 1, // "<s>"
  eos: 2, // "</s>"
  _Hello: 22557, // "▁Hello"
  _world: 1526, // "▁world"
  _: 28705, // "▁"
} as const;

let gpt2Promise: Promise<RrhfTokenizer> | undefined;
let llamaPromise: Promise<RrhfTokenizer> | undefined;

export function gpt2(): Promise<RrhfTokenizer> {
  gpt2Promise ??= loadTokenizer(GPT2_DIR);
  return gpt2Promise;
}

export function llama(): Promise<RrhfTokenizer> {
  llamaPromise ??= loadTokenizer(LLAMA_DIR);
  return llamaPromise;
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** A tokenizer from a fixture's tokenizer.json with a replaced tokenizer_config.json (and optional special_tokens_map.json). */
export function withConfig(dir: string, config: Record<string, unknown>, specialMap: Record<string, unknown> | null = null): RrhfTokenizer {
  return createTokenizer(readJson(join(dir, "tokenizer.json")), config, specialMap, dir);
}
