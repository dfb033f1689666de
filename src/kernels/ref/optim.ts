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

/** The per-step constants of one SGD update (see train/optim/sgd.ts for the formula). */
export interface SgdStep {
  lr: number;
  /** L2 coefficient added to the gradient, or 0 for tensors that are not decayed. */
  weightDecay: number;
  /** 0: no momentum buffer (it may then be empty). */
  momentum: number;
  /** The first step stores d itself in the buffer (torch's rule). */
  first: boolean;
}

/** One SGD update of elements [start, end) of params, with momentum buffer buf (unused when momentum is 0), in place. */
export function sgdUpdateRef(params: Float32Array, grads: Float32Array, buf: Float32Array, start: number, end: number, h: SgdStep): void {
  const { lr, weightDecay: wd, momentum: mu, first } = h;
  for (let i = start; i < end; i++) {
    let d = grads[i] + wd * params[i];
    if (mu !== 0) {
      // torch keeps the buffer in float32: the stored (rounded) value is the one applied.
      buf[i] = first ? d : mu * buf[i] + d;
      d = buf[i];
    }
    params[i] -= lr * d;
  }
}

/**
 * A factored Adafactor tensor: `batch` matrices of rows x cols values, from `offset` of the parameter and gradient
 * arenas. Element k (0 <= k < batch * rows * cols) sits in global row gr = floor(k / cols), of matrix
 * floor(gr / rows), column k mod cols; its row factor is rFactor[gr], its column factor cFactor[matrix * cols + column].
 */
export interface FactoredTensor {
  offset: number;
  batch: number;
  rows: number;
  cols: number;
}

/**
 * Adafactor's sums of squares add fixed blocks of this many elements, each summed in 8 interleaved lanes
 * (element k into lane k mod 8) and the lanes then added in order, the blocks in order: the same total for any
 * thread count and any SIMD width that divides 8, and a split the native and WASM kernels can thread.
 */
export const ADAFACTOR_SUM_BLOCK = 1 << 16;

/**
 * Adafactor's statistics of g^2 + eps (in double): rowSums[gr] sums global row gr over its columns in column
 * order; colSums[m * cols + c] sums column c of matrix m over its rows in row order.
 */
export function adafactorStatsRef(grads: Float32Array, t: FactoredTensor, eps: number, rowSums: Float64Array, colSums: Float64Array): void {
  const { offset, batch, rows: R, cols: C } = t;
  colSums.fill(0, 0, batch * C);
  for (let gr = 0; gr < batch * R; gr++) {
    const row = offset + gr * C;
    const colBase = Math.floor(gr / R) * C;
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const g = grads[row + c];
      const q = g * g + eps;
      sum += q;
      colSums[colBase + c] += q;
    }
    rowSums[gr] = sum;
  }
}

/** Adds the 8 lanes in order (the block sum of ADAFACTOR_SUM_BLOCK's rule) and zeroes them. */
function flushLanes(acc: Float64Array): number {
  let s = acc[0];
  for (let j = 1; j < 8; j++) s += acc[j];
  acc.fill(0);
  return s;
}

/** Sum over the tensor of u^2, u = rFactor * cFactor * g (in double), in ADAFACTOR_SUM_BLOCK's fixed blocks. */
export function adafactorSumSquaresRef(grads: Float32Array, t: FactoredTensor, rFactor: Float64Array, cFactor: Float64Array): number {
  const { offset, batch, rows: R, cols: C } = t;
  const acc = new Float64Array(8);
  let total = 0;
  for (let gr = 0; gr < batch * R; gr++) {
    const rf = rFactor[gr];
    const colBase = Math.floor(gr / R) * C;
    for (let c = 0; c < C; c++) {
      const k = gr * C + c;
      if (k !== 0 && k % ADAFACTOR_SUM_BLOCK === 0) total += flushLanes(acc);
      const u = rf * cFactor[colBase + c] * grads[offset + k];
      acc[k & 7] += u * u;
    }
  }
  return batch * R * C === 0 ? 0 : total + flushLanes(acc);
}

/** The same blocked sum of squares over u[0, n) (Adafactor's unfactored tensors, whose u is computed in TS). */
export function blockedSumSquaresRef(u: Float64Array, n: number): number {
  const acc = new Float64Array(8);
  let total = 0;
  for (let k = 0; k < n; k++) {
    if (k !== 0 && k % ADAFACTOR_SUM_BLOCK === 0) total += flushLanes(acc);
    acc[k & 7] += u[k] * u[k];
  }
  return n === 0 ? 0 : total + flushLanes(acc);
}

/** Adafactor's update of a factored tensor: p *= decay (unless decay is 1), then p -= u * scale, u recomputed as above. */
export function adafactorApplyRef(
  params: Float32Array,
  grads: Float32Array,
  t: FactoredTensor,
  rFactor: Float64Array,
  cFactor: Float64Array,
  decay: number,
  scale: number,
): void {
  const { offset, batch, rows: R, cols: C } = t;
  for (let gr = 0; gr < batch * R; gr++) {
    const rf = rFactor[gr];
    const colBase = Math.floor(gr / R) * C;
    const row = offset + gr * C;
    for (let c = 0; c < C; c++) {
      const u = rf * cFactor[colBase + c] * grads[row + c];
      if (decay !== 1) params[row + c] *= decay;
      params[row + c] -= u * scale;
    }
  }
}
