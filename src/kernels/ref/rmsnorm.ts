/**
 * RMS norm over the last dimension (Llama): out = inp / rms(inp) * weight.
 * Backward ACCUMULATES into dinp and dweight.
 */
export function rmsnormForward(
  out: Float32Array, // [N, C]
  rstd: Float32Array, // [N] cache for backward
  inp: Float32Array, // [N, C]
  weight: Float32Array, // [C]
  N: number,
  C: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[o + c] * inp[o + c];
    const s = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = inp[o + c] * s * weight[c];
    rstd[n] = s;
  }
}

export function rmsnormBackward(
  dinp: Float32Array | null, // [N, C]
  dweight: Float32Array | null, // [C]
  dout: Float32Array, // [N, C]
  inp: Float32Array, // [N, C]
  weight: Float32Array, // [C]
  rstd: Float32Array, // [N]
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const s = rstd[n];
    // d rstd / d inp couples the row through mean(dnorm * inp).
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[o + c] * weight[c] * inp[o + c];
    const k = (s * s * dot) / C;
    for (let c = 0; c < C; c++) {
      const g = dout[o + c];
      if (dweight) dweight[c] += g * inp[o + c] * s;
      if (dinp) dinp[o + c] += s * (g * weight[c] - inp[o + c] * k);
    }
  }
}
