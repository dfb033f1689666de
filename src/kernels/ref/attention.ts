/**
 * Fused causal self-attention with grouped KV heads and key masks,
 * forward/backward pair. Only the row log-sum-exp is kept for backward
 * (scores are recomputed), so memory is O(B·Hq·T), not O(B·Hq·T·S).
 *
 * Query t sits at absolute position `past + t`; it attends key s when
 * s <= past + t, s < keyLengths[b] (if given) and keyMask[b, s] != 0 (if
 * given). A query with no visible key outputs zeros (lse = -Infinity).
 *
 * Packed ("varlen") mode, with `segments`: one packed sequence (B = 1,
 * S = T, past = 0) holds many sequences back to back; query t of segment i
 * sees its own segment's keys up to itself, plus (optionally) every key of
 * a context range elsewhere in the sequence (its query's shared prefix).
 * The block-diagonal structure means no work on keys a query cannot see.
 */
export interface AttentionDims {
  B: number;
  Hq: number;
  /** Hq must be a multiple of Hkv; query head h reads KV head floor(h / (Hq / Hkv)). */
  Hkv: number;
  T: number;
  /** Keys in the k/v buffers; past + T <= S. */
  S: number;
  D: number;
  past: number;
  scale: number;
  keyLengths: Int32Array | null; // [B]
  keyMask: Uint8Array | null; // [B, S]
  /** Packed mode (see the file comment), or null. */
  segments?: SegmentDims | null;
}

/** Packed sequences, flash-attn "varlen" style (cumulative offsets). */
export interface SegmentDims {
  /** [n + 1] segment i holds positions [starts[i], starts[i + 1]); starts[0] = 0, starts[n] = T. */
  starts: Int32Array;
  /** [T] the segment each position belongs to (derived from `starts`). */
  segmentOf: Int32Array;
  /** [n] and [n]: keys [contextStarts[i], contextEnds[i]) every query of segment i sees in full; null = none. */
  contextStarts: Int32Array | null;
  contextEnds: Int32Array | null;
}

/**
 * The keys query t of batch b may see, as two ranges [r[0], r[1]) and
 * [r[2], r[3]) (the first is a packed segment's context, empty otherwise).
 * Exported for the WASM backend, which resolves the same ranges on the host.
 */
export function keyRanges(d: AttentionDims, b: number, t: number, r: Int32Array): void {
  const seg = d.segments;
  if (seg) {
    const i = seg.segmentOf[t];
    r[0] = seg.contextStarts ? seg.contextStarts[i] : 0;
    r[1] = seg.contextEnds ? seg.contextEnds[i] : 0;
    r[2] = seg.starts[i];
    r[3] = t + 1;
    return;
  }
  let end = d.past + t + 1;
  if (d.keyLengths && d.keyLengths[b] < end) end = d.keyLengths[b];
  r[0] = 0;
  r[1] = 0;
  r[2] = 0;
  r[3] = end;
}

export function attentionForward(
  out: Float32Array, // [B, Hq, T, D]
  lse: Float32Array, // [B, Hq, T] cache for backward
  q: Float32Array, // [B, Hq, T, D]
  k: Float32Array, // [B, Hkv, S, D]
  v: Float32Array, // [B, Hkv, S, D]
  d: AttentionDims,
): void {
  const { B, Hq, Hkv, T, S, D, scale, keyMask } = d;
  const group = Hq / Hkv;
  const scores = new Float64Array(S);
  const acc = new Float64Array(D);
  const ranges = new Int32Array(4);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvBase = (b * Hkv + Math.floor(h / group)) * S * D;
      for (let t = 0; t < T; t++) {
        const row = (b * Hq + h) * T + t;
        const qo = row * D;
        keyRanges(d, b, t, ranges);
        let max = -Infinity;
        for (let part = 0; part < 4; part += 2) {
          for (let s = ranges[part]; s < ranges[part + 1]; s++) {
            if (keyMask && keyMask[b * S + s] === 0) continue;
            const ko = kvBase + s * D;
            let dot = 0;
            for (let i = 0; i < D; i++) dot += q[qo + i] * k[ko + i];
            scores[s] = dot * scale;
            if (scores[s] > max) max = scores[s];
          }
        }
        acc.fill(0);
        if (max === -Infinity) {
          lse[row] = -Infinity;
          for (let i = 0; i < D; i++) out[qo + i] = 0;
          continue;
        }
        let sum = 0;
        for (let part = 0; part < 4; part += 2) {
          for (let s = ranges[part]; s < ranges[part + 1]; s++) {
            if (keyMask && keyMask[b * S + s] === 0) continue;
            const p = Math.exp(scores[s] - max);
            sum += p;
            const vo = kvBase + s * D;
            for (let i = 0; i < D; i++) acc[i] += p * v[vo + i];
          }
        }
        for (let i = 0; i < D; i++) out[qo + i] = acc[i] / sum;
        lse[row] = max + Math.log(sum);
      }
    }
  }
}

/** Backward: ACCUMULATES into dq, dk, dv (any may be null when not needed). */
export function attentionBackward(
  dq: Float32Array | null, // [B, Hq, T, D]
  dk: Float32Array | null, // [B, Hkv, S, D]
  dv: Float32Array | null, // [B, Hkv, S, D]
  dout: Float32Array, // [B, Hq, T, D]
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array, // forward output
  lse: Float32Array, // [B, Hq, T]
  d: AttentionDims,
): void {
  const { B, Hq, Hkv, T, S, D, scale, keyMask } = d;
  const group = Hq / Hkv;
  const ranges = new Int32Array(4);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvBase = (b * Hkv + Math.floor(h / group)) * S * D;
      for (let t = 0; t < T; t++) {
        const row = (b * Hq + h) * T + t;
        if (lse[row] === -Infinity) continue;
        const qo = row * D;
        keyRanges(d, b, t, ranges);
        // sum_s p_s * (dout . v_s) equals dout . out: the softmax Jacobian's shared term.
        let dOutDotOut = 0;
        for (let i = 0; i < D; i++) dOutDotOut += dout[qo + i] * out[qo + i];
        for (let part = 0; part < 4; part += 2) {
          for (let s = ranges[part]; s < ranges[part + 1]; s++) {
            if (keyMask && keyMask[b * S + s] === 0) continue;
            const ko = kvBase + s * D;
            let dot = 0;
            let dp = 0;
            for (let i = 0; i < D; i++) {
              dot += q[qo + i] * k[ko + i];
              dp += dout[qo + i] * v[ko + i];
            }
            const p = Math.exp(dot * scale - lse[row]);
            const ds = p * (dp - dOutDotOut) * scale;
            for (let i = 0; i < D; i++) {
              if (dq) dq[qo + i] += ds * k[ko + i];
              if (dk) dk[ko + i] += ds * q[qo + i];
              if (dv) dv[ko + i] += p * dout[qo + i];
            }
          }
        }
      }
    }
  }
}
