/**
 * The settings of scoring (`rrhf score`, and the scorers any later command
 * builds from a SPEC): batching, and the timeouts and retries of the HTTP
 * and command scorers.
 */
import { rules, setting, type SettingsOf } from "../settings/index.js";

export const SCORE_SETTINGS = {
  batch_size: setting({
    rule: rules.int({ min: 1 }),
    default: 8,
    metavar: "n",
    help: "Records scored per scorer call batch (the reward model runs all their responses at once; HTTP/command scorers get one request per record).",
  }),
  timeout: setting({
    rule: rules.number({ gt: 0 }),
    default: 60,
    metavar: "seconds",
    help: "How long one HTTP request or one command reply may take before it counts as failed.",
  }),
  retries: setting({
    rule: rules.int({ min: 0 }),
    default: 3,
    metavar: "n",
    help: "HTTP scorer: retries after a timeout, a connection error, 429 or a 5xx (exponential backoff); other errors fail at once.",
  }),
  retry_delay: setting({
    rule: rules.number({ min: 0 }),
    default: 0.5,
    metavar: "seconds",
    help: "HTTP scorer: the first backoff delay; each retry waits twice as long as the one before (a Retry-After header wins).",
  }),
  chat_template: setting({
    rule: rules.boolean(),
    default: false,
    help: "Reward-model scorer: render the query through the reward model's chat template before appending the response.",
  }),
} as const;

/** The scoring settings' values. */
export type ScoreSettings = SettingsOf<typeof SCORE_SETTINGS>;
