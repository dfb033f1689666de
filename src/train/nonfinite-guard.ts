/**
 * Catches training steps whose loss or gradient norm is NaN/inf: such a step
 * is reported and skipped (no optimizer update), and after `maxConsecutive`
 * of them in a row training stops with a UserError, since the run has
 * diverged and more steps would not bring it back.
 *
 * @example
 * const guard = new NonFiniteGuard(5);
 * if (!guard.check(step, { loss, grad_norm: norm })) { logger.warn(guard.lastReason); continue; }
 */
import { UserError } from "../errors.js";

export class NonFiniteGuard {
  readonly maxConsecutive: number;
  /** Non-finite steps in a row, ending at the last checked step. */
  consecutive = 0;
  /** All skipped steps of the run (restored from trainer_state.json on resume). */
  total: number;
  /** Human-readable description of the last skipped step. */
  lastReason = "";

  constructor(maxConsecutive = 5, skippedSoFar = 0) {
    if (!Number.isInteger(maxConsecutive) || maxConsecutive < 1) {
      throw new UserError(`max consecutive non-finite steps must be an integer >= 1, got ${maxConsecutive}`);
    }
    this.maxConsecutive = maxConsecutive;
    this.total = skippedSoFar;
  }

  /**
   * True when every value is finite (apply the step). Otherwise counts the
   * step as skipped and returns false, or throws once `maxConsecutive`
   * non-finite steps have happened in a row.
   */
  check(step: number, values: Record<string, number>): boolean {
    const bad = Object.entries(values).filter(([, v]) => !Number.isFinite(v));
    if (bad.length === 0) {
      this.consecutive = 0;
      return true;
    }
    this.consecutive++;
    this.total++;
    const what = bad.map(([k, v]) => `${k}=${v}`).join(", ");
    this.lastReason = `step ${step}: non-finite ${what}; step skipped (${this.consecutive} in a row, ${this.total} in total)`;
    if (this.consecutive >= this.maxConsecutive) {
      throw new UserError(
        `training stopped: ${this.consecutive} steps in a row had a non-finite loss or gradient (last: step ${step}, ${what}). ` +
          `Try a lower --learning-rate, a --max-grad-norm, or check the data; resume from the last checkpoint with --resume-from-checkpoint latest.`,
      );
    }
    return false;
  }
}
