import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../errors.js";

/** Tokenizer files a Hugging Face model folder may hold; copied along with a model. */
export const TOKENIZER_FILES: readonly string[] = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "vocab.txt",
  "tokenizer.model",
  "chat_template.jinja",
  "chat_template.json",
];

/** Copies the tokenizer files present in `fromDir` into `toDir`; returns their names. */
export function copyTokenizerFiles(fromDir: string, toDir: string): string[] {
  const copied: string[] = [];
  for (const f of TOKENIZER_FILES) {
    if (existsSync(join(fromDir, f))) {
      copyFileSync(join(fromDir, f), join(toDir, f));
      copied.push(f);
    }
  }
  return copied;
}

/**
 * The number of token ids `tokenizer.json` in `dir` can produce: one more
 * than the largest id of its vocabulary and added tokens. (A Unigram model
 * lists its vocabulary as an array whose index is the id.)
 */
export function tokenizerIdCount(dir: string): number {
  const file = join(dir, "tokenizer.json");
  if (!existsSync(file)) throw new UserError(`${dir}: no tokenizer.json (needed to check the vocabulary size)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const t = parsed as { model?: { vocab?: unknown }; added_tokens?: unknown } | null;
  let maxId = -1;
  const vocab = t?.model?.vocab;
  if (Array.isArray(vocab)) maxId = vocab.length - 1;
  else if (typeof vocab === "object" && vocab !== null) {
    for (const id of Object.values(vocab as Record<string, unknown>)) if (typeof id === "number" && id > maxId) maxId = id;
  } else {
    throw new UserError(`${file}: model.vocab is missing`);
  }
  if (Array.isArray(t?.added_tokens)) {
    for (const a of t.added_tokens as Array<{ id?: unknown }>) if (typeof a?.id === "number" && a.id > maxId) maxId = a.id;
  }
  return maxId + 1;
}
