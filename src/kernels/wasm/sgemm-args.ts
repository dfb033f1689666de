/**
 * Checks sgemm arguments before a kernel touches raw memory: a wrong length
 * here would otherwise read or write past a buffer (WASM: other tensors in the
 * same memory; native: a crash). Shape mistakes are bugs in the caller, so
 * they raise RangeError rather than UserError.
 */
export function checkSgemmArgs(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): void {
  for (const [name, v] of [
    ["M", M],
    ["N", N],
    ["K", K],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new RangeError(`sgemm: ${name} must be a non-negative int32, got ${v}`);
    }
  }
  if (A.length < M * K) throw new RangeError(`sgemm: A has ${A.length} values, needs M*K = ${M * K}`);
  if (B.length < K * N) throw new RangeError(`sgemm: B has ${B.length} values, needs K*N = ${K * N}`);
  if (C.length < M * N) throw new RangeError(`sgemm: C has ${C.length} values, needs M*N = ${M * N}`);
}
