/**
 * Memory-bound helpers of the autodiff ops, the reference (specification)
 * versions: a strided block copy/accumulate and column sums. The native addon
 * has the same loops in C (native/src/memops.h, vector loops over threads);
 * ops reach whichever the backend has through `copyBlocks` / `colSumsAcc` below.
 * Values are computed identically either way (no reordered sums).
 */
import type { Backend } from "../backend.js";

/**
 * For i < n0, j < n1, c < cols:
 *   dst[dOff + i*dS0 + j*dS1 + c]  =  (or += with `accumulate`)  src[sOff + i*sS0 + j*sS1 + c].
 * dst and src must not overlap; a zero source stride repeats the source (broadcast).
 */
export interface BlockCopy {
  dOff: number;
  sOff: number;
  n0: number;
  dS0: number;
  sS0: number;
  n1: number;
  dS1: number;
  sS1: number;
  cols: number;
  accumulate: boolean;
}

/** Reference loop of `copyBlocks` (see BlockCopy). */
export function copyBlocksRef(dst: Float32Array, src: Float32Array, b: BlockCopy): void {
  const { n0, n1, cols, dS0, sS0, dS1, sS1, accumulate } = b;
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      const d = b.dOff + i * dS0 + j * dS1;
      const s = b.sOff + i * sS0 + j * sS1;
      if (accumulate) for (let c = 0; c < cols; c++) dst[d + c] += src[s + c];
      // A plain copy of a long run is a memcpy through set(); the view costs more than a short loop.
      else if (cols >= 32) dst.set(src.subarray(s, s + cols), d);
      else for (let c = 0; c < cols; c++) dst[d + c] = src[s + c];
    }
  }
}

/** Reference loop of `colSumsAcc`: sum[c] += x[0, c] + x[1, c] + ... for x [M, N], in row order, each add rounded to float32. */
export function colSumsAccRef(sum: Float32Array, x: Float32Array, M: number, N: number): void {
  for (let r = 0; r < M; r++) {
    const o = r * N;
    for (let c = 0; c < N; c++) sum[c] += x[o + c];
  }
}

/** A block copy on the backend's kernel when it has one, else the reference loop. */
export function copyBlocks(be: Pick<Backend, "copyBlocks">, dst: Float32Array, src: Float32Array, b: BlockCopy): void {
  if (be.copyBlocks) be.copyBlocks(dst, src, b);
  else copyBlocksRef(dst, src, b);
}

/** Column sums on the backend's kernel when it has one, else the reference loop. */
export function colSumsAcc(be: Pick<Backend, "colSumsAcc">, sum: Float32Array, x: Float32Array, M: number, N: number): void {
  if (be.colSumsAcc) be.colSumsAcc(sum, x, M, N);
  else colSumsAccRef(sum, x, M, N);
}

/** A contiguous run of n values: dst[dOff..] = (or +=) src[sOff..], as a BlockCopy. */
export function run(dOff: number, sOff: number, n: number, accumulate: boolean): BlockCopy {
  return { dOff, sOff, n0: 1, dS0: 0, sS0: 0, n1: 1, dS1: 0, sS1: 0, cols: n, accumulate };
}

/** Rows of `cols` values: dst row i at dOff + i*dStride, src row i at sOff + i*sStride (sStride 0: one row repeated). */
export function rows(
  dOff: number,
  dStride: number,
  sOff: number,
  sStride: number,
  n: number,
  cols: number,
  accumulate: boolean,
): BlockCopy {
  return { dOff, sOff, n0: n, dS0: dStride, sS0: sStride, n1: 1, dS1: 0, sS1: 0, cols, accumulate };
}
