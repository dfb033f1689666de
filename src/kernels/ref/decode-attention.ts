/**
 * The attention of one decode step for the sequences of one prompt (one
 * layer), one query row at a time: the specification of the backends' fused
 * `decodeAttention` kernel. Each sequence's new key/value is first written
 * into its own cache slot; then every query head attends over the prompt's
 * keys followed by the sequence's own (the new one included).
 *
 * @example
 * decodeAttentionRef({ out, q, k, v, promptK, promptV, ownK, ownV, lengths, s0: 0, s1: 4, Hq: 12, Hkv: 12, D: 64, M: 64, P: 193, scale: 0.125 });
 */
export interface DecodeRunArgs {
  /** [B, Hq, D]: written for sequences s0..s1-1. */
  out: Float32Array;
  /** [B, Hq, D] queries of the step. */
  q: Float32Array;
  /** [B, Hkv, D] the step's new keys and values. */
  k: Float32Array;
  v: Float32Array;
  /** [Hkv, P, D] the prompt's cached keys and values. */
  promptK: Float32Array;
  promptV: Float32Array;
  /** [sequences, Hkv, M, D] every sequence's own keys and values (this layer's). */
  ownK: Float32Array;
  ownV: Float32Array;
  /** [sequences] the slot each sequence's new key/value goes to (tokens fed before this step); each < M. */
  lengths: Int32Array;
  /** The sequences [s0, s1) of this prompt. */
  s0: number;
  s1: number;
  Hq: number;
  Hkv: number;
  D: number;
  /** Own-cache capacity per sequence (maxNewTokens). */
  M: number;
  /** Prompt length. */
  P: number;
  scale: number;
}

/** Writes sequence b's new key/value (head h) into its own cache slot. */
function append(a: DecodeRunArgs, b: number, h: number): void {
  const { D, M, Hkv } = a;
  const src = (b * Hkv + h) * D;
  const dst = ((b * Hkv + h) * M + a.lengths[b]) * D;
  for (let i = 0; i < D; i++) {
    a.ownK[dst + i] = a.k[src + i];
    a.ownV[dst + i] = a.v[src + i];
  }
}

/** Key (or value) t of sequence b, head h: the prompt's for t < P, else the sequence's own slot t - P. As [array, offset]. */
function cached(a: DecodeRunArgs, values: boolean, b: number, h: number, t: number): [Float32Array, number] {
  if (t < a.P) return [values ? a.promptV : a.promptK, (h * a.P + t) * a.D];
  return [values ? a.ownV : a.ownK, ((b * a.Hkv + h) * a.M + t - a.P) * a.D];
}

export function decodeAttentionRef(a: DecodeRunArgs): void {
  const { Hq, Hkv, D, M, P, scale } = a;
  const G = Hq / Hkv;
  for (let b = a.s0; b < a.s1; b++) {
    if (!(a.lengths[b] < M)) throw new RangeError(`decodeAttention: sequence ${b} is full (maxNewTokens ${M})`);
    for (let h = 0; h < Hkv; h++) append(a, b, h);
  }
  const weights = new Float64Array(P + M);
  for (let b = a.s0; b < a.s1; b++) {
    const keys = P + a.lengths[b] + 1;
    for (let hq = 0; hq < Hq; hq++) {
      const h = Math.floor(hq / G);
      const qo = (b * Hq + hq) * D;
      let max = -Infinity;
      for (let t = 0; t < keys; t++) {
        const [K, ko] = cached(a, false, b, h, t);
        let dot = 0;
        for (let i = 0; i < D; i++) dot += a.q[qo + i] * K[ko + i];
        weights[t] = dot * scale;
        if (weights[t] > max) max = weights[t];
      }
      let sum = 0;
      for (let t = 0; t < keys; t++) {
        weights[t] = Math.exp(weights[t] - max);
        sum += weights[t];
      }
      const acc = new Float64Array(D);
      for (let t = 0; t < keys; t++) {
        const [V, vo] = cached(a, true, b, h, t);
        for (let i = 0; i < D; i++) acc[i] += weights[t] * V[vo + i];
      }
      for (let i = 0; i < D; i++) a.out[qo + i] = acc[i] / sum;
    }
  }
}
