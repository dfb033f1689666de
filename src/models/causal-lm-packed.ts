/**
 * Planning the "packed" layouts: the real tokens of every row that has a
 * scored label, concatenated into one sequence with no padding, so every
 * per-token op (embeddings, norms, linears, MLP, RoPE) runs on [Ntot, C]
 * and attention is block-diagonal causal over the rows (flash-attn
 * "varlen": cumulative segment offsets).
 *
 * With shared prefixes, each query's prefix is one segment and each of its
 * k continuations another, at its own length; a continuation sees its
 * prefix's keys in full and its own causally, exactly the keys its row sees
 * in the plain layout.
 */
import type { AttentionSegments } from "../autodiff/ops/attention.js";
import { isKeyAt, rowTokenAt, type QueryBatch } from "../tokenize/batch.js";
import { planSharedPrefix } from "./causal-lm-prefix.js";
import { lastTarget, type RowKeys, type ScoredTargets } from "./causal-lm-targets.js";

/** What one packed body call reads, and where the loss's hidden states lie in it. */
export interface PackedPlan {
  /** Ntot, the packed sequence length. */
  tokens: number;
  /** [Ntot] token ids. */
  ids: Int32Array;
  /** [Ntot] absolute position of each token in its row (0-based). */
  positions: Int32Array;
  /** Segments for attention: one per prefix and one per row (continuation). */
  segments: AttentionSegments;
  /** [Ntot] key mask when the attention mask has holes or targets run past the keys; else null. */
  keyMask: Uint8Array | null;
  /** [targets] packed index of the hidden state that predicts each target (its position - 1). */
  hiddenRows: Int32Array;
}

/** Rows [lo, hi) sharing positions [0, P) (P = 0: nothing shared). */
interface PackGroup {
  lo: number;
  hi: number;
  P: number;
}

/**
 * Packs the rows that have targets, reading ids from the batch's offsets.
 *
 * Row r contributes positions [P, E_r) with E_r = max(end of its keys, last
 * target): the hidden state at t - 1 scores the token at t, so nothing past
 * E_r is needed, and nothing before it is padding.
 */
export function planPacked(batch: QueryBatch, keys: RowKeys, targets: ScoredTargets, sharePrefix: boolean): PackedPlan {
  const groups: PackGroup[] = sharePrefix
    ? planSharedPrefix(batch, keys, targets).map(({ lo, hi, P }) => ({ lo, hi, P }))
    : Array.from({ length: batch.rows }, (_, r) => ({ lo: r, hi: r + 1, P: 0 }));

  // Sizes first, so every buffer is allocated once.
  const ends = new Int32Array(batch.rows);
  let tokens = 0;
  let segmentCount = 0;
  let needMask = keys.holes;
  for (const { lo, hi, P } of groups) {
    let any = false;
    for (let r = lo; r < hi; r++) {
      const last = lastTarget(batch, targets, r);
      if (last < 0) continue;
      ends[r] = Math.max(keys.ends[r], last);
      if (ends[r] > keys.ends[r]) needMask = true; // targets past the keys: those positions exist but are not keys
      tokens += ends[r] - P;
      segmentCount++;
      any = true;
    }
    if (any && P > 0) {
      tokens += P;
      segmentCount++;
    }
  }

  const ids = new Int32Array(tokens);
  const positions = new Int32Array(tokens);
  const keyMask = needMask ? new Uint8Array(tokens) : null;
  const starts = new Int32Array(segmentCount + 1);
  const contextStarts = new Int32Array(segmentCount);
  const contextEnds = new Int32Array(segmentCount);
  const rowStart = new Int32Array(batch.rows).fill(-1); // packed index of row r's position P
  const rowP = new Int32Array(batch.rows);
  let at = 0;
  let seg = 0;
  /** Appends row r's positions [from, to) as one segment whose context is [ctx0, ctx1). */
  const append = (r: number, from: number, to: number, ctx0: number, ctx1: number) => {
    starts[seg] = at;
    contextStarts[seg] = ctx0;
    contextEnds[seg] = ctx1;
    seg++;
    for (let t = from; t < to; t++, at++) {
      ids[at] = rowTokenAt(batch, r, t);
      positions[at] = t;
      if (keyMask) keyMask[at] = isKeyAt(batch, r, t) ? 1 : 0;
    }
  };
  for (const { lo, hi, P } of groups) {
    const scored: number[] = [];
    for (let r = lo; r < hi; r++) if (ends[r] > 0) scored.push(r);
    if (scored.length === 0) continue;
    const prefixStart = at;
    if (P > 0) append(scored[0], 0, P, 0, 0); // the rows share the query: these are its ids
    for (const r of scored) {
      rowStart[r] = at;
      rowP[r] = P;
      append(r, P, ends[r], prefixStart, prefixStart + P);
    }
  }
  starts[segmentCount] = at;
  if (at !== tokens || seg !== segmentCount) throw new Error("packed plan: sizes disagree");

  const hiddenRows = new Int32Array(targets.count);
  for (let i = 0; i < targets.count; i++) {
    const r = targets.row[i];
    const t = targets.position[i];
    if (rowStart[r] < 0 || t - 1 < rowP[r]) throw new Error(`packed plan: row ${r} position ${t} was not packed`);
    hiddenRows[i] = rowStart[r] + (t - 1 - rowP[r]);
  }
  return { tokens, ids, positions, segments: { starts, contextStarts, contextEnds }, keyMask, hiddenRows };
}
