/**
 * Building one right-padded batch from encoded records (several queries, each
 * with its own number of responses).
 *
 * Row r of query q is `query_ids(q) ++ response_ids(r)`, padded with the pad
 * id to `seqLen` (the longest row). Label convention (Hugging Face style):
 * labels are aligned with `input_ids` — `labels[t] = input_ids[t]` for every
 * scored position (response tokens and their EOS) and -100 elsewhere (query,
 * padding). The model's logits at position t score the token at t + 1, so the
 * loss compares logits[t] with labels[t + 1] (the shift happens in the loss,
 * as in HF's causal-LM loss). The official code stores labels pre-shifted
 * instead; the scored tokens are the same.
 *
 * Attention mask: paper mode from real lengths (1 for the row's tokens, 0 for
 * padding); official mode `input_ids != pad_token_id`, which masks out an EOS
 * (or any token) equal to the pad id, as the official code does.
 *
 * @example
 * const batch = collate([encodeRecord(tok, rec)], { padTokenId: tok.special.pad_token_id });
 * batch.input_ids.subarray(0, batch.seqLen); // row 0
 */
import { UserError } from "../errors.js";
import type { CompatMode, EncodedRecord } from "./encode.js";

/**
 * The label of positions that are not scored (Hugging Face's -100).
 *
 * @example
 * const labelMask = Uint8Array.from(batch.labels, (label) => (label === IGNORE_INDEX ? 0 : 1));
 */
export const IGNORE_INDEX = -100;

/** A padded batch; every `[rows*T]` array is row-major with T = `seqLen`. */
export interface RrhfBatch {
  compat: CompatMode;
  /** Number of rows (responses over all queries). */
  rows: number;
  /** T: the longest row. */
  seqLen: number;
  /** Number of queries (records) in the batch. */
  queries: number;
  input_ids: Int32Array; // [rows*T], padding = pad id
  labels: Int32Array; // [rows*T], input_ids at scored positions, -100 elsewhere
  attention_mask: Uint8Array; // [rows*T]
  /** Real length of each row (query + response tokens). */
  lengths: Int32Array; // [rows]
  /** Row → index of its query in this batch. */
  rowQuery: Int32Array; // [rows]
  /** Row → the response's score (reward). */
  scores: Float64Array; // [rows]
  /**
   * Row → index of the response in the record given to `encodeRecord` (rows dropped by truncation or
   * `selectBatchRows` leave gaps; paper-mode `selectResponses` runs before encoding, so it renumbers).
   */
  responseIndex: Int32Array; // [rows]
  /** Row → first response position (= its query's length); scored positions are [responseStart, length). */
  responseStart: Int32Array; // [rows]
  /** Row → number of scored tokens (|y_i| in the paper's loss). */
  scoredTokens: Int32Array; // [rows]
  /** Query → its length in tokens (for a shared-prefix forward). */
  queryLengths: Int32Array; // [queries]
  /** Query q's rows are [queryRowStart[q], queryRowStart[q+1]); a query may have none (all responses emptied). */
  queryRowStart: Int32Array; // [queries+1]
}

/** Options for {@link collate}. */
export interface CollateOptions {
  /** Id written into padding positions (and, official mode, the id the mask hides). */
  padTokenId: number;
}

function batchMode(records: EncodedRecord[]): CompatMode {
  const mode = records[0]?.compat ?? "paper";
  if (records.some((r) => r.compat !== mode)) throw new UserError("collate: records encoded in different compat modes");
  if (mode === "official" && records.length !== 1) {
    throw new UserError(
      `official compat mode takes one query per batch (the official trainer's SFT term reads only the first query); got ${records.length}`,
    );
  }
  return mode;
}

/** Collates encoded records into one {@link RrhfBatch}. */
export function collate(records: EncodedRecord[], opts: CollateOptions): RrhfBatch {
  const compat = batchMode(records);
  const queries = records.length;
  const queryRowStart = new Int32Array(queries + 1);
  const queryLengths = new Int32Array(queries);
  let rows = 0;
  let seqLen = 0;
  records.forEach((rec, q) => {
    queryRowStart[q] = rows;
    queryLengths[q] = rec.query_ids.length;
    for (const r of rec.responses) seqLen = Math.max(seqLen, rec.query_ids.length + r.response_ids.length);
    rows += rec.responses.length;
  });
  queryRowStart[queries] = rows;

  const T = seqLen;
  const input_ids = new Int32Array(rows * T).fill(opts.padTokenId);
  const labels = new Int32Array(rows * T).fill(IGNORE_INDEX);
  const attention_mask = new Uint8Array(rows * T);
  const lengths = new Int32Array(rows);
  const rowQuery = new Int32Array(rows);
  const scores = new Float64Array(rows);
  const responseIndex = new Int32Array(rows);
  const responseStart = new Int32Array(rows);
  const scoredTokens = new Int32Array(rows);

  let row = 0;
  records.forEach((rec, q) => {
    const qLen = rec.query_ids.length;
    for (const r of rec.responses) {
      const base = row * T;
      input_ids.set(rec.query_ids, base);
      input_ids.set(r.response_ids, base + qLen);
      labels.set(r.response_ids, base + qLen);
      const len = qLen + r.response_ids.length;
      if (compat === "paper") attention_mask.fill(1, base, base + len);
      lengths[row] = len;
      rowQuery[row] = q;
      scores[row] = r.score;
      responseIndex[row] = r.responseIndex;
      responseStart[row] = qLen;
      scoredTokens[row] = r.response_ids.length;
      row++;
    }
  });
  if (compat === "official") {
    for (let i = 0; i < input_ids.length; i++) attention_mask[i] = input_ids[i] !== opts.padTokenId ? 1 : 0;
  }
  return {
    compat, rows, seqLen, queries, input_ids, labels, attention_mask, lengths, rowQuery, scores,
    responseIndex, responseStart, scoredTokens, queryLengths, queryRowStart,
  };
}
