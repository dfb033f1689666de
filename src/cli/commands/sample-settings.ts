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
  endpoint: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "url",
    help: "Sample through an OpenAI-compatible server at this base URL (e.g. http://127.0.0.1:8000/v1) instead of --model; -k becomes n.",
  }),
  endpoint_model: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "name",
    help: "The `model` of each request to --endpoint (required with it).",
  }),
  api_key_env: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "var",
    help: "Environment variable holding the endpoint's API key (sent as a Bearer token).",
  }),
  concurrency: setting({
    rule: rules.int({ min: 1, max: 256 }),
    default: 4,
    metavar: "n",
    help: "Requests in flight to --endpoint at once (one prompt each).",
  }),
  endpoint_max_attempts: setting({
    rule: rules.int({ min: 1, max: 20 }),
    default: 5,
    metavar: "n",
    help: "Tries per request to --endpoint: 429, 5xx and network errors are retried with exponential backoff from 0.5 s (Retry-After honoured).",
  }),
  endpoint_timeout_s: setting({
    rule: rules.number({ gt: 0 }),
    default: 600,
    metavar: "s",
    help: "Time limit of one request to --endpoint (then retried).",
  }),
} as const;

export type SampleCommandSettings = SettingsOf<typeof SAMPLE_COMMAND_SETTINGS>;

/** What `rrhf sample` runs on: the paths and the resolved settings. */
export interface SampleRun {
  /** Local model folders, pooled in order (k responses each); empty with --endpoint. */
  models: string[];
  prompts: string;
  out: string;
  tokenizer?: string;
  keepProvided: boolean;
  settings: SampleCommandSettings;
}
