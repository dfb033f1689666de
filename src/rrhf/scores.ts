/**
 * Length-normalised policy scores p_i = Σ_t logp[i, t] / |y_i|^length_penalty,
 * summed in float64 over each response's ragged log-probs.
 */
import { UserError } from "../errors.js";
import { queryOfRow, type LogpArray, type RrhfLossBatch } from "./layout.js";
import type { ResolvedLossOptions } from "./options.js";

/**
 * A scored position holds NaN or ±Infinity: the model's forward pass went
 * wrong (typically a diverged run). A UserError so the CLI prints the message;
 * the trainer may catch it by class to stop or skip the step.
 *
 * @example
 * try {
 *   rrhfLoss(batch);
 * } catch (err) {
 *   if (!(err instanceof NonFiniteLogpError)) throw err;
 *   // the model diverged: skip this step
 * }
 */
export class NonFiniteLogpError extends UserError {
  override name = "NonFiniteLogpError";
  constructor(
    readonly row: number,
    /** The token's index within its response. */
    readonly position: number,
    readonly value: number,
  ) {
    super(
      `RRHF loss: the log-prob of token ${position} of row ${row} is ${value}; ` +
        "the model produced a non-finite log-probability (diverged training? try a lower learning rate)",
    );
  }
}

/**
 * Per-row quantities of the policy scores; all [rows].
 *
 * @example
 * const { policyScores, scoredTokens }: PolicyScores = rrhfLoss(tokenLogps, batch);
 * policyScores[0]; // p_0 = logpSums[0] / lengthNorm[0]
 */
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
 * log-probability, and (default mode) UserError on a row with no scored
 * token: its p would be 0/0. Compat mode keeps the official behaviour
 * there: such a row scores p = 0 and still takes part, and |y_i| is the
 * padded length for every row.
 */
export function computePolicyScores(tokenLogps: LogpArray, batch: RrhfLossBatch, opts: ResolvedLossOptions): PolicyScores {
  const rows = batch.scores.length;
  const starts = batch.responseTokenStart;
  const policyScores = new Float64Array(rows);
  const logpSums = new Float64Array(rows);
  const scoredTokens = new Int32Array(rows);
  const lengthNorm = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = starts[r]; k < starts[r + 1]; k++) {
      const v = tokenLogps[k];
      if (!Number.isFinite(v)) throw new NonFiniteLogpError(r, k - starts[r], v);
      sum += v;
    }
    const count = starts[r + 1] - starts[r];
    if (count === 0 && opts.compat === "paper") {
      throw new UserError(
        `RRHF loss: row ${r} (query ${queryOfRow(batch.queryRowStart, r)}) has no scored tokens; ` +
          "its response was truncated away and cannot be ranked",
      );
    }
    // The official code divides by the padded length because it overwrote the -100 labels before counting them.
    const length = opts.compat === "official" ? batch.paddedLength : count;
    logpSums[r] = sum;
    scoredTokens[r] = count;
    lengthNorm[r] = length ** opts.length_penalty;
    if (!(lengthNorm[r] > 0 && Number.isFinite(lengthNorm[r]))) {
      throw new UserError(
        `RRHF loss: length_penalty ${opts.length_penalty} makes ${length}^${opts.length_penalty} = ${lengthNorm[r]} (row ${r}); choose a smaller |length_penalty|`,
      );
    }
    policyScores[r] = sum / lengthNorm[r];
  }
  return { policyScores, logpSums, scoredTokens, lengthNorm };
}
