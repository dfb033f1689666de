/**
 * Embedding lookup (rows of a table) and its scatter-add backward.
 * Ids are assumed checked by the caller. Backward ACCUMULATES into dweight.
 */
export function embeddingForward(
  out: Float32Array, // [N, C]
  ids: Int32Array, // [N]
  weight: Float32Array, // [V, C]
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    out.set(weight.subarray(ids[n] * C, ids[n] * C + C), n * C);
  }
}

export function embeddingBackward(
  dweight: Float32Array, // [V, C]
  dout: Float32Array, // [N, C]
  ids: Int32Array, // [N]
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const w = ids[n] * C;
    const o = n * C;
    for (let c = 0; c < C; c++) dweight[w + c] += dout[o + c];
  }
}
