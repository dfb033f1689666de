/**
 * AdamW with torch.optim.AdamW semantics (amsgrad off), per element, at step t:
 *   p *= 1 - lr * weight_decay           (decoupled decay, before the update; 2-D+ tensors only)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * Note eps is added after dividing sqrt(v) by the bias correction, as torch does.
 *
 * @example
 * const opt = new AdamW(segments, { weight_decay: 0.01 });
 * opt.step(params, grads, schedule.lrAt(step));
 */
import type { Backend } from "../../kernels/backend.js";
import { adamwUpdateRef } from "../../kernels/ref/optim.js";
import {
  allocState,
  assertLr,
  assertSameLength,
  decaysWeight,
  type Optimizer,
  type OptimizerState,
  type ParamSegment,
  stateArray,
  stateNumber,
  validateSegments,
} from "./types.js";

export interface AdamWOptions {
  adam_beta1?: number;
  adam_beta2?: number;
  adam_epsilon?: number;
  weight_decay?: number;
  /**
   * A backend whose `adamwUpdate` kernel (native or WASM SIMD) runs the update, default the reference loop; with
   * its `alloc`, the moments live in the backend's memory (the WASM kernels work in place there).
   */
  kernels?: Partial<Pick<Backend, "adamwUpdate" | "alloc">>;
}

export class AdamW implements Optimizer {
  readonly name = "adamw" as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly segments: readonly ParamSegment[];
  private readonly numel: number;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly update: NonNullable<Backend["adamwUpdate"]>;
  private steps = 0;

  constructor(segments: readonly ParamSegment[], opts: AdamWOptions = {}) {
    this.numel = segments.reduce((a, s) => a + s.length, 0);
    validateSegments(segments, this.numel);
    this.segments = segments;
    this.beta1 = opts.adam_beta1 ?? 0.9;
    this.beta2 = opts.adam_beta2 ?? 0.999;
    this.eps = opts.adam_epsilon ?? 1e-8;
    this.weightDecay = opts.weight_decay ?? 0;
    this.m = allocState(this.numel, opts.kernels);
    this.v = allocState(this.numel, opts.kernels);
    this.update = opts.kernels?.adamwUpdate?.bind(opts.kernels) ?? adamwUpdateRef;
  }

  get stepCount(): number {
    return this.steps;
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    assertLr(lr);
    assertSameLength(params, grads, this.numel);
    const t = this.steps + 1;
    const { beta1, beta2, eps, m, v } = this;
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    for (const seg of this.segments) {
      const decay = decaysWeight(seg) ? 1 - lr * this.weightDecay : 1;
      this.update(params, grads, m, v, seg.offset, seg.offset + seg.length, { beta1, beta2, eps, stepSize, bc2Sqrt, decay });
    }
    this.steps = t;
  }

  state(): OptimizerState {
    return { step: this.steps, exp_avg: this.m.slice(), exp_avg_sq: this.v.slice() };
  }

  loadState(state: OptimizerState): void {
    const steps = stateNumber(state, "step", "adamw");
    const m = stateArray(state, "exp_avg", this.numel, "adamw");
    const v = stateArray(state, "exp_avg_sq", this.numel, "adamw");
    this.m.set(m);
    this.v.set(v);
    this.steps = steps;
  }
}
