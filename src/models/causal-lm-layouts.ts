/**
 * The four layouts of the forward pass, each turning a query-grouped batch
 * into the hidden states that predict its targets ([targets, C], in target
 * order), by calling a model's body (embeddings → blocks → final norm):
 * - plain: the padded [rows, T] view, every row on its own;
 * - shared-prefix: each query's prefix once, its continuations reading its keys/values;
 * - packed / packed-shared-prefix: the real tokens in one sequence, no padding.
 * Only "plain" builds the padded rows; the others plan from the batch's offsets.
 */
import type { Graph } from "../autodiff/graph.js";
import type { AttentionSegments } from "../autodiff/ops/attention.js";
import { gatherRows } from "../autodiff/ops/gather.js";
import { reshape } from "../autodiff/ops/layout.js";
import { UserError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { isKeyAt, paddedRows, rowTokenAt, type QueryBatch } from "../tokenize/batch.js";
import type { ForwardOptions } from "./causal-lm.js";
import { concatRows } from "./causal-lm-ops.js";
import { planPacked } from "./causal-lm-packed.js";
import { planSharedPrefix } from "./causal-lm-prefix.js";
import type { RowKeys, ScoredTargets } from "./causal-lm-targets.js";

export interface LayerKV {
  k: Tensor;
  v: Tensor;
}

/** How the tokens of one body call see keys. */
export interface AttentionContext {
  /** Absolute position of the first token; keys [0, past) come from `prefix`. */
  past: number;
  /** Per layer, cached keys/values [1 or B, Hkv, past, D] (a shared prefix, or per-row caches), or null. */
  prefix: readonly LayerKV[] | null;
  /** [B] valid keys per row, counted from absolute position 0; null with `keyMask`. */
  keyLengths: Int32Array | null;
  /** [B, past + T] key mask when the attention mask has holes; else null. */
  keyMask: Uint8Array | null;
  /**
   * [B * T] absolute position of each token, when they are not past + t
   * (the packed layouts: B = 1 and many rows back to back). Default null.
   */
  positions?: Int32Array | null;
  /** Packed rows: attention is block-diagonal causal over these segments (B = 1, past 0, no prefix). Default null. */
  segments?: AttentionSegments | null;
  /** Gradient checkpointing of this call's blocks (see {@link BlockCheckpointing}); null/absent = off. */
  checkpoint?: BlockCheckpointing | null;
}

/**
 * Each block of a body call runs as one checkpoint op (keeping only its
 * inputs: the residual stream and, in a continuation, the prefix keys/values
 * of its layer). `keepKV`: the caller reads `BodyOutput.kv` (a shared
 * prefix that continuations attend to), so each block also hands out its
 * keys/values; without it `kv` comes back empty.
 */
export interface BlockCheckpointing {
  keepKV: boolean;
}

/** What one transformer block produces: the residual stream and its layer's keys/values. */
export interface BlockOutput {
  h: Tensor;
  kv: LayerKV;
}

/** One transformer block of a model: layer `layer` over the residual stream h [B, T, C]. */
export type BlockFn = (g: Graph, layer: number, h: Tensor, ctx: AttentionContext) => BlockOutput;

export interface BodyOutput {
  /** [B, T, C] after the final norm. */
  hidden: Tensor;
  /** Per layer, the keys/values the tokens produced (what a cache keeps). */
  kv: LayerKV[];
}

/** A model's body over ids [B * T] (see `DecoderLM.body`). */
export type BodyCall = (g: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext) => BodyOutput;

/** What every layout reads: the batch, its targets and key extents, the model's body and width. */
export interface LayoutInput {
  batch: QueryBatch;
  targets: ScoredTargets;
  keys: RowKeys;
  body: BodyCall;
  /** Hidden size C. */
  hiddenSize: number;
  /** Gradient checkpointing of the body calls. */
  checkpointing: boolean;
}

/** The hidden states [targets, C] that predict the batch's targets, in the layout asked for. */
export function layoutHidden(g: Graph, input: LayoutInput, layout: NonNullable<ForwardOptions["layout"]>): Tensor {
  switch (layout) {
    case "plain":
      return plainHidden(g, input);
    case "shared-prefix":
      return sharedPrefixHidden(g, input);
    case "packed":
      return packedHidden(g, input, false);
    case "packed-shared-prefix":
      return packedHidden(g, input, true);
    default:
      throw new UserError(`forward: unknown layout ${JSON.stringify(layout)}`);
  }
}

/**
 * The real tokens of all rows with targets in one sequence (no padding): one
 * body call over [1, Ntot], attention block-diagonal per row (and per query
 * prefix when shared); hidden states at the target positions - 1.
 */
function packedHidden(g: Graph, input: LayoutInput, sharePrefix: boolean): Tensor {
  const plan = planPacked(input.batch, input.keys, input.targets, sharePrefix);
  const out = input.body(g, plan.ids, 1, plan.tokens, {
    past: 0,
    prefix: null,
    keyLengths: null,
    keyMask: plan.keyMask,
    positions: plan.positions,
    segments: plan.segments,
    checkpoint: input.checkpointing ? { keepKV: false } : null,
  });
  return gatherRows(g, reshape(g, out.hidden, [plan.tokens, input.hiddenSize]), plan.hiddenRows);
}

/** Every row on its own over the padded view; hidden states at the target positions - 1. */
function plainHidden(g: Graph, input: LayoutInput): Tensor {
  const { batch, targets, keys } = input;
  const padded = paddedRows(batch);
  const { rows, seqLen: T } = padded;
  const out = input.body(g, padded.input_ids, rows, T, {
    past: 0,
    prefix: null,
    keyLengths: keys.holes ? null : keys.ends,
    keyMask: keys.holes ? padded.attention_mask : null,
    checkpoint: input.checkpointing ? { keepKV: false } : null,
  });
  const flat = reshape(g, out.hidden, [rows * T, input.hiddenSize]);
  return gatherRows(
    g,
    flat,
    Int32Array.from(targets.row, (r, i) => r * T + targets.position[i] - 1),
  );
}

/** [B, S] key mask of rows lo.. over positions from..from+S (the padded attention_mask, read from the batch). */
function keyMaskOf(batch: QueryBatch, rows: readonly number[], from: number, S: number): Uint8Array {
  const mask = new Uint8Array(rows.length * S);
  rows.forEach((r, b) => {
    for (let t = 0; t < S; t++) mask[b * S + t] = isKeyAt(batch, r, from + t) ? 1 : 0;
  });
  return mask;
}

/** Each query's prefix once, then its k continuations reading the prefix's keys/values. */
function sharedPrefixHidden(g: Graph, input: LayoutInput): Tensor {
  const { batch, targets, keys } = input;
  const C = input.hiddenSize;
  const parts: Tensor[] = [];
  let next = 0; // targets are row-major, groups ascending: consume them in order
  for (const { lo, hi, P, Tc } of planSharedPrefix(batch, keys, targets)) {
    const B = hi - lo;
    const S = P + Tc;
    const rows = Array.from({ length: B }, (_, b) => lo + b);
    let prefix: LayerKV[] | null = null;
    if (P > 0) {
      prefix = input.body(
        g,
        Int32Array.from({ length: P }, (_, t) => rowTokenAt(batch, lo, t)),
        1,
        P,
        {
          past: 0,
          prefix: null,
          keyLengths: keys.holes ? null : Int32Array.of(P),
          keyMask: keys.holes ? keyMaskOf(batch, [lo], 0, P) : null,
          // The continuations attend to the prefix's keys/values: checkpointed blocks must hand them out.
          checkpoint: input.checkpointing ? { keepKV: true } : null,
        },
      ).kv;
    }
    const ids = new Int32Array(B * Tc);
    rows.forEach((r, b) => {
      for (let t = 0; t < Tc; t++) ids[b * Tc + t] = rowTokenAt(batch, r, P + t);
    });
    const out = input.body(g, ids, B, Tc, {
      past: P,
      prefix,
      keyLengths: keys.holes ? null : keys.ends.slice(lo, hi),
      keyMask: keys.holes ? keyMaskOf(batch, rows, 0, S) : null,
      checkpoint: input.checkpointing ? { keepKV: false } : null,
    });
    const sel: number[] = [];
    while (next < targets.count && targets.row[next] < hi) {
      sel.push((targets.row[next] - lo) * Tc + (targets.position[next] - 1 - P));
      next++;
    }
    if (sel.length > 0) parts.push(gatherRows(g, reshape(g, out.hidden, [B * Tc, C]), Int32Array.from(sel)));
  }
  if (next !== targets.count) throw new Error("shared-prefix plan missed scored positions");
  return parts.length === 1 ? parts[0] : concatRows(g, parts);
}
