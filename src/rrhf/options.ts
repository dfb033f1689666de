/**
 * Options of the RRHF loss, with the Hugging Face names of the RRHF settings
 * table (`length_penalty`, `rrhf_weight`, `compat`); defaults and rules come
 * from that table.
 */
import { UserError } from "../errors.js";
import { settingProblem } from "../settings/spec.js";
import { RRHF_SETTINGS, type RrhfSettings } from "./settings.js";

/** The loss settings: length_penalty, rrhf_weight and compat ("paper" | "official"). */
type LossSettingName = "length_penalty" | "rrhf_weight" | "compat";

/**
 * Options of `rrhfLoss` / `rrhfLossBackward`; each defaults to the RRHF table's default.
 * - `length_penalty`: exponent on the response length in p_i = Σ logp / |y_i|^length_penalty (default 1).
 * - `rrhf_weight`: weight of the ranking term, L = rrhf_weight · L_rank + L_sft (default 1; see OFFICIAL_CODE_RRHF_WEIGHT).
 * - `compat: "official"` reproduces two quirks of the official code: |y_i| is the padded length T of the
 *   batch for every row, and the SFT loss is the mean over all T positions of the best row (unscored
 *   positions count as logp 0). Default "paper".
 *
 * @example
 * const options: RrhfLossOptions = { length_penalty: 0.5, rrhf_weight: 2 }; // compat: "paper" by default
 * const out = rrhfLoss(tokenLogps, batch, options);
 */
export type RrhfLossOptions = Partial<Pick<RrhfSettings, LossSettingName>>;

/** Options with every default filled in and checked. */
export type ResolvedLossOptions = Pick<RrhfSettings, LossSettingName>;

function shown(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

const LOSS_SETTINGS: readonly LossSettingName[] = ["length_penalty", "rrhf_weight", "compat"];

/**
 * Fills defaults and rejects values the loss cannot use (UserError: they come
 * from user settings). Reads only the loss settings of `opts`, so a whole
 * TrainConfig may be passed.
 */
export function resolveLossOptions(opts: RrhfLossOptions = {}): ResolvedLossOptions {
  const resolved = {
    length_penalty: opts.length_penalty ?? RRHF_SETTINGS.length_penalty.default,
    rrhf_weight: opts.rrhf_weight ?? RRHF_SETTINGS.rrhf_weight.default,
    compat: opts.compat ?? RRHF_SETTINGS.compat.default,
  };
  for (const name of LOSS_SETTINGS) {
    const problem = settingProblem(RRHF_SETTINGS[name], resolved[name]);
    if (problem !== null) throw new UserError(`RRHF loss: ${name} ${problem}, got ${shown(resolved[name])}`);
  }
  return resolved;
}
