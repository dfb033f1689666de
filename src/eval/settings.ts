/**
 * The settings of `rrhf eval` (and of the eval stage of `rrhf iterate`):
 * tokenisation of the data, the length normalisation of the policy scores,
 * greedy generation length, batching, the scorer's timeouts, and compute.
 *
 * @example
 * const s: EvalSettings = resolveSettings(EVAL_SETTINGS, { max_new_tokens: 16 }, "flags");
 * s.eval_batch_size; // 4
 */
import { DATA_SETTINGS } from "../data/settings.js";
import { GENERATE_SETTINGS } from "../generate/settings.js";
import { MODEL_SETTINGS } from "../models/settings.js";
import { RRHF_SETTINGS } from "../rrhf/settings.js";
import { SCORE_SETTINGS } from "../score/settings.js";
import { pickSettings, rules, setting, type SettingsOf } from "../settings/index.js";
import { TOKENIZE_SETTINGS } from "../tokenize/settings.js";

export const EVAL_SETTINGS = {
  ...DATA_SETTINGS,
  ...pickSettings(TOKENIZE_SETTINGS, ["model_max_length", "max_query_share", "chat_template"]),
  ...pickSettings(RRHF_SETTINGS, ["length_penalty"]),
  ...pickSettings(GENERATE_SETTINGS, ["max_new_tokens"]),
  eval_batch_size: setting({
    rule: rules.int({ min: 1 }),
    default: 4,
    metavar: "n",
    help: "Records (with all their responses) per forward pass on --data; prompts decoded together on --prompts.",
  }),
  ...pickSettings(SCORE_SETTINGS, ["timeout", "retries", "retry_delay"]),
  ...pickSettings(MODEL_SETTINGS, ["backend", "threads", "layout"]),
} as const;

/** The evaluation settings' values. */
export type EvalSettings = SettingsOf<typeof EVAL_SETTINGS>;
