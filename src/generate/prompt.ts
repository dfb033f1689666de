/**
 * A prompt's token ids for decoding, encoded exactly as training encodes a
 * query (no truncation): a `query` as it is (or through the chat template
 * when asked), a conversation (`messages`) always through the chat template,
 * with the generation prompt. An empty prompt starts from BOS (or EOS).
 *
 * @example
 * const tok = await loadTokenizer("tests/fixtures/models/gpt2-tiny");
 * promptTokenIds(tok, { query: "Hi" }, false, "prompts.jsonl:1"); // [ids of "Hi"]
 */
import type { ChatMessage, RrhfRecord } from "../data/record.js";
import { UserError } from "../errors.js";
import { encodeRecord } from "../tokenize/encode.js";
import type { RrhfTokenizer } from "../tokenize/tokenizer.js";

/** A prompt: plain text, or a conversation rendered by the chat template. */
export type PromptInput = { query: string } | { messages: ChatMessage[] };

/** The prompt's ids; `name` (e.g. `file:line`) names it in errors. */
export function promptTokenIds(tok: RrhfTokenizer, prompt: PromptInput, chatTemplate: boolean, name: string): number[] {
  const record = { ...prompt, responses: [], scores: [] } as RrhfRecord;
  const ids = encodeRecord(tok, record, { maxLength: null, chatTemplate, name }).query_ids;
  if (ids.length > 0) return ids;
  const start = tok.special.bos_token_id ?? tok.special.eos_token_id;
  if (start === null || start === undefined)
    throw new UserError(`${name}: empty prompt and the tokenizer has no BOS or EOS token to start from`);
  return [start];
}
