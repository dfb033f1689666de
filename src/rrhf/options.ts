/**
 * Options of the RRHF loss and the constants of the official trainer's
 * behaviour (GanjinZero/RRHF, train.py) that compatibility mode reproduces.
 */
import { UserError } from "../errors.js";

/**
 * "none": the paper's loss as the spec states it (default).
 * "official": reproduce the official train.py numbers (see `compat` below).
 */
export type RrhfCompat = "none" | "official";

/** Options of `rrhfLoss` / `rrhfLossBackward`. */
export interface RrhfLossOptions {
  /** Exponent on the response length in p_i = Σ logp / |y_i|^lengthPenalty. Default 1.0; > 1 favours longer answers, < 1 shorter. */
  lengthPenalty?: number;
  /** Weight of the ranking term: L = rrhfWeight · L_rank + L_sft. Default 1.0 (also in compat mode; see OFFICIAL_CODE_RRHF_WEIGHT). */
  rrhfWeight?: number;
  /**
   * "official" reproduces two quirks of the official code:
   * |y_i| is the padded length T of the batch for every row, and the SFT loss
   * is the mean over all T positions of the best row (unscored positions count
   * as logp 0). Default "none".
   */
  compat?: RrhfCompat;
}

/** Options with every default filled in and checked. */
export interface ResolvedLossOptions {
  lengthPenalty: number;
  rrhfWeight: number;
  compat: RrhfCompat;
}

/**
 * `rrhf_weight` default in the official train.py's TrainingArguments.
 *
 * @example
 * rrhfLoss(batch, { compat: "official", rrhfWeight: OFFICIAL_CODE_RRHF_WEIGHT }); // reproduce a run that kept it
 */
export const OFFICIAL_CODE_RRHF_WEIGHT = 100;
/** `--rrhf_weight` the official train.sh passes (and the paper's runs use). */
export const OFFICIAL_SCRIPT_RRHF_WEIGHT = 1;

/**
 * Default exponent on the response length in p_i = Σ logp / |y_i|^lengthPenalty.
 *
 * @example
 * rrhfLoss(batch, { lengthPenalty: DEFAULT_LENGTH_PENALTY }); // the same as leaving it out
 */
export const DEFAULT_LENGTH_PENALTY = 1.0;
/**
 * Default weight of the ranking term (the paper's and the official train.sh's).
 *
 * @example
 * rrhfLoss(batch, { rrhfWeight: DEFAULT_RRHF_WEIGHT }); // the same as leaving it out
 */
export const DEFAULT_RRHF_WEIGHT = 1.0;

/** Fills defaults and rejects values the loss cannot use (UserError: they come from user settings). */
export function resolveLossOptions(opts: RrhfLossOptions = {}): ResolvedLossOptions {
  const lengthPenalty = opts.lengthPenalty ?? DEFAULT_LENGTH_PENALTY;
  const rrhfWeight = opts.rrhfWeight ?? DEFAULT_RRHF_WEIGHT;
  const compat = opts.compat ?? "none";
  if (!Number.isFinite(lengthPenalty)) {
    throw new UserError(`RRHF loss: lengthPenalty must be a finite number, got ${lengthPenalty}`);
  }
  if (!Number.isFinite(rrhfWeight) || rrhfWeight < 0) {
    throw new UserError(`RRHF loss: rrhfWeight must be a finite number >= 0, got ${rrhfWeight}`);
  }
  if (compat !== "none" && compat !== "official") {
    throw new UserError(`RRHF loss: compat must be "none" or "official", got ${JSON.stringify(compat)}`);
  }
  return { lengthPenalty, rrhfWeight, compat };
}
