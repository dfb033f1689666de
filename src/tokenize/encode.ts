/**
 * Encoding one RRHF record (a query and its k responses) into token ids.
 *
 * Paper mode (default): `query_ids` is the query encoded WITH the tokenizer's
 * special tokens (Llama's BOS; GPT-2 adds none), each response is encoded
 * WITHOUT them and followed by EOS; the response tokens and the EOS are the
 * scored tokens. Truncation: see `truncate.ts`. Responses that keep zero
 * tokens are dropped (counted in the report; `strict` makes them an error).
 *
 * Official mode (`compat: "official"`): see `official.ts`.
 *
 * @example
 * const tok = await loadTokenizer("tests/fixtures/tokenizers/gpt2");
 * const enc = encodeRecord(tok, { query: "Hello", responses: [" world", "!"], scores: [1, 0] }, {});
 * // enc.query_ids = [15496]; enc.responses[0].response_ids = [995, 50256]
 */
import type { RrhfRecord } from "../data/record.js";
import { UserError } from "../errors.js";
import { settingProblem } from "../settings/spec.js";
import { renderChatMessages, renderChatQuery, type RenderedQuery } from "./chat-template.js";
import { truncateOfficial } from "./official.js";
import { encodeParts, joinParts, type EncodedParts } from "./parts.js";
import { emptyReport, MAX_NAMED, mergeReports, type TruncationReport } from "./report.js";
import { TOKENIZE_SETTINGS } from "./settings.js";
import type { RrhfTokenizer } from "./tokenizer.js";
import { DEFAULT_MAX_QUERY_SHARE, truncateRecord } from "./truncate.js";

/**
 * The one vocabulary of compatibility modes, for tokenisation and the loss alike:
 * "paper" follows the RRHF paper (default), "official" reproduces GanjinZero/RRHF train.py.
 *
 * @example
 * for (const compat of COMPAT_MODES) console.log(compat, encodeRecord(tok, record, { compat }).query_ids.length);
 */
export const COMPAT_MODES = ["paper", "official"] as const;

/**
 * Which tokenisation (and loss) to follow: the paper's (default) or the official code's.
 *
 * @example
 * const compat: CompatMode = "official";
 * const enc = encodeRecord(tok, record, { compat }); // one query per batch in this mode
 */
export type CompatMode = (typeof COMPAT_MODES)[number];

/**
 * Options for {@link encodeRecord}.
 *
 * @example
 * const options: EncodeOptions = { maxLength: 192, maxQueryShare: 0.5, strict: true, chatTemplate: true, name: "train.jsonl:12" };
 * const enc = encodeRecord(tok, record, options);
 */
export interface EncodeOptions {
  /** "paper" (default) or "official" (reproduce GanjinZero/RRHF train.py). */
  compat?: CompatMode;
  /** Token budget per row; default the tokenizer's `model_max_length`; null = no limit. */
  maxLength?: number | null;
  /** Paper mode: the share of `maxLength` a long query is cut down to (default 0.5; `--max-query-share`). */
  maxQueryShare?: number;
  /** Paper mode: an emptied response is a `UserError` instead of a counted drop. */
  strict?: boolean;
  /**
   * Render a text query through the chat template: `true` = the tokenizer's, a string = this template source.
   * A record with `messages` is always rendered (through this source when a string, else the tokenizer's).
   */
  chatTemplate?: boolean | string;
  /** Names the record in errors and reports, e.g. `"train.jsonl:12"`. */
  name?: string;
}

/**
 * One response of an encoded record.
 *
 * @example
 * const enc = encodeRecord(tok, { query: "Hi", responses: [" a", " b"], scores: [1, 0] });
 * const first: EncodedResponse = enc.responses[0]; // { response_ids: [..., eos], score: 1, responseIndex: 0, cut: false }
 */
export interface EncodedResponse {
  /** The scored ids that follow the query: response tokens (+ EOS unless cut). */
  response_ids: number[];
  score: number;
  /** Index of this response in the `record.responses` given to `encodeRecord`. */
  responseIndex: number;
  /** True when truncation removed tokens (or, paper mode, the EOS). */
  cut: boolean;
}

/**
 * A record ready for {@link collate}: one query, the responses kept.
 *
 * @example
 * const enc: EncodedRecord = encodeRecord(tok, { query: "Hi", responses: [" a", " b"], scores: [1, 0] }, { maxLength: 64 });
 * enc.query_ids;           // the query's ids, special tokens included
 * enc.report;              // what truncation did to this record
 * const batch = collate([enc], { padTokenId: tok.special.pad_token_id });
 */
export interface EncodedRecord {
  compat: CompatMode;
  query_ids: number[];
  responses: EncodedResponse[];
  report: TruncationReport;
  /**
   * Lengths before truncation, for reports: the query with its special tokens, and each response of
   * `record.responses` (emptied ones too) without its EOS.
   */
  untruncated: { query: number; responses: number[] };
}

function resolveBudget(tok: RrhfTokenizer, opts: EncodeOptions): { maxLength: number | null; share: number } {
  const maxLength = opts.maxLength === undefined ? tok.modelMaxLength : opts.maxLength;
  if (maxLength !== null && (!Number.isInteger(maxLength) || maxLength < 1)) {
    throw new UserError(`maxLength must be a positive integer, got ${maxLength}`);
  }
  const share = opts.maxQueryShare ?? DEFAULT_MAX_QUERY_SHARE;
  const problem = settingProblem(TOKENIZE_SETTINGS.max_query_share, share);
  if (problem !== null) throw new UserError(`maxQueryShare ${problem}, got ${share}`);
  return { maxLength, share };
}

