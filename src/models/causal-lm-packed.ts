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
import type { KeyMasking, TokenBatch } from "./causal-lm.js";
import { lastScored, planSharedPrefix } from "./causal-lm-prefix.js";

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
  /** [Ntot] key mask when the attention mask has holes or labels run past it; else null. */
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

/** One past the last position row r attends with (its real length; with holes, its last unmasked token). */
function realLength(batch: TokenBatch, masking: KeyMasking, r: number): number {
  if (masking.lengths) return masking.lengths[r];
  const T = batch.seqLen;
  let n = T;
  while (n > 0 && batch.attention_mask[r * T + n - 1] === 0) n--;
  return n;
}

/**
 * Packs the rows that have scored labels. `targets` are the scored flat
 * positions r * T + t, row-major (as the pass collects them).
 *
 * Row r contributes positions [P, E_r) with E_r = max(real length, last
 * scored label): the hidden state at t - 1 scores the label at t, so
 * nothing past E_r is needed, and nothing before it is padding.
 */
export function planPacked(batch: TokenBatch, masking: KeyMasking, targets: readonly number[], sharePrefix: boolean): PackedPlan {
  const T = batch.seqLen;
  const groups: PackGroup[] = sharePrefix
    ? planSharedPrefix(batch, masking).map(({ lo, hi, P }) => ({ lo, hi, P }))
    : Array.from({ length: batch.rows }, (_, r) => ({ lo: r, hi: r + 1, P: 0 }));

  // Sizes first, so every buffer is allocated once.
  const ends = new Int32Array(batch.rows);
  let tokens = 0;
  let segmentCount = 0;
  let needMask = masking.mask !== null;
  for (const { lo, hi, P } of groups) {
    let any = false;
    for (let r = lo; r < hi; r++) {
      const last = lastScored(batch, r);
      if (last < 0) continue;
      const len = realLength(batch, masking, r);
      ends[r] = Math.max(len, last);
      if (ends[r] > len) needMask = true; // labels past the mask: those positions exist but are not keys
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
      ids[at] = batch.input_ids[r * T + t];
      positions[at] = t;
      if (keyMask) keyMask[at] = t < T && batch.attention_mask[r * T + t] !== 0 ? 1 : 0;
    }
  };
  for (const { lo, hi, P } of groups) {
    const scored: number[] = [];
    for (let r = lo; r < hi; r++) if (ends[r] > 0) scored.push(r);
    if (scored.length === 0) continue;
    const prefixStart = at;
    if (P > 0) append(scored[0], 0, P, 0, 0); // the rows agree on these ids and mask values
    for (const r of scored) {
      rowStart[r] = at;
      rowP[r] = P;
      append(r, P, ends[r], prefixStart, prefixStart + P);
    }
  }
  starts[segmentCount] = at;
  if (at !== tokens || seg !== segmentCount) throw new Error("packed plan: sizes disagree");

  const hiddenRows = new Int32Array(targets.length);
  targets.forEach((flat, i) => {
    const r = Math.floor(flat / T);
    const t = flat % T;
    if (rowStart[r] < 0 || t - 1 < rowP[r]) throw new Error(`packed plan: row ${r} position ${t} was not packed`);
    hiddenRows[i] = rowStart[r] + (t - 1 - rowP[r]);
  });
  return { tokens, ids, positions, segments: { starts, contextStarts, contextEnds }, keyMask, hiddenRows };
}
