/** Row kernels of the fused LM head (log-sum-exp and the softmax gradient over the vocabulary). */

/**
 * Reference kernel (the specification the backends' `logSumExpRows` is tested
 * against): lse[i] = log sum_j exp(x[i, j]) for x [N, C], max-shifted, summed in f64.
 */
export function logSumExpRowsRef(lse: Float32Array, x: Float32Array, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const o = i * C;
    let max = -Infinity;
    for (let j = 0; j < C; j++) if (x[o + j] > max) max = x[o + j];
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(x[o + j] - max);
    lse[i] = max + Math.log(s);
  }
}

/** Reference kernel for `scaledSoftmaxRows`: in place over x [N, C], x[i, j] = scale[i] * exp(x[i, j] - lse[i]). */
export function scaledSoftmaxRowsRef(x: Float32Array, lse: Float32Array, scale: Float32Array, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const o = i * C;
    for (let j = 0; j < C; j++) x[o + j] = scale[i] * Math.exp(x[o + j] - lse[i]);
  }
}
