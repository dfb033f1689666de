/**
 * Pointwise activations, forward/backward pairs. Backward ACCUMULATES into dinp.
 */

const GELU_K = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (GPT-2's `gelu_new`). */
export function geluForward(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
  }
}

export function geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const t = Math.tanh(GELU_K * (x + 0.044715 * x * x * x));
    const dt = GELU_K * (1 + 3 * 0.044715 * x * x) * (1 - t * t);
    dinp[i] += dout[i] * (0.5 * (1 + t) + 0.5 * x * dt);
  }
}

/** SiLU (swish): x * sigmoid(x), Llama's MLP activation. */
export function siluForward(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = x / (1 + Math.exp(-x));
  }
}

export function siluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const s = 1 / (1 + Math.exp(-x));
    dinp[i] += dout[i] * s * (1 + x * (1 - s));
  }
}
