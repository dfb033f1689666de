/**
 * Length-normalised policy scores p_i = Σ_t logp[i, t] / |y_i|^length_penalty,
 * summed in float64 over the scored positions only.
 */
import { UserError } from "../errors.js";
import type { LayoutShape, RrhfBatchLayout } from "./layout.js";
import type { ResolvedLossOptions } from "./options.js";

/**
 * A scored position holds NaN or ±Infinity: the model's forward pass went
 * wrong (typically a diverged run). A UserError so the CLI prints the message;
 * the trainer may catch it by class to stop or skip the step.
 */
export class NonFiniteLogpError extends UserError {
  override name = "NonFiniteLogpError";
  constructor(
    readonly row: number,
    readonly position: number,
    readonly value: number,
  ) {
    super(
      `RRHF loss: tokenLogps[row ${row}, position ${position}] is ${value}; ` +
        "the model produced a non-finite log-probability (diverged training? try a lower learning rate)",
    );
  }
}

/** Per-row quantities of the policy scores; all [rows]. */
export interface PolicyScores {
  /** p_i. */
  policyScores: Float64Array;
  /** Σ_t logp[i, t] over the scored positions. */
  logpSums: Float64Array;
  /** Number of scored positions of each row (response tokens + EOS). */
  scoredTokens: Int32Array;
  /** |y_i|^length_penalty, the divisor of p_i (|y_i| = scored tokens, or T in compat mode). */
  lengthNorm: Float64Array;
}

/**
 * Computes p_i for every row. Throws NonFiniteLogpError on a non-finite
 * scored log-probability, and (default mode) UserError on a row with no
 * scored token: its p would be 0/0. Compat mode keeps the official
 * behaviour there: such a row scores p = 0 and still takes part.
 */
export function computePolicyScores(
  batch: RrhfBatchLayout,
  shape: LayoutShape,
  opts: ResolvedLossOptions,
): PolicyScores {
  const { rows, T } = shape;
  const { tokenLogps, labelMask } = batch;
  const policyScores = new Float64Array(rows);
  const logpSums = new Float64Array(rows);
  const scoredTokens = new Int32Array(rows);
  const lengthNorm = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * T;
    let sum = 0;
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (labelMask[base + t] === 0) continue;
      const v = tokenLogps[base + t];
      if (!Number.isFinite(v)) throw new NonFiniteLogpError(r, t, v);
      sum += v;
      count++;
    }
    if (count === 0 && opts.compat === "paper") {
      throw new UserError(
        `RRHF loss: row ${r} (query ${batch.rowQuery[r]}) has no scored tokens; ` +
          "its response was truncated away and cannot be ranked",
      );
    }
    // The official code divides by the padded length because it overwrote the -100 labels before counting them.
    const length = opts.compat === "official" ? T : count;
    logpSums[r] = sum;
    scoredTokens[r] = count;
    lengthNorm[r] = Math.pow(length, opts.length_penalty);
    if (!(lengthNorm[r] > 0 && Number.isFinite(lengthNorm[r]))) {
      throw new UserError(
        `RRHF loss: length_penalty ${opts.length_penalty} makes ${length}^${opts.length_penalty} = ${lengthNorm[r]} (row ${r}); choose a smaller |length_penalty|`,
      );
    }
    policyScores[r] = sum / lengthNorm[r];
  }
  return { policyScores, logpSums, scoredTokens, lengthNorm };
}
