/**
 * Gradient-norm clipping with torch.nn.utils.clip_grad_norm_ semantics over
 * the whole gradient arena: total L2 norm; coefficient
 * max_norm / (norm + 1e-6), applied only when below 1.
 *
 * @example
 * const norm = clipGradNorm(grads, 1.0);   // norm before clipping, for logging
 * if (!Number.isFinite(norm)) skipStep();  // grads are left untouched then
 */

import type { Backend } from "../../kernels/backend.js";
import { scaleInPlaceRef, sumSquaresRef } from "../../kernels/ref/optim.js";

/** The backend kernels clipping can use (native SIMD); the reference loops otherwise. */
export type ClipKernels = Pick<Backend, "sumSquares" | "scaleInPlace">;

/** L2 norm of the whole arena, accumulated in double precision. */
export function gradNorm(grads: Float32Array, kernels?: ClipKernels): number {
  return Math.sqrt(kernels?.sumSquares ? kernels.sumSquares(grads) : sumSquaresRef(grads));
}

/**
 * Scales `grads` in place so their total norm is at most `maxNorm` and
 * returns the norm before clipping. `maxNorm <= 0` disables clipping (as HF's
 * `max_grad_norm=0`) but still returns the norm. A non-finite norm (NaN/inf
 * gradients) is returned as is and the gradients are not touched: the
 * caller reports and skips such a step instead.
 */
export function clipGradNorm(grads: Float32Array, maxNorm: number, kernels?: ClipKernels): number {
  const norm = gradNorm(grads, kernels);
  if (!Number.isFinite(norm) || !(maxNorm > 0)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    if (kernels?.scaleInPlace) kernels.scaleInPlace(grads, coef);
    else scaleInPlaceRef(grads, coef);
  }
  return norm;
}
