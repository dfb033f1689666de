/**
 * Chosen/rejected pair files: `{"prompt": ..., "chosen": ..., "rejected": ...}`
 * per line become `{query: prompt, responses: [chosen, rejected], scores: [1, 0]}`.
 * Texts are kept byte for byte (no trimming). Extra keys are ignored.
 */
import { describeValue } from "../describe.js";
import { errorAt, type Place } from "../messages.js";
import type { RrhfRecord } from "../record.js";
import type { LocationUnit } from "../source.js";

/**
 * Reads `value[key]` as a non-empty string or throws a located error naming
 * `field` (`key` by default; a longer path such as `completions[2].response`
 * for nested values). `unit` "row" locates Parquet rows.
 */
export function requireText(
  value: Record<string, unknown>,
  key: string,
  file: string,
  line: number,
  unit: LocationUnit = "line",
  field: string = key,
): string {
  return textAt(value[key], field, { file, line, unit });
}

/** `text` as a non-empty string, or a located error naming `field`. */
export function textAt(text: unknown, field: string, place: Place): string {
  if (text === undefined || text === null) throw errorAt(place, field, "required field is missing");
  if (typeof text !== "string") throw errorAt(place, field, `expected a string, got ${describeValue(text)}`);
  if (text.length === 0) throw errorAt(place, field, "must not be empty");
  return text;
}

/**
 * Converts one pair object (from line or row `line` of `file`) to a record; a
 * missing or empty text is a DataError naming the file, line and key.
 *
 * @example
 * pairToRecord({ prompt: "Hi", chosen: " Hello!", rejected: " Go away." }, "pairs.jsonl", 1);
 * // { query: "Hi", responses: [" Hello!", " Go away."], scores: [1, 0] }
 */
export function pairToRecord(value: Record<string, unknown>, file: string, line: number, unit: LocationUnit = "line"): RrhfRecord {
  const query = requireText(value, "prompt", file, line, unit);
  const chosen = requireText(value, "chosen", file, line, unit);
  const rejected = requireText(value, "rejected", file, line, unit);
  return { query, responses: [chosen, rejected], scores: [1, 0] };
}
