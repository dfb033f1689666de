/**
 * Adafactor as Hugging Face's Trainer runs it for `--optim adafactor`:
 * transformers' Adafactor with scale_parameter=False, relative_step=False,
 * warmup_init=False, beta1=None (no first moment), lr from the schedule,
 * eps=(1e-30, 1e-3), clip_threshold=1.0, decay_rate=-0.8.
 *
 * At step t, for each tensor with gradient g:
 *   beta2t = 1 - t^decay_rate
 *   q = g^2 + eps1
 *   tensors with >= 2 dims ([..., R, C]), factored second moment:
 *     row = beta2t * row + (1 - beta2t) * mean over C of q        shape [..., R]
 *     col = beta2t * col + (1 - beta2t) * mean over R of q        shape [..., C]
 *     u = g / sqrt(row / mean(row over R)) / sqrt(col)
 *   other tensors: v = beta2t * v + (1 - beta2t) * q;  u = g / sqrt(v)
 *   u /= max(1, rms(u) / clip_threshold);  u *= lr
 *   p -= lr * weight_decay * p   (2-D+ tensors only, see `decaysWeight`);  p -= u
 * With scale_parameter off, eps2 (1e-3) never enters the update.
 *
 * A factored tensor's step runs as four passes, the three big ones backend kernels (native or WASM SIMD, threaded)
 * that compute exactly the reference loops of kernels/ref/optim.ts: the row and column sums of q (each sum in its
 * own fixed order), the small state updates and factors here, the sum of squares of u (fixed blocks, so rms(u) does
 * not depend on the thread count), and the update itself, recomputing u rather than storing it: no scratch the size
 * of a tensor.
 *
 * @example
 * const opt = new Adafactor(segments, { weight_decay: 0 });
 * opt.step(params, grads, 1e-3);
 */
