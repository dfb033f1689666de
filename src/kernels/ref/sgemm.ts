/**
 * Reference sgemm: the algorithmic specification other backends are tested
 * against. Loop order i-k-j keeps the inner loop contiguous for the common
 * non-transposed case; correctness first, speed second.
 */
export function sgemmRef(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array, // [M, K] or [K, M] if transA
  B: Float32Array, // [K, N] or [N, K] if transB
  beta: number,
  C: Float32Array, // [M, N]
): void {
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let k = 0; k < K; k++) {
      const a = transA ? A[k * M + i] : A[i * K + k];
      if (transB) {
        for (let j = 0; j < N; j++) row[j] += a * B[j * K + k];
      } else {
        const off = k * N;
        for (let j = 0; j < N; j++) row[j] += a * B[off + j];
      }
    }
    const cOff = i * N;
    for (let j = 0; j < N; j++) {
      const prev = beta === 0 ? 0 : beta * C[cOff + j];
      C[cOff + j] = alpha * row[j] + prev;
    }
  }
}
