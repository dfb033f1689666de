/**
 * The settings `rrhf sample` takes: the generation table (HF names) and the
 * tokenisation and compute settings it shares with `rrhf loss`/`rrhf train`.
 */
import { DATA_SETTINGS } from "../../data/settings.js";
import { GENERATE_SETTINGS } from "../../generate/settings.js";
import { MODEL_SETTINGS } from "../../models/settings.js";
import { pickSettings, rules, setting, type SettingsOf } from "../../settings/index.js";
import { TOKENIZE_SETTINGS } from "../../tokenize/settings.js";

export const SAMPLE_COMMAND_SETTINGS = {
  ...DATA_SETTINGS,
  ...GENERATE_SETTINGS,
  ...pickSettings(TOKENIZE_SETTINGS, ["chat_template"]),
  ...pickSettings(MODEL_SETTINGS, ["backend", "threads"]),
  prompts_per_batch: setting({
    rule: rules.int({ min: 1 }),
    default: 8,
    metavar: "n",
    help: "Prompts decoded together (each with its k continuations); their lines are written together.",
  }),
} as const;

export type SampleCommandSettings = SettingsOf<typeof SAMPLE_COMMAND_SETTINGS>;

/** What `rrhf sample` runs on: the paths and the resolved settings. */
export interface SampleRun {
  model: string;
  prompts: string;
  out: string;
  tokenizer?: string;
  keepProvided: boolean;
  settings: SampleCommandSettings;
}
