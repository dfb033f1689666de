/**
 * Building one {@link QueryBatch} from encoded records (several queries,
 * each with its own number of responses): each query's ids once, its
 * responses (ids + EOS) with their scores and their index in the record.
 *
 * Row r of query q, in the padded view ({@link paddedRows}), is
 * `query_ids(q) ++ response_ids(r)` right-padded to the longest row, with
 * Hugging Face style labels (-100 on query and padding) and the attention
 * mask of the compat mode: paper mode from real lengths, official mode
 * `input_ids != pad_token_id`, which masks out an EOS equal to the pad.
 *
 * @example
 * const batch = collate([encodeRecord(tok, rec)], { padTokenId: tok.special.pad_token_id });
 * batch.responseTokenStart; // [rows + 1] offsets of each response's tokens (and log-probs)
 */
import { UserError } from "../errors.js";
import { buildQueryBatch, type QueryBatch } from "./batch.js";
import type { CompatMode, EncodedRecord } from "./encode.js";

/**
 * Options for {@link collate}.
 *
 * @example
 * const options: CollateOptions = { padTokenId: tok.special.pad_token_id };
 * const batch = collate(encoded, options);
 */
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

/** Collates encoded records into one {@link QueryBatch}. */
export function collate(records: EncodedRecord[], opts: CollateOptions): QueryBatch {
  const compat = batchMode(records);
  const groups = records.map((rec) => ({
    queryIds: rec.query_ids,
    responses: rec.responses.map((r) => ({ ids: r.response_ids, score: r.score, index: r.responseIndex })),
  }));
  return buildQueryBatch(groups, { padTokenId: opts.padTokenId, compat });
}