/**
 * The prompt's encoding (without a second BOS): a text query through the chat
 * template when asked; a conversation (`messages`) always through it — it is
 * never flattened into text, so a tokenizer without a template is an error.
 */
function encodeQuery(tok: RrhfTokenizer, record: RrhfRecord, chatTemplate: boolean | string | undefined, name: string): EncodedParts {
  const source = typeof chatTemplate === "string" ? chatTemplate : undefined;
  let rendered: RenderedQuery;
  if (record.messages !== undefined) {
    if (source === undefined && tok.chatTemplate === null) {
      throw new UserError(
        `${name}: messages: a conversation is rendered by the tokenizer's chat template, but tokenizer_config.json has no chat_template; ` +
          "add one there, or give the prompt as plain text in query",
      );
    }
    rendered = renderChatMessages(tok, record.messages, source);
  } else if (chatTemplate === undefined || chatTemplate === false) {
    return encodeParts(tok, record.query);
  } else {
    rendered = renderChatQuery(tok, record.query, source);
  }
  if (rendered.hasBos) {
    // The template wrote the BOS text itself; letting the tokenizer add one too gives HF's double-BOS bug.
    return { prefix: [], body: tok.encode(rendered.text, { addSpecialTokens: false }), suffix: [] };
  }
  return encodeParts(tok, rendered.text);
}

/**
 * Encodes one record. Throws `UserError` for bad options, a record whose
 * responses and scores differ in length, or (strict) an emptied response.
 */
export function encodeRecord(tok: RrhfTokenizer, record: RrhfRecord, opts: EncodeOptions = {}): EncodedRecord {
  const name = opts.name ?? "record";
  if (record.responses.length !== record.scores.length) {
    throw new UserError(`${name}: ${record.responses.length} responses but ${record.scores.length} scores`);
  }
  const compat = opts.compat ?? "paper";
  const { maxLength, share } = resolveBudget(tok, opts);
  const query = encodeQuery(tok, record, opts.chatTemplate, name);
  const report = emptyReport();
  report.records = 1;
  report.responses = record.responses.length;

  if (compat === "official") {
    const eosText = tok.specialText.eos_token ?? "";
    const parts = record.responses.map((r) => encodeParts(tok, r + eosText));
    const enc = truncateOfficial(query, parts, maxLength);
    const eos = tok.special.eos_token_id;
    const untruncated = {
      query: joinParts(query).length,
      // The EOS text was appended; it counts as the EOS only where it did become the EOS id.
      responses: parts.map((p) => joinParts(p)).map((ids) => (ids.length > 0 && ids[ids.length - 1] === eos ? ids.length - 1 : ids.length)),
    };
    report.queriesCut = enc.queryCut ? 1 : 0;
    const responses = enc.responses.map((r, i) => {
      if (r.cut) report.responsesCut++;
      if (maxLength !== null && enc.query_ids.length + r.response_ids.length > maxLength) report.overLength++;
      return { response_ids: r.response_ids, score: record.scores[i], responseIndex: i, cut: r.cut };
    });
    return { compat, query_ids: enc.query_ids, responses, report, untruncated };
  }

  const bodies = record.responses.map((r) => tok.encode(r, { addSpecialTokens: false }));
  const untruncated = { query: joinParts(query).length, responses: bodies.map((b) => b.length) };
  const t = truncateRecord(query, bodies, tok.special.eos_token_id, maxLength, share);
  report.queriesCut = t.queryCut ? 1 : 0;
  const responses: EncodedResponse[] = [];
  t.responses.forEach((r, i) => {
    if (r.response_ids.length === 0) {
      if (opts.strict) {
        throw new UserError(
          `${name}: responses[${i}] keeps no tokens after truncation to ${maxLength} tokens (query ${t.query_ids.length} tokens); ` +
            "raise --model-max-length or lower --max-query-share (model_max_length, max_query_share)",
        );
      }
      report.responsesEmptied++;
      return;
    }
    if (r.cut) report.responsesCut++;
    responses.push({ response_ids: r.response_ids, score: record.scores[i], responseIndex: i, cut: r.cut });
  });
  if (report.responsesEmptied > 0) report.emptiedIn.push(name);
  return { compat, query_ids: t.query_ids, responses, report, untruncated };
}

/**
 * Encodes many records and sums their reports. `nameOf(i)` names record i in
 * errors (default `record i+1`).
 *
 * @example
 * const { encoded, report } = encodeRecords(tok, await readAllRecords("tests/fixtures/train/tiny-train.jsonl"), { maxLength: 64 });
 * report.responsesEmptied; // responses truncation left empty (dropped and counted)
 */
export function encodeRecords(
  tok: RrhfTokenizer,
  records: RrhfRecord[],
  opts: Omit<EncodeOptions, "name"> = {},
  nameOf: (i: number) => string = (i) => `record ${i + 1}`,
): { encoded: EncodedRecord[]; report: TruncationReport } {
  const report = emptyReport();
  const encoded = records.map((rec, i) => {
    const e = encodeRecord(tok, rec, { ...opts, name: nameOf(i) });
    mergeReports(report, e.report);
    return e;
  });
  report.emptiedIn = report.emptiedIn.slice(0, MAX_NAMED);
  return { encoded, report };
}
