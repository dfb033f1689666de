/**
 * Layer norm over the last dimension, forward/backward pair (llm.c order).
 * Backward ACCUMULATES into dinp, dweight, dbias.
 */
export function layernormForward(
  out: Float32Array, // [N, C]
  mean: Float32Array, // [N] cache for backward
  rstd: Float32Array, // [N] cache for backward
  inp: Float32Array, // [N, C]
  weight: Float32Array, // [C]
  bias: Float32Array | null, // [C]
  N: number,
  C: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[o + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = inp[o + c] - m;
      v += d * d;
    }
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c] - m) * s;
      out[o + c] = norm * weight[c] + (bias ? bias[c] : 0);
    }
    mean[n] = m;
    rstd[n] = s;
  }
}

export function layernormBackward(
  dinp: Float32Array | null, // [N, C]
  dweight: Float32Array | null, // [C]
  dbias: Float32Array | null, // [C]
  dout: Float32Array, // [N, C]
  inp: Float32Array, // [N, C]
  weight: Float32Array, // [C]
  mean: Float32Array, // [N]
  rstd: Float32Array, // [N]
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const m = mean[n];
    const s = rstd[n];
    // Two row means the input gradient needs: of dnorm and of dnorm * norm.
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c] - m) * s;
      const dnorm = weight[c] * dout[o + c];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c] - m) * s;
      const g = dout[o + c];
      if (dbias) dbias[c] += g;
      if (dweight) dweight[c] += norm * g;
      if (dinp) dinp[o + c] += s * (weight[c] * g - dnormMean - norm * dnormNormMean);
    }
  }
}
