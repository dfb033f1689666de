/**
 * The settings of `rrhf serve` (flags built from this table): where it
 * listens, who may call it, and the limits that keep one client from
 * starving the others (queue, body size, tokens and choices per request).
 *
 * @example
 * const s: ServeSettings = resolveSettings(SERVE_SETTINGS, { port: 0, queue_size: 4 }, "flags");
 * s.host; // "127.0.0.1"
 */
import { MODEL_SETTINGS } from "../models/settings.js";
import { pickSettings, rules, setting, type SettingsOf } from "../settings/index.js";

export const SERVE_SETTINGS = {
  host: setting({
    rule: rules.string(),
    default: "127.0.0.1",
    metavar: "addr",
    help: "Address to listen on. Loopback by default; any other address requires --api-key.",
  }),
  port: setting({
    rule: rules.int({ min: 0, max: 65535 }),
    default: 8000,
    metavar: "n",
    help: "TCP port (0: any free port; the URL is printed).",
  }),
  api_key: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "key",
    help: "Clients must send `Authorization: Bearer KEY` (compared in constant time); required off loopback.",
  }),
  served_model_name: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "name",
    help: "The model's name in /v1/models and requests' `model` (default: the model folder's name).",
  }),
  queue_size: setting({
    rule: rules.int({ min: 0, max: 100_000 }),
    default: 16,
    metavar: "n",
    help: "Requests that may wait while one generates (one generation at a time); one more gets 429.",
  }),
  max_body_bytes: setting({
    rule: rules.int({ min: 1024 }),
    default: 1024 * 1024,
    metavar: "n",
    help: "Largest request body accepted (bytes); a larger one gets 413.",
  }),
  max_requests_per_second: setting({
    rule: rules.int({ min: 1 }),
    default: 100,
    metavar: "n",
    help: "Requests one client (IP address) may make per second; more get 429 with Retry-After.",
  }),
  max_n: setting({
    rule: rules.int({ min: 1, max: 1024 }),
    default: 16,
    metavar: "n",
    help: "Most choices (`n` times prompts) one request may ask for.",
  }),
  default_max_tokens: setting({
    rule: rules.int({ min: 1 }),
    default: 16,
    metavar: "n",
    help: "`max_tokens` of a request that gives none (OpenAI's completions default: 16); always capped by the model's context.",
  }),
  ...pickSettings(MODEL_SETTINGS, ["backend", "threads"]),
} as const;

/** The resolved `rrhf serve` settings. */
export type ServeSettings = SettingsOf<typeof SERVE_SETTINGS>;
