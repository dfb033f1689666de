/**
 * The kernel interface every compute backend implements. The plain
 * TypeScript backend (`kernels/ref`) is the specification; WASM SIMD and
 * native BLAS backends share these signatures and are tested against it.
 *
 * Conventions: row-major float32 buffers; shapes in comments as [rows, cols];
 * `beta = 0` overwrites the output, `beta = 1` accumulates into it (how
 * parameter gradients are summed in backward passes).
 */
export interface Backend {
  /** "ref", "wasm" or "native". */
  readonly name: string;

  /**
   * Allocates `n` float32 values, zero-filled, in memory this backend reads
   * without copying (for WASM: inside its shared linear memory).
   */
  alloc(n: number): Float32Array;

  /** Returns a buffer from `alloc` for reuse. Using it afterwards is a bug. */
  release(buf: Float32Array): void;

  /**
   * C = alpha * op(A) @ op(B) + beta * C, where op(X) = X or X^T.
   * A: [M, K] (or [K, M] when transA), B: [K, N] (or [N, K] when transB), C: [M, N].
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
  ): void;
}
