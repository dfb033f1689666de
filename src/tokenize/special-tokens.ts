/**
 * Resolving BOS / EOS / PAD from a Hugging Face tokenizer folder's configs.
 *
 * HF writes special tokens either as plain strings (`"eos_token": "</s>"`) or
 * as AddedToken objects (`{"content": "</s>", "lstrip": false, ...}`); both
 * forms appear in `tokenizer_config.json` and `special_tokens_map.json`.
 */

/**
 * The ids of the special tokens the trainer needs.
 *
 * @example
 * const tok = await loadTokenizer("tests/fixtures/tokenizers/gpt2");
 * const { eos_token_id, pad_token_id }: SpecialTokenIds = tok.special;
 */
export interface SpecialTokenIds {
  /** Beginning-of-sequence id, or null when the tokenizer has none (GPT-2 has one but never adds it). */
  bos_token_id: number | null;
  /** End-of-sequence id; always present (RRHF appends it to every response). */
  eos_token_id: number;
  /** Padding id; falls back to `eos_token_id` when the tokenizer defines no pad token. */
  pad_token_id: number;
}

/**
 * The special tokens' text, as written in the configs (null when absent).
 *
 * @example
 * const tok = await loadTokenizer("tests/fixtures/tokenizers/llama");
 * const { bos_token }: SpecialTokenStrings = tok.specialText; // "<s>"
 */
export interface SpecialTokenStrings {
  bos_token: string | null;
  eos_token: string | null;
  pad_token: string | null;
}

type JsonObject = Record<string, unknown>;

/**
 * Reads a special token's text from one config value: a string, an
 * `{content}` object, or anything else (→ null).
 */
export function specialTokenText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && "content" in value) {
    const content = (value as { content: unknown }).content;
    if (typeof content === "string") return content;
  }
  return null;
}

/**
 * The special tokens' text: `tokenizer_config.json` wins over
 * `special_tokens_map.json` (transformers loads the config last).
 */
export function specialTokenStrings(config: JsonObject, specialMap: JsonObject | null): SpecialTokenStrings {
  const pick = (name: string): string | null => specialTokenText(config[name]) ?? (specialMap ? specialTokenText(specialMap[name]) : null);
  return { bos_token: pick("bos_token"), eos_token: pick("eos_token"), pad_token: pick("pad_token") };
}
