/**
 * Optimizer and gradient-clipping kernels, the reference (specification)
 * versions: plain loops in double precision, each value rounded to float32
 * when stored. The native addon has the same loops in C (SIMD); tests compare
 * the two (tests/kernels/optim-kernels.test.ts).
 */

/** The per-step constants of one AdamW update (see train/optim/adamw.ts for the formula). */
export interface AdamWStep {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** sqrt(1 - beta2^t). */
  bc2Sqrt: number;
  /** 1 - lr * weight_decay, or exactly 1 for tensors that are not decayed. */
  decay: number;
}

/** One AdamW update of elements [start, end) of params, with moments m and v, in place. */
export function adamwUpdateRef(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  start: number,
  end: number,
  h: AdamWStep,
): void {
  const { beta1: b1, beta2: b2, eps, stepSize, bc2Sqrt, decay } = h;
  for (let i = start; i < end; i++) {
    const g = grads[i];
    if (decay !== 1) params[i] *= decay;
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
  }
}

/** Sum of x[i]^2, accumulated in double precision. */
export function sumSquaresRef(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return sum;
}

/** x[i] *= coef in place. */
export function scaleInPlaceRef(x: Float32Array, coef: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= coef;
}
