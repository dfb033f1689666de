/**
 * Resolving a section of settings: defaults < input, every value checked
 * against its rule, unknown keys refused with a "did you mean" hint. All
 * problems of an input come back together, one line each:
 * `source: field: problem`.
 *
 * @example
 * resolveSettings(TABLE, { learning_rate: 0 }, "train.yaml");
 * // UserError "train.yaml: learning_rate: must be > 0"
 */
import { UserError } from "../errors.js";
import { isRequired, settingProblem, type SettingsInput, type SettingsOf, type SettingsTable } from "./spec.js";

/** Closest name by edit distance (at most 3 edits), for "did you mean" hints; kebab-case keys match their snake_case name. */
export function closestName(key: string, names: readonly string[]): string | null {
  const norm = key.replace(/-/g, "_").toLowerCase();
  if (names.includes(norm)) return norm;
  let best: string | null = null;
  let bestDistance = 4;
  for (const n of names) {
    const d = editDistance(norm, n);
    // Fewer edits than the key has characters: rewriting all of a short key ("foo" -> "bf16") is no typo.
    if (d < bestDistance && d < norm.length) [best, bestDistance] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** Problems of the given values: unknown keys and broken rules, as `field: problem` pairs. */
function inputProblems(table: SettingsTable, input: SettingsInput): [string, string][] {
  const names = Object.keys(table);
  const problems: [string, string][] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const spec = table[key];
    if (spec === undefined) {
      const hint = closestName(key, names);
      problems.push([key, `unknown setting${hint ? ` (did you mean ${hint}?)` : ""}`]);
      continue;
    }
    const problem = settingProblem(spec, value);
    if (problem !== null) problems.push([key, problem]);
  }
  return problems;
}

function fail(source: string, problems: readonly [string, string][]): never {
  throw new UserError(problems.map(([field, problem]) => `${source}: ${field}: ${problem}`).join("\n"));
}

/** Checks part of a section (e.g. a config file's values) without filling defaults; throws every problem in one UserError. */
export function checkSettingsInput<T extends SettingsTable>(table: T, input: SettingsInput, source: string): Partial<SettingsOf<T>> {
  const problems = inputProblems(table, input);
  if (problems.length > 0) fail(source, problems);
  const out: SettingsInput = {};
  for (const [k, v] of Object.entries(input)) if (v !== undefined) out[k] = v;
  return out as Partial<SettingsOf<T>>;
}

/** The defaults of a table (required settings absent). */
export function defaultsOf<T extends SettingsTable>(table: T): Partial<SettingsOf<T>> {
  const out: SettingsInput = {};
  for (const [name, spec] of Object.entries(table)) if (!isRequired(spec)) out[name] = spec.default;
  return out as Partial<SettingsOf<T>>;
}

/**
 * Resolves a whole section: defaults < `input`. Throws one UserError naming
 * every unknown key, broken rule and missing required setting
 * (`requiredHint` is appended to the latter, e.g. "give it as a flag").
 */
export function resolveSettings<T extends SettingsTable>(table: T, input: SettingsInput, source: string, requiredHint = ""): SettingsOf<T> {
  const problems = inputProblems(table, input);
  const merged: SettingsInput = { ...defaultsOf(table) };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  for (const [name, spec] of Object.entries(table)) {
    if (isRequired(spec) && merged[name] === undefined) problems.push([name, `required${requiredHint ? ` (${requiredHint})` : ""}`]);
  }
  if (problems.length > 0) fail(source, problems);
  return merged as SettingsOf<T>;
}
