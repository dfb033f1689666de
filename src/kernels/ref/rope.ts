/**
 * Rotary position embedding in the "rotate half" layout HF Llama uses:
 * dimension i pairs with i + D/2, both rotated by angle pos * invFreq[i].
 * Backward rotates the gradient by the opposite angle and ACCUMULATES.
 */
export interface RopeDims {
  B: number;
  H: number;
  T: number;
  D: number;
}

/** Position of token t in batch b: positions[b*T + t] if given, else past + t. */
function position(positions: Int32Array | null, past: number, b: number, t: number, T: number): number {
  return positions ? positions[b * T + t] : past + t;
}

export function ropeForward(
  out: Float32Array, // [B, H, T, D]
  inp: Float32Array, // [B, H, T, D]
  cos: Float32Array, // [maxPos, D/2]
  sin: Float32Array, // [maxPos, D/2]
  positions: Int32Array | null, // [B, T]
  past: number,
  d: RopeDims,
): void {
  const { B, H, T, D } = d;
  const half = D / 2;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const o = ((b * H + h) * T + t) * D;
        const p = position(positions, past, b, t, T) * half;
        for (let i = 0; i < half; i++) {
          const x1 = inp[o + i];
          const x2 = inp[o + half + i];
          const c = cos[p + i];
          const s = sin[p + i];
          out[o + i] = x1 * c - x2 * s;
          out[o + half + i] = x2 * c + x1 * s;
        }
      }
    }
  }
}

export function ropeBackward(
  dinp: Float32Array, // [B, H, T, D]
  dout: Float32Array, // [B, H, T, D]
  cos: Float32Array,
  sin: Float32Array,
  positions: Int32Array | null,
  past: number,
  d: RopeDims,
): void {
  const { B, H, T, D } = d;
  const half = D / 2;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const o = ((b * H + h) * T + t) * D;
        const p = position(positions, past, b, t, T) * half;
        for (let i = 0; i < half; i++) {
          const g1 = dout[o + i];
          const g2 = dout[o + half + i];
          const c = cos[p + i];
          const s = sin[p + i];
          dinp[o + i] += g1 * c + g2 * s;
          dinp[o + half + i] += g2 * c - g1 * s;
        }
      }
    }
  }
}
