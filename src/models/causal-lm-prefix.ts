/**
 * Planning the "shared prefix" layout: the rows of one query share their
 * query tokens, so the query is computed once and each of the k rows only
 * computes its continuation, attending to the query's cached keys/values.
 *
 * The prefix stops one token before the first scored label: the logits at
 * the last query token score the first response token, and those differ per
 * row, so that position belongs to the continuations. The prefix positions
 * therefore need no LM head at all.
 */
import { UserError } from "../errors.js";
import { IGNORE_INDEX, type KeyMasking, type TokenBatch } from "./causal-lm.js";

/** One query's rows [lo, hi): prefix positions [0, P), continuations [P, P + Tc). */
export interface PrefixGroup {
  lo: number;
  hi: number;
  /** Shared prefix length (0 when the rows share nothing worth caching). */
  P: number;
  /** Continuation length per row. */
  Tc: number;
}

/** First scored label position of row r, or -1. */
function firstScored(batch: TokenBatch, r: number): number {
  const T = batch.seqLen;
  for (let t = 1; t < T; t++) if (batch.labels[r * T + t] !== IGNORE_INDEX) return t;
  return -1;
}

/** Last scored label position of row r, or -1. */
export function lastScored(batch: TokenBatch, r: number): number {
  const T = batch.seqLen;
  for (let t = T - 1; t >= 1; t--) if (batch.labels[r * T + t] !== IGNORE_INDEX) return t;
  return -1;
}

/** Length of the prefix on which rows lo..hi-1 agree in ids and mask, capped at `cap`. */
function commonPrefix(batch: TokenBatch, lo: number, hi: number, cap: number): number {
  const T = batch.seqLen;
  for (let t = 0; t < cap; t++) {
    const id = batch.input_ids[lo * T + t];
    const m = batch.attention_mask[lo * T + t];
    if (m === 0) return t;
    for (let r = lo + 1; r < hi; r++) {
      if (batch.input_ids[r * T + t] !== id || batch.attention_mask[r * T + t] !== m) return t;
    }
  }
  return cap;
}

/**
 * Groups the batch by `rowQuery` (contiguous runs) and sizes each group's
 * prefix and continuations. Groups with no scored position are left out:
 * nothing of theirs reaches the loss.
 */
export function planSharedPrefix(batch: TokenBatch, masking: KeyMasking): PrefixGroup[] {
  const rowQuery = batch.rowQuery;
  if (rowQuery === undefined) throw new UserError('layout "shared-prefix" needs the batch\'s rowQuery');
  if (rowQuery.length !== batch.rows) throw new UserError(`rowQuery has ${rowQuery.length} entries for ${batch.rows} rows`);
  const T = batch.seqLen;
  const groups: PrefixGroup[] = [];
  let lo = 0;
  while (lo < batch.rows) {
    let hi = lo + 1;
    while (hi < batch.rows && rowQuery[hi] === rowQuery[lo]) hi++;
    let minFirst = Infinity;
    let end = 0;
    for (let r = lo; r < hi; r++) {
      const f = firstScored(batch, r);
      if (f < 0) continue;
      minFirst = Math.min(minFirst, f);
      const len = masking.lengths ? masking.lengths[r] : T;
      end = Math.max(end, len, lastScored(batch, r));
    }
    if (minFirst !== Infinity) {
      const P = commonPrefix(batch, lo, hi, minFirst - 1);
      groups.push({ lo, hi, P, Tc: end - P });
    }
    lo = hi;
  }
  return groups;
}
