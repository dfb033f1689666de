/**
 * Validation rules of settings: each rule checks a value and says, in one
 * human phrase, what it requires ("must be > 0", "must be an integer >= 1",
 * "must be one of paper, official"). The phrase is what a user sees for a
 * bad flag or config value, so it names the rule rather than the mechanism.
 *
 * @example
 * const lr = rules.number({ gt: 0 });
 * lr.accepts(0);   // false
 * lr.text;         // "must be > 0"
 */

/** How a setting is written on the command line (and what type its value has). */
export type SettingKind = "string" | "number" | "int" | "boolean" | "choice";

/** A check on a setting's value, with the phrase that states it. */
export interface Rule<T> {
  readonly kind: SettingKind;
  /** True when `value` satisfies the rule (type and range). */
  accepts(value: unknown): value is T;
  /** The requirement, e.g. "must be > 0": shown when a value of the right type breaks it. */
  readonly text: string;
  /** Shown when the value is not even of the right type, e.g. "must be a number > 0". */
  readonly typeText: string;
  /** The allowed values of a choice. */
  readonly choices?: readonly string[];
  /** Null is allowed (config files may write it; it means "not set"). */
  readonly nullable?: boolean;
}

/** Bounds of a numeric rule: gt/lt exclusive, min/max inclusive. */
export interface Bounds {
  gt?: number;
  min?: number;
  lt?: number;
  max?: number;
}

function boundsText(b: Bounds): string {
  const lower = b.gt !== undefined ? `> ${b.gt}` : b.min !== undefined ? `>= ${b.min}` : null;
  const upper = b.lt !== undefined ? `< ${b.lt}` : b.max !== undefined ? `<= ${b.max}` : null;
  if (b.min !== undefined && b.max !== undefined) return `from ${b.min} to ${b.max}`;
  return [lower, upper].filter((s) => s !== null).join(" and ");
}

function withinBounds(v: number, b: Bounds): boolean {
  return (
    (b.gt === undefined || v > b.gt) &&
    (b.min === undefined || v >= b.min) &&
    (b.lt === undefined || v < b.lt) &&
    (b.max === undefined || v <= b.max)
  );
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** A finite number within `bounds` (NaN and ±Infinity are never accepted). */
function number(bounds: Bounds = {}): Rule<number> {
  const range = boundsText(bounds);
  return {
    kind: "number",
    accepts: (v): v is number => isFiniteNumber(v) && withinBounds(v, bounds),
    text: range === "" ? "must be a finite number" : `must be ${range}`,
    typeText: range === "" ? "must be a finite number" : `must be a number ${range}`,
  };
}

/**
 * A safe integer within `bounds`; `except` values are refused too, and
 * `text` then states the whole rule (e.g. "must be -1 or an integer >= 1").
 */
function int(bounds: Bounds = {}, refine?: { except: readonly number[]; text: string }): Rule<number> {
  const range = boundsText(bounds);
  const text = refine?.text ?? (range === "" ? "must be an integer" : `must be an integer ${range}`);
  return {
    kind: "int",
    accepts: (v): v is number =>
      Number.isSafeInteger(v) && withinBounds(v as number, bounds) && !(refine?.except.includes(v as number) ?? false),
    text,
    typeText: text,
  };
}

/** One of `values` (written as is in flags and config files). */
function choice<const V extends string>(values: readonly V[]): Rule<V> {
  const text = `must be one of ${values.join(", ")}`;
  return {
    kind: "choice",
    accepts: (v): v is V => typeof v === "string" && (values as readonly string[]).includes(v),
    text,
    typeText: text,
    choices: values,
  };
}

function boolean(): Rule<boolean> {
  return {
    kind: "boolean",
    accepts: (v): v is boolean => typeof v === "boolean",
    text: "must be true or false",
    typeText: "must be true or false",
  };
}

/** A non-empty string (a path, a name). */
function string(): Rule<string> {
  return {
    kind: "string",
    accepts: (v): v is string => typeof v === "string" && v.length > 0,
    text: "must not be empty",
    typeText: "must be a non-empty string",
  };
}

/** `rule`, or null (meaning "not set"). */
function nullable<T>(rule: Rule<T>): Rule<T | null> {
  return { ...rule, accepts: (v): v is T | null => v === null || rule.accepts(v), nullable: true };
}

/** The rule builders. */
export const rules = { number, int, choice, boolean, string, nullable } as const;

/** The phrase for a value that `rule` refuses, or null when it accepts it. */
export function ruleProblem<T>(rule: Rule<T>, value: unknown): string | null {
  if (rule.accepts(value)) return null;
  const rightType =
    rule.kind === "number" || rule.kind === "int"
      ? isFiniteNumber(value)
      : rule.kind === "boolean"
        ? typeof value === "boolean"
        : typeof value === "string";
  return rightType ? rule.text : rule.typeText;
}
