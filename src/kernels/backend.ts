/**
 * The kernel interface every compute backend implements. The plain
 * TypeScript backend (`kernels/ref`) is the specification; WASM SIMD and
 * native BLAS backends share these signatures and are tested against it.
 *
 * Conventions: row-major float32 buffers; shapes in comments as [rows, cols];
 * `beta = 0` overwrites the output, `beta = 1` accumulates into it (how
 * parameter gradients are summed in backward passes).
 */
import type { AttentionDims } from "./ref/attention.js";
import type { DecodeRunArgs } from "./ref/decode-attention.js";
import type { layernormBackward, layernormForward } from "./ref/layernorm.js";
import type { BlockCopy } from "./ref/memops.js";
import type { AdamWStep, FactoredTensor, SgdStep } from "./ref/optim.js";
import type { rmsnormBackward, rmsnormForward } from "./ref/rmsnorm.js";
import type { ropeBackward, ropeForward } from "./ref/rope.js";

/** Floats in a 2 MiB transparent huge page: buffers at least this large are worth mapping on them and discarding. */
export const HUGE_PAGE_FLOATS = 1 << 19;

/**
 * The kernels a model and the tensor engine run on (matrix products, allocation,
 * and optional fused ops); get one from `getBackend`.
 *
 * @example
 * const be: Backend = getBackend("wasm", { threads: 2 });
 * const model = loadCausalLM("tests/fixtures/models/gpt2-tiny", { backend: be });
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
   * Zeroes `buf` (from `alloc`) and hands its memory to the operating system until it is written again, which
   * maps fresh zero pages. Only where that is cheap (the native backend on Linux with transparent huge pages):
   * the buffer pool discards activations the backward pass is done with and the trainer the gradient arena after
   * each update, so a step's peak holds its activations or its gradients, not both.
   */
  discard?(buf: Float32Array): void;

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

  // Optional fast versions of the hot non-matmul kernels. Each has exactly the
  // signature of its plain TypeScript kernel in kernels/ref (the specification
  // it is tested against); ops call `backend.x?.(...)` and fall back to the ref
  // kernel where a backend lacks one. Backward kernels ACCUMULATE, as in ref.

  /** GELU (tanh form) over n values: see ref/activations.ts. */
  geluForward?(out: Float32Array, inp: Float32Array, n: number): void;
  geluBackward?(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void;
  /** SiLU over n values: see ref/activations.ts. */
  siluForward?(out: Float32Array, inp: Float32Array, n: number): void;
  siluBackward?(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void;
  /** lse[i] = log sum_j exp(x[i, j]) for x [N, C] (max-shifted); reference: `logSumExpRowsRef` in kernels/ref/row-softmax.ts. */
  logSumExpRows?(lse: Float32Array, x: Float32Array, N: number, C: number): void;
  /** In place over x [N, C]: x[i, j] = scale[i] * exp(x[i, j] - lse[i]); reference: `scaledSoftmaxRowsRef` there. */
  scaledSoftmaxRows?(x: Float32Array, lse: Float32Array, scale: Float32Array, N: number, C: number): void;
  /** Fused causal attention: see ref/attention.ts. */
  attentionForward?(out: Float32Array, lse: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, d: AttentionDims): void;
  attentionBackward?(
    dq: Float32Array | null,
    dk: Float32Array | null,
    dv: Float32Array | null,
    dout: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    d: AttentionDims,
  ): void;
  /** One AdamW update of elements [start, end): see adamwUpdateRef in ref/optim.ts. */
  adamwUpdate?(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, start: number, end: number, h: AdamWStep): void;
  /** One SGD update of elements [start, end): see sgdUpdateRef in ref/optim.ts. */
  sgdUpdate?(params: Float32Array, grads: Float32Array, buf: Float32Array, start: number, end: number, h: SgdStep): void;
  /** Adafactor's row and column sums of g^2 + eps of a factored tensor: see adafactorStatsRef in ref/optim.ts. */
  adafactorStats?(grads: Float32Array, t: FactoredTensor, eps: number, rowSums: Float64Array, colSums: Float64Array): void;
  /** Adafactor's blocked sum of squares of its update: see adafactorSumSquaresRef in ref/optim.ts. */
  adafactorSumSquares?(grads: Float32Array, t: FactoredTensor, rFactor: Float64Array, cFactor: Float64Array): number;
  /** Adafactor's parameter update of a factored tensor: see adafactorApplyRef in ref/optim.ts. */
  adafactorApply?(
    params: Float32Array,
    grads: Float32Array,
    t: FactoredTensor,
    rFactor: Float64Array,
    cFactor: Float64Array,
    decay: number,
    scale: number,
  ): void;
  /** Sum of squares in double precision: see sumSquaresRef in ref/optim.ts. */
  sumSquares?(x: Float32Array): number;
  /** x *= coef in place: see scaleInPlaceRef in ref/optim.ts. */
  scaleInPlace?(x: Float32Array, coef: number): void;
  /** Layer norm and RMS norm: exactly the signatures of ref/layernorm.ts and ref/rmsnorm.ts (backward ACCUMULATES). */
  layernormForward?: typeof layernormForward;
  layernormBackward?: typeof layernormBackward;
  rmsnormForward?: typeof rmsnormForward;
  rmsnormBackward?: typeof rmsnormBackward;
  /** Rotary position embedding: exactly the signatures of ref/rope.ts (backward ACCUMULATES into dinp). */
  ropeForward?: typeof ropeForward;
  ropeBackward?: typeof ropeBackward;
  /** Strided block copy or accumulation (head split/merge, residual adds, bias rows): see copyBlocksRef in ref/memops.ts. */
  copyBlocks?(dst: Float32Array, src: Float32Array, b: BlockCopy): void;
  /** sum[c] += column sums of x [M, N] (bias gradients): see colSumsAccRef in ref/memops.ts. */
  colSumsAcc?(sum: Float32Array, x: Float32Array, M: number, N: number): void;
  /** out = a * b over n values of same-shape tensors: see productForwardRef in ref/product.ts. */
  productForward?(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void;
  /** da += dout * b, db += dout * a (ACCUMULATES; either may be null): see productBackwardRef there. */
  productBackward?(da: Float32Array | null, db: Float32Array | null, dout: Float32Array, a: Float32Array, b: Float32Array, n: number): void;
  /** One decode step's attention for one prompt's sequences, fused: see decodeAttentionRef in ref/decode-attention.ts. */
  decodeAttention?(a: DecodeRunArgs): void;
}