import type { Backend } from "../../kernels/backend.js";
import {
  adafactorApplyRef,
  adafactorStatsRef,
  adafactorSumSquaresRef,
  blockedSumSquaresRef,
  type FactoredTensor,
} from "../../kernels/ref/optim.js";
import {
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

export interface AdafactorOptions {
  weight_decay?: number;
  /** eps1 of HF's eps pair (added to g^2). */
  eps?: number;
  clip_threshold?: number;
  decay_rate?: number;
  /** A backend whose Adafactor kernels run the factored tensors' passes, default the reference loops. */
  kernels?: AdafactorKernels;
}

export type AdafactorKernels = Partial<Pick<Backend, "adafactorStats" | "adafactorSumSquares" | "adafactorApply">>;

/** Where one tensor's second-moment statistics live in the state arenas. */
interface FactorLayout {
  seg: ParamSegment;
  factored: boolean;
  /** Leading (batch) dims product, rows R, cols C, offset in the arenas; for unfactored: 1, 1, length. */
  shape: FactoredTensor;
  /** Offset into exp_avg_sq_row / exp_avg_sq_col (factored) or exp_avg_sq (unfactored). */
  rowOffset: number;
  colOffset: number;
  sqOffset: number;
}

export class Adafactor implements Optimizer {
  readonly name = "adafactor" as const;
  readonly weightDecay: number;
  readonly eps: number;
  readonly clipThreshold: number;
  readonly decayRate: number;
  private readonly layout: FactorLayout[];
  private readonly numel: number;
  private readonly row: Float32Array;
  private readonly col: Float32Array;
  private readonly sq: Float32Array;
  /** Row sums then row factors of one factored tensor (batch * R values), reused across tensors and steps. */
  private readonly rowScratch: Float64Array;
  /** Column sums then column factors (batch * C values). */
  private readonly colScratch: Float64Array;
  /** u of one unfactored (1-D, small) tensor. */
  private readonly plainScratch: Float64Array;
  private readonly kernels: Required<AdafactorKernels>;
  private steps = 0;

  constructor(segments: readonly ParamSegment[], opts: AdafactorOptions = {}) {
    this.numel = segments.reduce((a, s) => a + s.length, 0);
    validateSegments(segments, this.numel);
    this.weightDecay = opts.weight_decay ?? 0;
    this.eps = opts.eps ?? 1e-30;
    this.clipThreshold = opts.clip_threshold ?? 1.0;
    this.decayRate = opts.decay_rate ?? -0.8;
    let rowN = 0;
    let colN = 0;
    let sqN = 0;
    const most = { rows: 0, cols: 0, plain: 0 };
    this.layout = segments.map((seg) => {
      const factored = seg.shape.length >= 2;
      if (!factored) {
        const shape = { offset: seg.offset, batch: 1, rows: 1, cols: seg.length };
        const l: FactorLayout = { seg, factored, shape, rowOffset: 0, colOffset: 0, sqOffset: sqN };
        sqN += seg.length;
        most.plain = Math.max(most.plain, seg.length);
        return l;
      }
      const rows = seg.shape[seg.shape.length - 2];
      const cols = seg.shape[seg.shape.length - 1];
      const batch = rows * cols === 0 ? 0 : seg.length / (rows * cols);
      const l: FactorLayout = {
        seg,
        factored,
        shape: { offset: seg.offset, batch, rows, cols },
        rowOffset: rowN,
        colOffset: colN,
        sqOffset: 0,
      };
      rowN += batch * rows;
      colN += batch * cols;
      most.rows = Math.max(most.rows, batch * rows);
      most.cols = Math.max(most.cols, batch * cols);
      return l;
    });
    this.row = new Float32Array(rowN);
    this.col = new Float32Array(colN);
    this.sq = new Float32Array(sqN);
    this.rowScratch = new Float64Array(most.rows);
    this.colScratch = new Float64Array(most.cols);
    this.plainScratch = new Float64Array(most.plain);
    const k = opts.kernels;
    this.kernels = {
      adafactorStats: k?.adafactorStats?.bind(k) ?? adafactorStatsRef,
      adafactorSumSquares: k?.adafactorSumSquares?.bind(k) ?? adafactorSumSquaresRef,
      adafactorApply: k?.adafactorApply?.bind(k) ?? adafactorApplyRef,
    };
  }

  get stepCount(): number {
    return this.steps;
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    assertLr(lr);
    assertSameLength(params, grads, this.numel);
    const t = this.steps + 1;
    const beta2t = 1 - t ** this.decayRate;
    for (const l of this.layout) {
      if (l.seg.length === 0) continue;
      const decay = decaysWeight(l.seg) ? 1 - lr * this.weightDecay : 1;
      if (l.factored) this.factoredStep(l, params, grads, beta2t, lr, decay);
      else this.plainStep(l, params, grads, beta2t, lr, decay);
    }
    this.steps = t;
  }

  /** lr / max(1, rms(u) / clip_threshold), from the sum of squares of u. */
  private scaleFor(sumSq: number, length: number, lr: number): number {
    const rms = Math.sqrt(sumSq / length);
    return lr / Math.max(1, rms / this.clipThreshold);
  }

  /** Unfactored second moment (1-D tensors, small: plain loops here): u = g / sqrt(v). */
  private plainStep(l: FactorLayout, params: Float32Array, grads: Float32Array, beta2t: number, lr: number, decay: number): void {
    const { offset, length } = l.seg;
    const sq = this.sq;
    const u = this.plainScratch;
    for (let i = 0; i < length; i++) {
      const g = grads[offset + i];
      const j = l.sqOffset + i;
      sq[j] = beta2t * sq[j] + (1 - beta2t) * (g * g + this.eps);
      u[i] = g / Math.sqrt(sq[j]);
    }
    const scale = this.scaleFor(blockedSumSquaresRef(u, length), length, lr);
    for (let i = 0; i < length; i++) {
      if (decay !== 1) params[offset + i] *= decay;
      params[offset + i] -= u[i] * scale;
    }
  }

  /**
   * Factored second moment over the last two dims: the kernels' statistics pass, the row/column state and the
   * factors rFactor = 1 / sqrt(row / mean(row)), cFactor = 1 / sqrt(col) here, then the kernels' rms and update.
   */
  private factoredStep(l: FactorLayout, params: Float32Array, grads: Float32Array, beta2t: number, lr: number, decay: number): void {
    const { batch, rows: R, cols: C } = l.shape;
    const rf = this.rowScratch.subarray(0, batch * R);
    const cf = this.colScratch.subarray(0, batch * C);
    this.kernels.adafactorStats(grads, l.shape, this.eps, rf, cf);
    for (let b = 0; b < batch; b++) {
      let rowAvg = 0;
      for (let r = 0; r < R; r++) {
        const ri = l.rowOffset + b * R + r;
        this.row[ri] = beta2t * this.row[ri] + (1 - beta2t) * (rf[b * R + r] / C);
        rowAvg += this.row[ri];
      }
      rowAvg /= R;
      for (let r = 0; r < R; r++) rf[b * R + r] = 1 / Math.sqrt(this.row[l.rowOffset + b * R + r] / rowAvg);
      for (let c = 0; c < C; c++) {
        const ci = l.colOffset + b * C + c;
        this.col[ci] = beta2t * this.col[ci] + (1 - beta2t) * (cf[b * C + c] / R);
        cf[b * C + c] = 1 / Math.sqrt(this.col[ci]);
      }
    }
    const scale = this.scaleFor(this.kernels.adafactorSumSquares(grads, l.shape, rf, cf), l.seg.length, lr);
    this.kernels.adafactorApply(params, grads, l.shape, rf, cf, decay, scale);
  }

  state(): OptimizerState {
    return {
      step: this.steps,
      exp_avg_sq_row: this.row.slice(),
      exp_avg_sq_col: this.col.slice(),
      exp_avg_sq: this.sq.slice(),
    };
  }

  loadState(state: OptimizerState): void {
    const steps = stateNumber(state, "step", "adafactor");
    const row = stateArray(state, "exp_avg_sq_row", this.row.length, "adafactor");
    const col = stateArray(state, "exp_avg_sq_col", this.col.length, "adafactor");
    const sq = stateArray(state, "exp_avg_sq", this.sq.length, "adafactor");
    this.row.set(row);
    this.col.set(col);
    this.sq.set(sq);
    this.steps = steps;
  }
}
