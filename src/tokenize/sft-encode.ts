/**
 * Encoding one supervised fine-tuning record into the query-grouped form the
 * trainer batches (one query, one response), so SFT runs through the same
 * collation, forward pass and data order as RRHF:
 *
 * - `{query, response}`: exactly the paper tokenisation of an RRHF response
 *   (query with the tokenizer's special tokens, response without them and
 *   followed by EOS; the response and its EOS are scored), with the same
 *   truncation rules (see `encode.ts` / `truncate.ts`).
 * - `{text}`: the text with the tokenizer's special tokens, followed by EOS
 *   (so the model learns where a text ends, as an answer's EOS teaches it);
 *   every token after the first is scored: the first has nothing before it
 *   to be predicted from (with a BOS-adding tokenizer it is the BOS, so every
 *   text token is scored). A text longer than the budget keeps its first
 *   `maxLength` tokens and then has no EOS (it did not end there).
 *
 * @example
 * const tok = await loadTokenizer("tests/fixtures/tokenizers/gpt2");
 * const enc = encodeSftRecord(tok, { query: "Hello", response: " world" }, {});
 * // enc.query_ids = [15496]; enc.responses[0].response_ids = [995, 50256]
 */
import type { SftRecord } from "../data/sft-record.js";
import { UserError } from "../errors.js";
import { encodeRecord, type EncodedRecord, type EncodeOptions } from "./encode.js";
import { encodeParts, joinParts } from "./parts.js";
import { emptyReport } from "./report.js";
import type { RrhfTokenizer } from "./tokenizer.js";

/**
 * Options of {@link encodeSftRecord}: those of `encodeRecord` in paper mode.
 *
 * @example
 * const options: SftEncodeOptions = { maxLength: 128, name: "sft.jsonl:3", strict: true };
 */
export type SftEncodeOptions = Omit<EncodeOptions, "compat">;

function encodeText(tok: RrhfTokenizer, text: string, opts: SftEncodeOptions): EncodedRecord {
  const name = opts.name ?? "record";
  const ids = [...joinParts(encodeParts(tok, text)), tok.special.eos_token_id];
  const maxLength = opts.maxLength === undefined ? tok.modelMaxLength : opts.maxLength;
  const cut = maxLength !== null && ids.length > maxLength;
  const kept = cut ? ids.slice(0, maxLength) : ids;
  const report = emptyReport();
  report.records = 1;
  report.responses = 1;
  const untruncated = { query: 1, responses: [ids.length - 2] };
  if (kept.length < 2) {
    if (opts.strict)
      throw new UserError(`${name}: text keeps fewer than 2 tokens after truncation to ${maxLength}; raise --model-max-length`);
    report.responsesEmptied = 1;
    report.emptiedIn.push(name);
    return { compat: "paper", query_ids: kept, responses: [], report, untruncated };
  }
  if (cut) report.responsesCut = 1;
  return {
    compat: "paper",
    query_ids: kept.slice(0, 1),
    responses: [{ response_ids: kept.slice(1), score: 0, responseIndex: 0, cut }],
    report,
    untruncated,
  };
}

/** Encodes one SFT record (see the module comment); a response or text truncation empties is left with no response. */
export function encodeSftRecord(tok: RrhfTokenizer, record: SftRecord, opts: SftEncodeOptions): EncodedRecord {
  if (record.text !== undefined) return encodeText(tok, record.text, opts);
  return encodeRecord(tok, { query: record.query, responses: [record.response], scores: [0] }, { ...opts, compat: "paper" });
}
