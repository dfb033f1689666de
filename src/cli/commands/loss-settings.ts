/**
 * The settings `rrhf loss` takes, composed from the tables of their layers
 * (the same flags, help and defaults as `rrhf train`).
 */
import { DATA_SETTINGS } from "../../data/settings.js";
import { MODEL_SETTINGS } from "../../models/settings.js";
import { RRHF_SETTINGS } from "../../rrhf/settings.js";
import { pickSettings, type SettingsOf } from "../../settings/index.js";
import { TOKENIZE_SETTINGS } from "../../tokenize/settings.js";

export const LOSS_COMMAND_SETTINGS = {
  ...DATA_SETTINGS,
  ...pickSettings(RRHF_SETTINGS, ["length_penalty", "rrhf_weight", "compat"]),
  ...TOKENIZE_SETTINGS,
  ...pickSettings(MODEL_SETTINGS, ["backend", "threads", "layout"]),
} as const;

export type LossCommandSettings = SettingsOf<typeof LOSS_COMMAND_SETTINGS>;

/** What `rrhf loss` runs on: the paths and output form, and the resolved settings. */
export interface LossRun {
  model: string;
  data: string;
  tokenizer?: string;
  json: boolean;
  settings: LossCommandSettings;
}

/** One query's result; nulls where nothing could be scored. */
export interface QueryLoss {
  line: number;
  scores: (number | null)[];
  rrhf_loss: number | null;
  sft_loss: number | null;
  loss: number | null;
}
