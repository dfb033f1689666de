/**
 * The data side of a training run: read a JSONL file with the validating
 * reader (stops at the first bad line), encode every record up front (data
 * sets for this trainer fit in memory, and shuffling needs them there), and
 * collate the examples a batch names.
 *
 * Truncation is counted, never silent: responses emptied by the length
 * budget are dropped (spec; with `strict` the first one is an error naming
 * its record), and a query left with no response at all is
 * dropped from the data set; both counts come back in `report` and
 * `droppedQueries` so the caller can warn before training starts.
 *
 * @example
 * const data = await loadEncodedData("train.jsonl", tok, config);
 * const batch = collateExamples(data, [3, 0, 7], config);
 */
import { join } from "node:path";
import { readRecords, type ReadOptions } from "../data/reader.js";
import type { RrhfRecord } from "../data/record.js";
import { UserError } from "../errors.js";
import type { QueryBatch } from "../tokenize/batch.js";
import { collate } from "../tokenize/collate.js";
import { encodeRecord, type EncodedRecord } from "../tokenize/encode.js";
import { emptyReport, formatTruncationReport, MAX_NAMED, mergeReports, type TruncationReport } from "../tokenize/report.js";
import { checkSameK, selectBatchRows, selectResponses, type ResponseSelection } from "../tokenize/select.js";
import type { RrhfTokenizer } from "../tokenize/tokenizer.js";
import type { TrainConfig } from "./config.js";

/**
 * The settings that decide how records become batches. `chat_template` and
 * `strict` are optional (off when absent) so callers that predate them keep
 * working; `model`, when given, names the tokenizer folder in errors.
 */
export type DataSettings = Pick<TrainConfig, "compat" | "model_max_length" | "only_use_provide" | "only_use_sample"> &
  Partial<Pick<TrainConfig, "chat_template" | "strict" | "model" | "max_query_share">>;

/** An encoded data set, ready for batching. */
export interface EncodedData {
  file: string;
  /** Examples that have at least one response left. */
  examples: EncodedRecord[];
  /** 1-based line of each example in the file. */
  lines: number[];
  /** Records read from the file. */
  records: number;
  /** Records dropped because truncation emptied every response (first few named in `droppedAt`). */
  droppedQueries: number;
  droppedAt: string[];
  report: TruncationReport;
  /** Pad id of the tokenizer (its EOS when it has no pad token). */
  padTokenId: number;
}

function selection(s: DataSettings): ResponseSelection {
  if (s.only_use_provide) return "only_use_provide";
  if (s.only_use_sample) return "only_use_sample";
  return "all";
}

/** The pad id batches use: the tokenizer's pad token, else its EOS (`createTokenizer` resolves that fallback). */
export function padIdOf(tok: RrhfTokenizer): number {
  return tok.special.pad_token_id;
}

/**
 * Throws a `UserError` naming `<dir>/tokenizer_config.json` when a chat
 * template was asked for but the tokenizer has none: said once, up front,
 * instead of failing on the first record.
 */
export function requireChatTemplate(tok: RrhfTokenizer, dir: string | undefined): void {
  if (tok.chatTemplate !== null) return;
  const where = dir === undefined ? "the tokenizer's tokenizer_config.json" : join(dir, "tokenizer_config.json");
  throw new UserError(`--chat-template: ${where} has no chat_template; add one there or drop --chat-template`);
}

/**
 * Reads and encodes `file` (JSONL, .jsonl.gz or Parquet: by extension, or
 * `read.format`); throws the first data problem as a `DataError`, and
 * (strict) the first response truncation empties as a `UserError`.
 */
export async function loadEncodedData(
  file: string,
  tok: RrhfTokenizer,
  s: DataSettings,
  read: Pick<ReadOptions, "format"> = {},
): Promise<EncodedData> {
  const compat = s.compat;
  const sel = selection(s);
  const chatTemplate = s.chat_template === true;
  if (chatTemplate) requireChatTemplate(tok, s.model);
  const located: { line: number; record: RrhfRecord }[] = [];
  for await (const { line, record } of readRecords(file, read)) located.push({ line, record });
  if (located.length === 0) throw new UserError(`${file}: no records`);
  if (compat === "official")
    checkSameK(
      located.map((l) => l.record),
      (i) => `${file}:${located[i].line}`,
    );
  const report = emptyReport();
  const examples: EncodedRecord[] = [];
  const lines: number[] = [];
  const droppedAt: string[] = [];
  let droppedQueries = 0;
  for (const { line, record } of located) {
    const name = `${file}:${line}`;
    // Paper mode selects responses before encoding; official mode after padding (see selectBatchRows).
    const rec = compat === "paper" && sel !== "all" ? selectResponses(record, sel, name) : record;
    const enc = encodeRecord(tok, rec, {
      compat,
      maxLength: s.model_max_length,
      maxQueryShare: s.max_query_share,
      name,
      chatTemplate,
      strict: s.strict === true,
    });
    mergeReports(report, enc.report);
    if (enc.responses.length === 0) {
      droppedQueries++;
      if (droppedAt.length < MAX_NAMED) droppedAt.push(name);
      continue;
    }
    examples.push(enc);
    lines.push(line);
  }
  if (examples.length === 0) {
    const counts = formatTruncationReport(report, s.model_max_length) ?? "";
    throw new UserError(`${file}: truncation emptied every response of every query (${counts}); raise --model-max-length`);
  }
  return { file, examples, lines, records: located.length, droppedQueries, droppedAt, report, padTokenId: padIdOf(tok) };
}

/** Warning lines about what truncation did to `data` (empty when nothing was cut). */
export function dataWarnings(data: EncodedData, maxLength: number): string[] {
  const out: string[] = [];
  const text = formatTruncationReport(data.report, maxLength);
  if (text !== null) out.push(`${data.file}: ${text}`);
  if (data.droppedQueries > 0) {
    const more = data.droppedQueries > data.droppedAt.length ? ", ..." : "";
    out.push(
      `${data.file}: ${data.droppedQueries} of ${data.records} queries lost every response to truncation and are left out ` +
        `(${data.droppedAt.join(", ")}${more})`,
    );
  }
  return out;
}

/** Collates the examples at `indices` into one batch (official mode: response selection after padding). */
export function collateExamples(data: EncodedData, indices: readonly number[], s: DataSettings): QueryBatch {
  const batch = collate(
    indices.map((i) => data.examples[i]),
    { padTokenId: data.padTokenId },
  );
  const sel = selection(s);
  return s.compat === "official" && sel !== "all" ? selectBatchRows(batch, sel) : batch;
}

/** The batches of a whole data set in file order (evaluation). */
export function* fileOrderBatches(data: EncodedData, batchSize: number, s: DataSettings): Generator<QueryBatch> {
  for (let start = 0; start < data.examples.length; start += batchSize) {
    const indices: number[] = [];
    for (let i = start; i < Math.min(start + batchSize, data.examples.length); i++) indices.push(i);
    yield collateExamples(data, indices, s);
  }
}
