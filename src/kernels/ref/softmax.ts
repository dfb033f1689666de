/**
 * Softmax and log-softmax over the last dimension, forward/backward pairs.
 * Forward subtracts the row max (stable); backward ACCUMULATES into dinp and
 * needs only the forward output.
 */
export function softmaxForward(out: Float32Array, inp: Float32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (inp[o + c] > max) max = inp[o + c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(inp[o + c] - max);
      out[o + c] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let c = 0; c < C; c++) out[o + c] *= inv;
  }
}

export function softmaxBackward(
  dinp: Float32Array, // [N, C]
  dout: Float32Array, // [N, C]
  out: Float32Array, // [N, C] forward output
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[o + c] * out[o + c];
    for (let c = 0; c < C; c++) dinp[o + c] += out[o + c] * (dout[o + c] - dot);
  }
}

export function logSoftmaxForward(out: Float32Array, inp: Float32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (inp[o + c] > max) max = inp[o + c];
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(inp[o + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < C; c++) out[o + c] = inp[o + c] - lse;
  }
}

export function logSoftmaxBackward(
  dinp: Float32Array, // [N, C]
  dout: Float32Array, // [N, C]
  out: Float32Array, // [N, C] forward output (log-probs)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += dout[o + c];
    for (let c = 0; c < C; c++) dinp[o + c] += dout[o + c] - Math.exp(out[o + c]) * sum;
  }
}
