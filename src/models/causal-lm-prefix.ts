/**
 * Planning the "shared prefix" layout: the rows of one query share their
 * query tokens (the batch holds them once), so the query is computed once
 * and each of the k rows only computes its continuation, attending to the
 * query's cached keys/values.
 *
 * The prefix stops one token before the first response token: the logits
 * at the last query token score the first response token, and those differ
 * per row, so that position belongs to the continuations. The prefix
 * positions therefore need no LM head at all.
 */
import { queryLength, type QueryBatch } from "../tokenize/batch.js";
import { lastTarget, type RowKeys, type ScoredTargets } from "./causal-lm-targets.js";

/** One query's rows [lo, hi): prefix positions [0, P), continuations [P, P + Tc). */
export interface PrefixGroup {
  lo: number;
  hi: number;
  /** Shared prefix length: the query's length - 1 (0 for a one-token or empty query). */
  P: number;
  /** Continuation length per row. */
  Tc: number;
}

/**
 * One group per query, read from the batch's offsets. Queries none of whose
 * rows has a target are left out: nothing of theirs reaches the loss.
 */
export function planSharedPrefix(batch: QueryBatch, keys: RowKeys, targets: ScoredTargets): PrefixGroup[] {
  const T = batch.paddedLength;
  const groups: PrefixGroup[] = [];
  for (let q = 0; q < batch.queries; q++) {
    const lo = batch.queryRowStart[q];
    const hi = batch.queryRowStart[q + 1];
    let end = -1;
    for (let r = lo; r < hi; r++) {
      const last = lastTarget(batch, targets, r);
      if (last >= 0) end = Math.max(end, keys.holes ? T : keys.ends[r], last);
    }
    if (end < 0) continue;
    const P = Math.max(0, queryLength(batch, q) - 1);
    groups.push({ lo, hi, P, Tc: end - P });
  }
  return groups;
}
