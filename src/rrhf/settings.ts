/**
 * The RRHF settings (Hugging Face / official train.py names): the loss and
 * which responses train. `rrhf loss` and `rrhf train` take their flags from
 * this table, `resolveLossOptions` its defaults.
 */
import { rules, setting, type SettingsOf } from "../settings/index.js";
import { COMPAT_MODES } from "../tokenize/encode.js";

/**
 * `rrhf_weight` default in the official train.py's TrainingArguments.
 *
 * @example
 * // Reproduce a run of the official code that left rrhf_weight at its default:
 * const out = rrhfLoss(tokenLogps, batch, { compat: "official", rrhf_weight: OFFICIAL_CODE_RRHF_WEIGHT });
 */
export const OFFICIAL_CODE_RRHF_WEIGHT = 100;
/** `--rrhf_weight` the official train.sh passes (and the paper's runs use). */
export const OFFICIAL_SCRIPT_RRHF_WEIGHT = 1;

/**
 * The RRHF settings: the loss (`length_penalty`, `rrhf_weight`, `compat`) and which responses train.
 *
 * @example
 * RRHF_SETTINGS.length_penalty.default; // 1
 * RRHF_SETTINGS.compat.help;            // the text `--help` and the README show
 */
export const RRHF_SETTINGS = {
  length_penalty: setting({
    rule: rules.number(),
    default: 1.0,
    metavar: "x",
    help:
      "Exponent on the response length when normalising policy scores (p = sum logp / |y|^x); " +
      "above 1 favours longer answers, below 1 shorter.",
  }),
  rrhf_weight: setting({
    rule: rules.number({ min: 0 }),
    default: 1.0,
    metavar: "w",
    help:
      `Weight of the ranking loss in rrhf_weight * L_rank + L_sft (the official train.sh passes ${OFFICIAL_SCRIPT_RRHF_WEIGHT}; ` +
      `the official code's own default is ${OFFICIAL_CODE_RRHF_WEIGHT}: pass it to reproduce runs that relied on it).`,
  }),
  compat: setting({
    rule: rules.choice(COMPAT_MODES),
    default: "paper",
    metavar: "mode",
    help:
      "paper follows the RRHF paper; official reproduces GanjinZero/RRHF train.py: its tokenisation (each response encoded " +
      "on its own with special tokens), lengths = the padded batch length, and the SFT loss averaged over the whole padded row.",
  }),
  only_use_provide: setting({
    rule: rules.boolean(),
    default: false,
    help: "Train only on the last two responses of each query (the dataset's own answers in the official data).",
  }),
  only_use_sample: setting({
    rule: rules.boolean(),
    default: false,
    help: "Train on all but the last two responses of each query (the sampled ones); needs at least 3 per query.",
  }),
} as const;

/**
 * The RRHF settings' values.
 *
 * @example
 * const settings: RrhfSettings = { length_penalty: 1, rrhf_weight: 1, compat: "paper", only_use_provide: false, only_use_sample: false };
 * const out = rrhfLoss(tokenLogps, batch, settings); // the loss reads its three settings
 */
export type RrhfSettings = SettingsOf<typeof RRHF_SETTINGS>;

/** Problems between RRHF settings, as `[field, problem]`. */
export function rrhfSettingsProblems(s: Pick<RrhfSettings, "only_use_provide" | "only_use_sample">): [string, string][] {
  if (s.only_use_provide && s.only_use_sample) {
    return [["only_use_sample", "only_use_provide and only_use_sample exclude each other (together they keep no response)"]];
  }
  return [];
}
