/**
 * A setting: its rule, default, help text and command-line spelling, in one
 * place. Commands build their flags from tables of settings, config files are
 * checked against the same tables, and docs print them, so a setting is
 * described and validated exactly once.
 *
 * @example
 * const LOSS = {
 *   length_penalty: setting({ rule: rules.number(), default: 1, metavar: "x", help: "Exponent on the response length." }),
 * };
 * type Loss = SettingsOf<typeof LOSS>;      // { length_penalty: number }
 * flagOf("length_penalty", LOSS.length_penalty); // "--length-penalty"
 * parseSettingText(LOSS.length_penalty, "abc");  // { ok: false, message: "must be a finite number" }
 */
import { ruleProblem, type Rule, type SettingKind } from "./rules.js";

/** One setting. Without a `default` it is required. */
export interface SettingSpec<T> {
  readonly rule: Rule<T>;
  readonly default?: NoInfer<T>;
  /** One or two sentences for --help, config docs and the README. */
  readonly help: string;
  /** Flag when not `--` + the kebab-case name (e.g. `--out` for output_dir). */
  readonly flag?: string;
  /** Value placeholder in --help, e.g. "n" in `--max-steps <n>`. */
  readonly metavar?: string;
}

/** A table of settings, keyed by their Hugging Face snake_case names. */
export type SettingsTable = Readonly<Record<string, SettingSpec<unknown>>>;

/** The value type of one setting. */
export type SettingValue<S> = S extends SettingSpec<infer T> ? T : never;

/** The values of a table's settings, e.g. `{ learning_rate: number; optim: "adamw" | ... }`. */
export type SettingsOf<T extends SettingsTable> = { -readonly [K in keyof T]: SettingValue<T[K]> };

/** Raw values for some settings of a table (a config file, parsed flags); checked later. */
export type SettingsInput = Partial<Record<string, unknown>>;

/** A setting with a default (its type says the default is there). */
export interface DefaultedSettingSpec<T> extends SettingSpec<T> {
  readonly default: T;
}

/** Declares a setting; the identity, but infers `T` from the rule (and keeps a default's presence in the type). */
// NoInfer: the type comes from the rule alone, so a choice's default ("paper") does not widen it to string.
export function setting<T>(spec: SettingSpec<T> & { default: NoInfer<T> }): DefaultedSettingSpec<T>;
export function setting<T>(spec: SettingSpec<T>): SettingSpec<T>;
export function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/** The kind of a setting (from its rule). */
export function kindOf(spec: SettingSpec<unknown>): SettingKind {
  return spec.rule.kind;
}

/** True when a setting has no default and must be given. */
export function isRequired(spec: SettingSpec<unknown>): boolean {
  return !("default" in spec);
}

/** The command-line flag of a setting: its own, or `--` + kebab-case name. */
export function flagOf(name: string, spec: SettingSpec<unknown>): string {
  return spec.flag ?? `--${name.replace(/_/g, "-")}`;
}

/** The phrase for a value the setting refuses ("must be > 0"), or null when it is valid. */
export function settingProblem(spec: SettingSpec<unknown>, value: unknown): string | null {
  return ruleProblem(spec.rule, value);
}

/** A value read from text, or the rule it breaks. */
export type ParsedText<T> = { ok: true; value: T } | { ok: false; message: string };

// Number("") is 0 and Number("0x10") is 16: accept plain decimal/scientific notation only.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Reads a setting from command-line text and checks its rule. Booleans are
 * flags without a value and never come here; "true"/"false" are read anyway.
 */
export function parseSettingText<T>(spec: SettingSpec<T>, text: string): ParsedText<T> {
  let value: unknown = text;
  const kind = spec.rule.kind;
  if (kind === "number" || kind === "int") value = DECIMAL.test(text.trim()) ? Number(text) : text;
  else if (kind === "boolean") value = text === "true" ? true : text === "false" ? false : text;
  const problem = ruleProblem(spec.rule, value);
  return problem === null ? { ok: true, value: value as T } : { ok: false, message: problem };
}

/** A default as --help and docs show it: 2e-5 rather than 0.00002; "" for none, null or false. */
export function formatDefault(spec: SettingSpec<unknown>): string {
  if (isRequired(spec)) return "required";
  const v = spec.default;
  if (v === null || v === undefined || v === false) return "";
  return typeof v === "number" && v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
}

/** Picks some settings of a table (a command that needs only part of a group). */
export function pickSettings<T extends SettingsTable, K extends keyof T>(table: T, names: readonly K[]): Pick<T, K> {
  const out: Partial<Pick<T, K>> = {};
  for (const n of names) out[n] = table[n];
  return out as Pick<T, K>;
}
