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
 * @example
 * const opt = new Adafactor(segments, { weight_decay: 0 });
 * opt.step(params, grads, 1e-3);
 */
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
}

/** Where one tensor's second-moment statistics live in the state arenas. */
interface FactorLayout {
  seg: ParamSegment;
  factored: boolean;
  /** Leading (batch) dims product, rows R, cols C; for unfactored: 1, 1, length. */
  batch: number;
  rows: number;
  cols: number;
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
  /** Scratch for one tensor's update, reused across tensors and steps. */
  private readonly scratch: Float64Array;
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
    let maxLen = 0;
    this.layout = segments.map((seg) => {
      maxLen = Math.max(maxLen, seg.length);
      const factored = seg.shape.length >= 2;
      if (!factored) {
        const l: FactorLayout = { seg, factored, batch: 1, rows: 1, cols: seg.length, rowOffset: 0, colOffset: 0, sqOffset: sqN };
        sqN += seg.length;
        return l;
      }
      const rows = seg.shape[seg.shape.length - 2];
      const cols = seg.shape[seg.shape.length - 1];
      const batch = rows * cols === 0 ? 0 : seg.length / (rows * cols);
      const l: FactorLayout = { seg, factored, batch, rows, cols, rowOffset: rowN, colOffset: colN, sqOffset: 0 };
      rowN += batch * rows;
      colN += batch * cols;
      return l;
    });
    this.row = new Float32Array(rowN);
    this.col = new Float32Array(colN);
    this.sq = new Float32Array(sqN);
    this.scratch = new Float64Array(maxLen);
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
      if (l.factored) this.factoredUpdate(l, grads, beta2t);
      else this.plainUpdate(l, grads, beta2t);
      const u = this.scratch;
      const { offset, length } = l.seg;
      let sumSq = 0;
      for (let i = 0; i < length; i++) sumSq += u[i] * u[i];
      const rms = Math.sqrt(sumSq / length);
      const scale = lr / Math.max(1, rms / this.clipThreshold);
      const decay = decaysWeight(l.seg) ? 1 - lr * this.weightDecay : 1;
      for (let i = 0; i < length; i++) {
        if (decay !== 1) params[offset + i] *= decay;
        params[offset + i] -= u[i] * scale;
      }
    }
    this.steps = t;
  }

  /** Unfactored second moment (1-D tensors): fills scratch with g / sqrt(v). */
  private plainUpdate(l: FactorLayout, grads: Float32Array, beta2t: number): void {
    const { offset, length } = l.seg;
    const sq = this.sq;
    for (let i = 0; i < length; i++) {
      const g = grads[offset + i];
      const j = l.sqOffset + i;
      sq[j] = beta2t * sq[j] + (1 - beta2t) * (g * g + this.eps);
      this.scratch[i] = g / Math.sqrt(sq[j]);
    }
  }

  /** Factored second moment over the last two dims: fills scratch with the update direction. */
  private factoredUpdate(l: FactorLayout, grads: Float32Array, beta2t: number): void {
    const { batch, rows: R, cols: C } = l;
    const base = l.seg.offset;
    const colMean = new Float64Array(C);
    for (let b = 0; b < batch; b++) {
      const block = base + b * R * C;
      colMean.fill(0);
      for (let r = 0; r < R; r++) {
        let rowSum = 0;
        for (let c = 0; c < C; c++) {
          const g = grads[block + r * C + c];
          const q = g * g + this.eps;
          rowSum += q;
          colMean[c] += q;
        }
        const ri = l.rowOffset + b * R + r;
        this.row[ri] = beta2t * this.row[ri] + (1 - beta2t) * (rowSum / C);
      }
      for (let c = 0; c < C; c++) {
        const ci = l.colOffset + b * C + c;
        this.col[ci] = beta2t * this.col[ci] + (1 - beta2t) * (colMean[c] / R);
      }
      let rowAvg = 0;
      for (let r = 0; r < R; r++) rowAvg += this.row[l.rowOffset + b * R + r];
      rowAvg /= R;
      for (let r = 0; r < R; r++) {
        const rFactor = 1 / Math.sqrt(this.row[l.rowOffset + b * R + r] / rowAvg);
        for (let c = 0; c < C; c++) {
          const cFactor = 1 / Math.sqrt(this.col[l.colOffset + b * C + c]);
          const k = b * R * C + r * C + c;
          this.scratch[k] = rFactor * cFactor * grads[base + k];
        }
      }
    }
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
