/**
 * Loading a Hugging Face tokenizer folder through `@huggingface/tokenizers`
 * (no hand-written BPE here): `tokenizer.json` + `tokenizer_config.json`
 * (+ optional `special_tokens_map.json`).
 *
 * @example
 * const tok = await loadTokenizer("models/gpt2");
 * tok.encode("Hello world"); // [15496, 995]
 * tok.special.eos_token_id;  // 50256
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { UserError } from "../errors.js";
import { specialTokenStrings, type SpecialTokenIds, type SpecialTokenStrings } from "./special-tokens.js";

export type { SpecialTokenIds, SpecialTokenStrings } from "./special-tokens.js";

/**
 * A loaded tokenizer with the pieces RRHF needs, in one small interface.
 *
 * @example
 * const tok: RrhfTokenizer = await loadTokenizer("tests/fixtures/tokenizers/gpt2");
 * const ids = tok.encode("Hello"); // tok.decode(ids) === "Hello"
 */
export interface RrhfTokenizer {
  /** Token ids of `text`; special tokens (e.g. Llama's BOS) are added unless `addSpecialTokens: false`. */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Text of `ids` (special tokens kept); `[]` decodes to `""`. */
  decode(ids: number[]): string;
  /** Id of one token string, or null when it is not in the vocabulary. */
  tokenToId(token: string): number | null;
  special: SpecialTokenIds;
  /** Special tokens' text, e.g. for chat templates (`bos_token`, `eos_token`). */
  specialText: SpecialTokenStrings;
  /** `model_max_length` from tokenizer_config.json; null when absent or HF's "no limit" sentinel. */
  modelMaxLength: number | null;
  /** The `chat_template` source (the "default" one when several are named), or null. */
  chatTemplate: string | null;
  /** tokenizer_config.json as read (HF field names kept). */
  config: Record<string, unknown>;
  /** special_tokens_map.json as read, or null when the folder has none. */
  specialTokensMap: Record<string, unknown> | null;
}

/** Values above this are HF's "unlimited" sentinel (int(1e30)), not a real budget. */
const MAX_REAL_MODEL_LENGTH = 1e9;

async function readJsonObject(path: string, required: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && code === "ENOENT") return null;
    throw new UserError(
      code === "ENOENT" ? `${path}: file not found (a tokenizer folder needs it)` : `${path}: cannot read (${code ?? String(err)})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UserError(`${path}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Picks the template source: a string, or HF's list of `{name, template}` (the "default" one). */
function chatTemplateSource(config: Record<string, unknown>): string | null {
  const value = config.chat_template;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (entry !== null && typeof entry === "object") {
        const e = entry as { name?: unknown; template?: unknown };
        if (e.name === "default" && typeof e.template === "string") return e.template;
      }
    }
  }
  return null;
}

function modelMaxLengthOf(config: Record<string, unknown>, configPath: string): number | null {
  const v = config.model_max_length;
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 1) {
    throw new UserError(`${configPath}: model_max_length: expected a positive number, got ${JSON.stringify(v)}`);
  }
  return v > MAX_REAL_MODEL_LENGTH ? null : Math.floor(v);
}

/**
 * Builds an {@link RrhfTokenizer} from already-parsed JSON (tests, or callers
 * that hold the files in memory). `where` names the folder in error messages.
 */
/**
 * A token→id vocabulary (BPE, WordPiece, WordLevel) must map to integer ids:
 * the library accepts `"H": null` and then yields null ids that crash later.
 */
function assertVocabIds(tokenizerJson: Record<string, unknown>, file: string): void {
  const model = tokenizerJson.model;
  const vocab = model !== null && typeof model === "object" ? (model as Record<string, unknown>).vocab : undefined;
  if (vocab === null || typeof vocab !== "object" || Array.isArray(vocab)) return;
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
      throw new UserError(`${file}: model.vocab[${JSON.stringify(token)}]: must be a non-negative integer id (got ${JSON.stringify(id)})`);
    }
  }
}

export function createTokenizer(
  tokenizerJson: Record<string, unknown>,
  config: Record<string, unknown>,
  specialTokensMap: Record<string, unknown> | null = null,
  where = "<tokenizer>",
): RrhfTokenizer {
  const configPath = join(where, "tokenizer_config.json");
  assertVocabIds(tokenizerJson, join(where, "tokenizer.json"));
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, config);
  } catch (err) {
    throw new UserError(`${join(where, "tokenizer.json")}: cannot build the tokenizer (${(err as Error).message})`);
  }
  const tokenToId = (token: string): number | null => tok.token_to_id(token) ?? null;
  const text = specialTokenStrings(config, specialTokensMap);
  const idOf = (name: string, token: string | null): number | null => {
    if (token === null) return null;
    const id = tokenToId(token);
    if (id === null) throw new UserError(`${configPath}: ${name} ${JSON.stringify(token)} is not in the vocabulary of tokenizer.json`);
    return id;
  };
  const eos = idOf("eos_token", text.eos_token);
  if (eos === null) {
    throw new UserError(
      `${configPath}: no eos_token (looked in tokenizer_config.json and special_tokens_map.json); RRHF appends EOS to every response`,
    );
  }
  const bos = idOf("bos_token", text.bos_token);
  const pad = idOf("pad_token", text.pad_token) ?? eos;
  return {
    encode: (s, opts) => tok.encode(s, { add_special_tokens: opts?.addSpecialTokens ?? true }).ids,
    // The library rejects an empty list; an empty response decodes to "".
    decode: (ids) => (ids.length === 0 ? "" : tok.decode(ids)),
    tokenToId,
    special: { bos_token_id: bos, eos_token_id: eos, pad_token_id: pad },
    specialText: text,
    modelMaxLength: modelMaxLengthOf(config, configPath),
    chatTemplate: chatTemplateSource(config),
    config,
    specialTokensMap,
  };
}

/**
 * Loads a Hugging Face tokenizer folder. Throws `UserError` naming the file
 * when `tokenizer.json` or `tokenizer_config.json` is missing or not JSON, or
 * when no EOS token can be resolved.
 */
export async function loadTokenizer(dir: string): Promise<RrhfTokenizer> {
  const tokenizerJson = await readJsonObject(join(dir, "tokenizer.json"), true);
  const config = await readJsonObject(join(dir, "tokenizer_config.json"), true);
  const specialMap = await readJsonObject(join(dir, "special_tokens_map.json"), false);
  // Both required reads either return an object or throw.
  return createTokenizer(tokenizerJson as Record<string, unknown>, config as Record<string, unknown>, specialMap, dir);
}
