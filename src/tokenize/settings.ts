/**
 * The tokenisation settings (Hugging Face names): how records become token
 * ids. `rrhf loss`, `rrhf train` and `rrhf validate` take their flags from
 * this table; `compat` lives in the RRHF table (it changes the loss too).
 *
 * model_max_length: default 512, as the official RRHF train.py; every command
 * that runs a model clamps it to the model's `max_position_embeddings` with a
 * note ({@link clampModelMaxLength}). The tokenizer's own `model_max_length`
 * is not used, as in train.py, which passes its own value to the tokenizer.
 */
import { rules, setting, type SettingsOf } from "../settings/index.js";
import { DEFAULT_MAX_QUERY_SHARE } from "./truncate.js";

/**
 * The tokenisation settings (Hugging Face / official train.py names): the flags of `validate`, `loss` and `train`.
 *
 * @example
 * TOKENIZE_SETTINGS.model_max_length.default; // 512
 * TOKENIZE_SETTINGS.max_query_share.help;     // the text `--help` and the README show
 */
export const TOKENIZE_SETTINGS = {
  model_max_length: setting({
    rule: rules.int({ min: 1 }),
    default: 512,
    metavar: "n",
    help:
      "Token budget per query+response; longer ones are cut (paper mode: the query from the left, then the response). " +
      "Clamped to the model's max_position_embeddings.",
  }),
  max_query_share: setting({
    rule: rules.number({ min: 0, max: 1 }),
    default: DEFAULT_MAX_QUERY_SHARE,
    metavar: "r",
    help: "Paper mode: a long query is cut down to no less than this share of model_max_length, so the response keeps the rest.",
  }),
  chat_template: setting({
    rule: rules.boolean(),
    default: false,
    help:
      "Render each query through the tokenizer's chat_template (tokenizer_config.json) with the generation prompt, no second BOS: " +
      "HH transcripts become user/assistant turns, other text one user message.",
  }),
  strict: setting({
    rule: rules.boolean(),
    default: false,
    help:
      "A response that truncation to model_max_length empties is an error naming its record, instead of a warning and a dropped response " +
      "(paper mode only: official mode never empties a response).",
  }),
} as const;

/**
 * The tokenisation settings' values.
 *
 * @example
 * const settings: TokenizeSettings = { model_max_length: 192, max_query_share: 0.5, chat_template: false, strict: false };
 */
export type TokenizeSettings = SettingsOf<typeof TOKENIZE_SETTINGS>;

/** The budget a model can take: `requested`, or the model's positions when fewer, with a note saying so. */
export function clampModelMaxLength(requested: number, maxPositions: number): { maxLength: number; note: string | null } {
  if (requested <= maxPositions) return { maxLength: requested, note: null };
  return {
    maxLength: maxPositions,
    note: `model_max_length ${requested} exceeds the model's ${maxPositions} positions (max_position_embeddings); using ${maxPositions}`,
  };
}
