/**
 * Fused causal attention with grouped KV heads, key padding, a past offset
 * (for attending over a KV cache) and packed "varlen" segments (many
 * sequences concatenated without padding, block-diagonal causal). A custom
 * op: its test shows it equals the composed version (matmul -> mask ->
 * softmax -> matmul).
 */
import { UserError } from "../../errors.js";
import { attentionBackward, attentionForward, type AttentionDims, type SegmentDims } from "../../kernels/ref/attention.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

export interface AttentionOptions {
  /**
   * Keys already in the cache before this call's queries: query t sits at
   * absolute position pastLength + t. Default 0. Requires pastLength + T <= S
   * (keys beyond pastLength + T, e.g. unused cache slots, are never read).
   */
  pastLength?: number;
  /** Valid keys per batch row (right padding): key s is masked when s >= keyLengths[b]. Length B. */
  keyLengths?: Int32Array | readonly number[];
  /** General key mask [B, S], 1 = attend, 0 = masked (e.g. left padding). ANDed with the rest. */
  keyMask?: Uint8Array;
  /** Score scale; default 1 / sqrt(D). */
  scale?: number;
  /**
   * Packed sequences (flash-attn "varlen"): q, k, v hold B = 1 row whose T
   * positions are several sequences back to back; each attends causally
   * within itself only. Needs S == T and no pastLength / keyLengths
   * (`keyMask` [1, T] still applies).
   */
  segments?: AttentionSegments;
}

/**
 * Where each packed sequence lies, as cumulative offsets (cu_seqlens).
 *
 * @example
 * // three sequences of lengths 3, 1 and 2; the third also reads keys [0, 2) (a shared prefix)
 * { starts: Int32Array.of(0, 3, 4, 6), contextStarts: Int32Array.of(0, 0, 0), contextEnds: Int32Array.of(0, 0, 2) }
 */
export interface AttentionSegments {
  /** [n + 1] non-decreasing, starts[0] = 0, starts[n] = T: segment i is positions [starts[i], starts[i + 1]). */
  starts: Int32Array;
  /**
   * [n] each, optional: segment i also sees every key in [contextStarts[i],
   * contextEnds[i]) (its query prefix, packed as an earlier segment), as if
   * those keys came before its own. The range must end at or before starts[i].
   */
  contextStarts?: Int32Array;
  contextEnds?: Int32Array;
}

/** Checks `segments` against a [1, ·, T, ·] packed call and derives the per-position segment index. */
function segmentDims(seg: AttentionSegments, B: number, T: number, S: number, opts: AttentionOptions): SegmentDims {
  if (B !== 1 || S !== T) throw new UserError(`causalAttention: segments need one packed row with S == T, got B ${B}, T ${T}, S ${S}`);
  if ((opts.pastLength ?? 0) !== 0 || opts.keyLengths) throw new UserError("causalAttention: segments exclude pastLength and keyLengths");
  const { starts } = seg;
  const n = starts.length - 1;
  if (n < 0 || starts[0] !== 0 || starts[n] !== T) throw new UserError(`causalAttention: segment starts must run from 0 to T = ${T}`);
  const segmentOf = new Int32Array(T);
  for (let i = 0; i < n; i++) {
    if (starts[i + 1] < starts[i]) throw new UserError(`causalAttention: segment starts decrease at ${i}`);
    segmentOf.fill(i, starts[i], starts[i + 1]);
  }
  const cs = seg.contextStarts ?? null;
  const ce = seg.contextEnds ?? null;
  if ((cs === null) !== (ce === null)) throw new UserError("causalAttention: give both contextStarts and contextEnds, or neither");
  if (cs && ce) {
    if (cs.length !== n || ce.length !== n) throw new UserError(`causalAttention: context ranges need ${n} entries`);
    for (let i = 0; i < n; i++) {
      if (cs[i] < 0 || ce[i] < cs[i] || ce[i] > starts[i]) {
        throw new UserError(`causalAttention: context [${cs[i]}, ${ce[i]}) of segment ${i} must lie before its start ${starts[i]}`);
      }
    }
  }
  return { starts, segmentOf, contextStarts: cs, contextEnds: ce };
}

/**
 * softmax(q k^T * scale + causal/padding mask) v, per head.
 *
 * Shapes: q [B, Hq, T, D]; k, v [B, Hkv, S, D] with Hq % Hkv == 0 (query head
 * h uses KV head floor(h / (Hq / Hkv))). Out: [B, Hq, T, D].
 * A query that sees no key (all masked) outputs zeros.
 *
 * @example
 * // prefill: S == T; decoding one token with a cache of 7: T = 1, S >= 8, pastLength 7
 * causalAttention(g, q, kCache, vCache, { pastLength: 7, keyLengths: [8, 5] })
 * // packed: sequences of lengths 3 and 2 in one row of T = 5, no padding computed
 * causalAttention(g, q, k, v, { segments: { starts: Int32Array.of(0, 3, 5) } })
 */
export function causalAttention(g: Graph, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new UserError(`causalAttention: q, k, v must be 4-D, got ${q.describe()}, ${k.describe()}, ${v.describe()}`);
  }
  const [B, Hq, T, D] = q.shape;
  const [Bk, Hkv, S, Dk] = k.shape;
  if (Bk !== B || Dk !== D || v.shape.some((d, i) => d !== k.shape[i])) {
    throw new UserError(`causalAttention: shapes disagree: q ${q.describe()}, k ${k.describe()}, v ${v.describe()}`);
  }
  if (Hkv === 0 || Hq % Hkv !== 0) throw new UserError(`causalAttention: ${Hq} query heads is not a multiple of ${Hkv} KV heads`);
  const past = opts.pastLength ?? 0;
  if (!Number.isInteger(past) || past < 0 || past + T > S) {
    throw new UserError(`causalAttention: pastLength ${past} + ${T} queries exceeds ${S} keys`);
  }
  let keyLengths: Int32Array | null = null;
  if (opts.keyLengths) {
    if (opts.keyLengths.length !== B)
      throw new UserError(`causalAttention: keyLengths has ${opts.keyLengths.length} entries, batch is ${B}`);
    keyLengths = Int32Array.from(opts.keyLengths);
  }
  const keyMask = opts.keyMask ?? null;
  if (keyMask && keyMask.length !== B * S)
    throw new UserError(`causalAttention: keyMask has ${keyMask.length} entries, needs B*S = ${B * S}`);
  const segments = opts.segments ? segmentDims(opts.segments, B, T, S, opts) : null;
  const dims: AttentionDims = { B, Hq, Hkv, T, S, D, past, scale: opts.scale ?? 1 / Math.sqrt(D), keyLengths, keyMask, segments };
  const out = g.output(q.shape, [q, k, v]);
  const lse = g.scratch(B * Hq * T);
  // The backend's kernels when it has them (same signatures), else the reference ones.
  const be = g.backend;
  const forward = be.attentionForward?.bind(be) ?? attentionForward;
  const backward = be.attentionBackward?.bind(be) ?? attentionBackward;
  forward(out.data, lse, q.data, k.data, v.data, dims);
  g.record("causalAttention", out, [q, k, v], (dout) => {
    backward(
      q.requiresGrad ? g.gradOf(q) : null,
      k.requiresGrad ? g.gradOf(k) : null,
      v.requiresGrad ? g.gradOf(v) : null,
      dout,
      q.data,
      k.data,
      v.data,
      out.data,
      lse,
      dims,
    );
  });
  return out;
}
