/**
 * What the RRHF loss reads: the model's per-response token log-probs as a
 * RAGGED array, with the query-grouped batch's offsets and rewards (a
 * `QueryBatch` from the tokenize layer is one; nothing here re-derives them).
 *
 * ```
 * tokenLogps         [Σ|y_i|]     response i's scored tokens (its ids + EOS) at
 *                                 [responseTokenStart[i], responseTokenStart[i+1])
 * responseTokenStart [rows + 1]
 * queryRowStart      [queries+1]  query q's responses are rows queryRowStart[q] .. queryRowStart[q+1]-1
 * scores             [rows]       reward r_i (higher is better)
 * paddedLength       T            the padded row length: read only in official compat mode
 * ```
 */
import { UserError } from "../errors.js";
import type { QueryBatch } from "../tokenize/batch.js";

/** Log-probabilities as the model produces them (float32), or float64 for reference checks. */
export type LogpArray = Float32Array | Float64Array;

/** The offsets and rewards the loss reads (a `QueryBatch` has them all). */
export type RrhfLossBatch = Pick<QueryBatch, "queryRowStart" | "responseTokenStart" | "scores" | "paddedLength">;

/** Number of queries described by a `queryRowStart` array. */
export function queryCount(queryRowStart: Int32Array): number {
  return queryRowStart.length - 1;
}

/**
 * Checks the offsets against the log-probs and that every reward is finite;
 * returns the number of rows. Shape mismatches are programming errors
 * (RangeError); an empty batch or a non-finite reward is something a user's
 * data can cause (UserError).
 */
export function checkLossBatch(tokenLogps: LogpArray, batch: RrhfLossBatch): number {
  const rows = batch.scores.length;
  const { queryRowStart, responseTokenStart } = batch;
  if (rows === 0) throw new UserError("RRHF loss: the batch has no rows");
  if (responseTokenStart.length !== rows + 1) {
    throw new RangeError(`responseTokenStart has ${responseTokenStart.length} entries for ${rows} rows (expected rows + 1)`);
  }
  if (responseTokenStart[rows] !== tokenLogps.length) {
    throw new RangeError(`tokenLogps has ${tokenLogps.length} entries but the responses have ${responseTokenStart[rows]} tokens`);
  }
  if (queryRowStart.length < 2 || queryRowStart[0] !== 0 || queryRowStart[queryRowStart.length - 1] !== rows) {
    throw new RangeError(`queryRowStart must run from 0 to ${rows} rows`);
  }
  for (let q = 0; q + 1 < queryRowStart.length; q++) {
    if (queryRowStart[q + 1] < queryRowStart[q]) throw new RangeError(`queryRowStart decreases at query ${q}`);
  }
  for (let i = 0; i < rows; i++) {
    if (responseTokenStart[i + 1] < responseTokenStart[i]) throw new RangeError(`responseTokenStart decreases at row ${i}`);
  }
  for (let r = 0; r < rows; r++) {
    const s = batch.scores[r];
    if (!Number.isFinite(s)) {
      throw new UserError(
        `RRHF loss: the reward of row ${r} (query ${queryOfRow(queryRowStart, r)}) is ${s}; rewards must be finite numbers`,
      );
    }
  }
  return rows;
}

/** The query owning row r (for messages; a binary search over the offsets). */
export function queryOfRow(queryRowStart: Int32Array, r: number): number {
  let lo = 0;
  let hi = queryCount(queryRowStart) - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (queryRowStart[mid] <= r) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
