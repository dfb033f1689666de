/**
 * Learning-rate schedules with Hugging Face `get_scheduler` semantics, as a
 * pure function of the step: `lr = learning_rate * factor(step)`, where
 * `step` is the number of optimizer updates already done (0 for the first
 * update). Being stateless, a resumed run needs nothing but the step.
 *
 * HF formulas (transformers/optimization.py), w = warmup steps, N = total steps:
 * - warmup (all types): factor = step / max(1, w) while step < w
 * - linear: max(0, (N - step) / max(1, N - w))
 * - cosine: max(0, 0.5 * (1 + cos(pi * progress))), progress = (step - w) / max(1, N - w)
 * - constant_with_warmup: 1
 * - constant: 1.
 *
 * Choice: HF's plain `constant` silently ignores warmup. We do not: with
 * `constant` and a non-zero warmup we warm up (= HF `constant_with_warmup`),
 * because a user who asks for warmup expects it. With zero warmup both agree.
 *
 * @example
 * const s = new LrSchedule({ lr_scheduler_type: "cosine", learning_rate: 2e-5, warmupSteps: 3, totalSteps: 100 });
 * s.lrAt(0);  // 0 (first update of the warmup)
 * s.lrAt(3);  // 2e-5
 */
import { UserError } from "../errors.js";

export const LR_SCHEDULER_TYPES = ["constant", "constant_with_warmup", "linear", "cosine"] as const;
export type LrSchedulerType = (typeof LR_SCHEDULER_TYPES)[number];

export interface LrScheduleOptions {
  lr_scheduler_type: LrSchedulerType;
  learning_rate: number;
  warmupSteps: number;
  totalSteps: number;
}

/** What a checkpoint stores about the schedule (scheduler.json); `step` is the next update's step. */
export interface LrScheduleState extends LrScheduleOptions {
  step: number;
}

/**
 * Warmup steps as HF computes them: `warmup_steps` when > 0, else
 * ceil(warmup_ratio * total_steps).
 */
export function resolveWarmupSteps(totalSteps: number, warmupSteps: number, warmupRatio: number): number {
  if (warmupSteps > 0) return warmupSteps;
  return Math.ceil(warmupRatio * totalSteps);
}

export class LrSchedule {
  readonly options: LrScheduleOptions;

  constructor(options: LrScheduleOptions) {
    const { lr_scheduler_type, learning_rate, warmupSteps, totalSteps } = options;
    if (!LR_SCHEDULER_TYPES.includes(lr_scheduler_type)) {
      throw new UserError(`unknown lr_scheduler_type "${lr_scheduler_type}" (expected one of ${LR_SCHEDULER_TYPES.join(", ")})`);
    }
    if (!(learning_rate >= 0) || !Number.isFinite(learning_rate)) throw new UserError(`learning_rate must be >= 0, got ${learning_rate}`);
    if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new UserError(`warmup steps must be an integer >= 0, got ${warmupSteps}`);
    if (!Number.isInteger(totalSteps) || totalSteps < 1)
      throw new UserError(`total training steps must be an integer >= 1, got ${totalSteps}`);
    this.options = { ...options };
  }

  /** The schedule of a run from its TrainConfig fields and its total steps (see `trainingPlan`). */
  static fromTrainingArgs(
    args: { lr_scheduler_type: LrSchedulerType; learning_rate: number; warmup_steps: number; warmup_ratio: number },
    totalSteps: number,
  ): LrSchedule {
    return new LrSchedule({
      lr_scheduler_type: args.lr_scheduler_type,
      learning_rate: args.learning_rate,
      warmupSteps: resolveWarmupSteps(totalSteps, args.warmup_steps, args.warmup_ratio),
      totalSteps,
    });
  }

  /** Multiplier of `learning_rate` for the update after `step` completed updates. */
  factorAt(step: number): number {
    const { lr_scheduler_type: type, warmupSteps: w, totalSteps: n } = this.options;
    if (type === "constant" && w === 0) return 1;
    if (step < w) return step / Math.max(1, w);
    switch (type) {
      case "constant":
      case "constant_with_warmup":
        return 1;
      case "linear":
        return Math.max(0, (n - step) / Math.max(1, n - w));
      case "cosine": {
        const progress = (step - w) / Math.max(1, n - w);
        return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
      }
    }
  }

  /** Learning rate for the update after `step` completed updates. */
  lrAt(step: number): number {
    return this.options.learning_rate * this.factorAt(step);
  }

  state(step: number): LrScheduleState {
    return { ...this.options, step };
  }
}
