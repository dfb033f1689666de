/**
 * SGD with torch.optim.SGD semantics (dampening 0, no Nesterov):
 *   d = g + weight_decay * p            (L2 added to the gradient, not decoupled)
 *   buf = d on the first step, else momentum * buf + d   (only when momentum != 0)
 *   p -= lr * buf (or lr * d without momentum)
 * Weight decay skips 1-D tensors (see `decaysWeight`).
 *
 * @example
 * const opt = new Sgd(segments, { momentum: 0, weight_decay: 0 });
 * opt.step(params, grads, 0.1);
 */
import type { Backend } from "../../kernels/backend.js";
import { sgdUpdateRef } from "../../kernels/ref/optim.js";
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

export interface SgdOptions {
  momentum?: number;
  weight_decay?: number;
  /**
   * A backend whose `sgdUpdate` kernel (native or WASM SIMD, threaded) runs the update, default the reference
   * loop; with its `alloc`, the momentum buffer lives in the backend's memory (the WASM kernels work in place there).
   */
  kernels?: Partial<Pick<Backend, "sgdUpdate" | "alloc">>;
}

export class Sgd implements Optimizer {
  readonly name = "sgd" as const;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly segments: readonly ParamSegment[];
  private readonly numel: number;
  private readonly buf: Float32Array;
  private readonly update: NonNullable<Backend["sgdUpdate"]>;
  private steps = 0;

  constructor(segments: readonly ParamSegment[], opts: SgdOptions = {}) {
    this.numel = segments.reduce((a, s) => a + s.length, 0);
    validateSegments(segments, this.numel);
    this.segments = segments;
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weight_decay ?? 0;
    // The momentum buffer costs a full arena; allocate it only when used.
    this.buf = this.momentum !== 0 ? allocState(this.numel, opts.kernels) : new Float32Array(0);
    this.update = opts.kernels?.sgdUpdate?.bind(opts.kernels) ?? sgdUpdateRef;
  }

  get stepCount(): number {
    return this.steps;
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    assertLr(lr);
    assertSameLength(params, grads, this.numel);
    const first = this.steps === 0;
    for (const seg of this.segments) {
      const weightDecay = decaysWeight(seg) ? this.weightDecay : 0;
      this.update(params, grads, this.buf, seg.offset, seg.offset + seg.length, { lr, weightDecay, momentum: this.momentum, first });
    }
    this.steps++;
  }

  state(): OptimizerState {
    const s: OptimizerState = { step: this.steps };
    if (this.momentum !== 0) s.momentum_buffer = this.buf.slice();
    return s;
  }

  loadState(state: OptimizerState): void {
    const steps = stateNumber(state, "step", "sgd");
    if (this.momentum !== 0) this.buf.set(stateArray(state, "momentum_buffer", this.numel, "sgd"));
    this.steps = steps;
  }
}
