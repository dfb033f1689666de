/**
 * The batch layout the RRHF loss reads: one row per (query, response) pair,
 * right-padded to a common length T, as the tokenizer's collator lays it out.
 *
 * Alignment is Hugging Face style: position t of a row holds
 * log p(input_ids[t] | input_ids[< t]); the positions that are scored
 * (response tokens and the EOS) have `labelMask` 1. Positions with mask 0
 * (query, padding) may hold anything, NaN included: the loss never reads them.
 */
import { UserError } from "../errors.js";

/** Log-probabilities as the model produces them (float32), or float64 for reference checks. */
export type LogpArray = Float32Array | Float64Array;

/** One batch of scored responses. */
export interface RrhfBatchLayout {
  /** [rows, T] log-probability of the label at each position. */
  tokenLogps: LogpArray;
  /** [rows, T] 1 where the position is scored (response tokens + EOS), else 0. */
  labelMask: Uint8Array;
  /** [rows] which query each row belongs to; rows of one query are contiguous. */
  rowQuery: Int32Array;
  /** [rows] the reward r_i of each row's response (higher is better). */
  scores: Float64Array;
}

/** Shape facts derived from a layout once, shared by the loss and the metrics. */
export interface LayoutShape {
  rows: number;
  /** Padded sequence length (positions per row). */
  T: number;
  /** [queries + 1] first row of each query, then `rows`: query q owns rows queryStart[q] .. queryStart[q+1]-1. */
  queryStart: Int32Array;
}

/** Number of queries described by a `queryStart` array. */
export function queryCount(queryStart: Int32Array): number {
  return queryStart.length - 1;
}

/**
 * Splits `rowQuery` into contiguous query groups. Query ids need not start at
 * 0 or be consecutive, but an id may not reappear after another query's rows
 * (that would silently merge or split ranking groups).
 */
export function queryRanges(rowQuery: Int32Array): Int32Array {
  const rows = rowQuery.length;
  const starts: number[] = [];
  const seen = new Set<number>();
  for (let r = 0; r < rows; r++) {
    const id = rowQuery[r];
    if (r > 0 && id === rowQuery[r - 1]) continue;
    if (seen.has(id)) {
      throw new RangeError(`rowQuery: query ${id} appears again at row ${r} after other queries; rows of one query must be contiguous`);
    }
    seen.add(id);
    starts.push(r);
  }
  starts.push(rows);
  return Int32Array.from(starts);
}

/**
 * Checks the layout's shapes and that every reward is finite, and returns
 * its shape. Shape mismatches are programming errors (RangeError); an empty
 * batch or a non-finite reward is something a user's data can cause (UserError).
 */
export function checkLayout(batch: RrhfBatchLayout): LayoutShape {
  const rows = batch.rowQuery.length;
  if (rows === 0) throw new UserError("RRHF loss: the batch has no rows");
  if (batch.scores.length !== rows) {
    throw new RangeError(`scores has ${batch.scores.length} entries but rowQuery has ${rows} rows`);
  }
  if (batch.labelMask.length !== batch.tokenLogps.length) {
    throw new RangeError(`labelMask has ${batch.labelMask.length} entries but tokenLogps has ${batch.tokenLogps.length}`);
  }
  if (batch.tokenLogps.length % rows !== 0) {
    throw new RangeError(`tokenLogps has ${batch.tokenLogps.length} entries, not a multiple of ${rows} rows`);
  }
  const T = batch.tokenLogps.length / rows;
  if (T === 0) throw new UserError("RRHF loss: the batch has rows of length 0");
  for (let r = 0; r < rows; r++) {
    const s = batch.scores[r];
    if (!Number.isFinite(s)) {
      throw new UserError(`RRHF loss: the reward of row ${r} (query ${batch.rowQuery[r]}) is ${s}; rewards must be finite numbers`);
    }
  }
  return { rows, T, queryStart: queryRanges(batch.rowQuery) };
}
