/**
 * The settings of `rrhf label` (the ranking page): where it listens, the token
 * that guards it, which field holds the policy's own scores, and the request
 * size and rate limits. The CLI builds its flags from this table.
 *
 * @example
 * const s: LabelSettings = resolveSettings(LABEL_SETTINGS, { port: 0 }, "flags");
 * s.host; // "127.0.0.1"
 */
import { rules, setting, type SettingsOf } from "../../settings/index.js";

export const LABEL_SETTINGS = {
  port: setting({
    rule: rules.int({ min: 0, max: 65535 }),
    default: 8457,
    metavar: "n",
    help: "TCP port to listen on; 0 picks a free one (the address is printed).",
  }),
  host: setting({
    rule: rules.string(),
    default: "127.0.0.1",
    metavar: "addr",
    help: "Address to bind. Anything other than 127.0.0.1, ::1 or localhost needs --token.",
  }),
  token: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "t",
    help:
      "Secret every request must carry (?token=T in the page address, or an Authorization: Bearer T header); " +
      "at least 16 characters. Required on any host but loopback.",
  }),
  policy_scores: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "field",
    help: "Record field holding the policy's own scores (one number per response), shown beside each response; unset = none shown.",
  }),
  max_body_bytes: setting({
    rule: rules.int({ min: 1024, max: 16 * 1024 * 1024 }),
    default: 65536,
    metavar: "n",
    help: "Largest request body accepted (bytes); a larger one is refused with 413.",
  }),
  max_requests_per_second: setting({
    rule: rules.int({ min: 1 }),
    default: 200,
    metavar: "n",
    help: "Requests one client may make per second; more are refused with 429 (a person needs a few).",
  }),
} as const;

/** The resolved values of {@link LABEL_SETTINGS}. */
export type LabelSettings = SettingsOf<typeof LABEL_SETTINGS>;
