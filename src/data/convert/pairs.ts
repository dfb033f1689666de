/**
 * Chosen/rejected pair files: `{"prompt": ..., "chosen": ..., "rejected": ...}`
 * per line become `{query: prompt, responses: [chosen, rejected], scores: [1, 0]}`.
 * Texts are kept byte for byte (no trimming). Extra keys are ignored.
 */
import { DataError } from "../../errors.js";
import { describeValue } from "../describe.js";
import type { RrhfRecord } from "../record.js";

/** Reads `value[key]` as a non-empty string or throws a located error naming `key`. */
export function requireText(value: Record<string, unknown>, key: string, file: string, line: number): string {
  const text = value[key];
  if (text === undefined) throw new DataError(file, line, key, "required field is missing");
  if (typeof text !== "string") throw new DataError(file, line, key, `expected a string, got ${describeValue(text)}`);
  if (text.length === 0) throw new DataError(file, line, key, "must not be empty");
  return text;
}

/**
 * Converts one pair object (from line `line` of `file`) to a record; a
 * missing or empty text is a DataError naming the file, line and key.
 *
 * @example
 * pairToRecord({ prompt: "Hi", chosen: " Hello!", rejected: " Go away." }, "pairs.jsonl", 1);
 * // { query: "Hi", responses: [" Hello!", " Go away."], scores: [1, 0] }
 */
export function pairToRecord(value: Record<string, unknown>, file: string, line: number): RrhfRecord {
  const query = requireText(value, "prompt", file, line);
  const chosen = requireText(value, "chosen", file, line);
  const rejected = requireText(value, "rejected", file, line);
  return { query, responses: [chosen, rejected], scores: [1, 0] };
}
