/**
 * The elementwise product of two same-shape tensors and its backward, the
 * reference (specification) loops; `mul` in autodiff/ops/elementwise.ts runs a
 * backend's `productForward` / `productBackward` instead where it has them
 * (native C, WASM SIMD; both equal these bit for bit).
 */

/** out[i] = a[i] * b[i] for i < n. */
export function productForwardRef(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
}

/**
 * da[i] += dout[i] * b[i], then db[i] += dout[i] * a[i] (either may be null; they may be one buffer, for x * x).
 * Each sum is taken in double and rounded once to float32.
 */
export function productBackwardRef(
  da: Float32Array | null,
  db: Float32Array | null,
  dout: Float32Array,
  a: Float32Array,
  b: Float32Array,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const g = dout[i];
    if (da) da[i] += g * b[i];
    if (db) db[i] += g * a[i];
  }
}
