/**
 * Supervised fine-tuning records (`rrhf sft`): one JSON object per line (or
 * Parquet row), either a prompt and the answer to learn, `{query, response}`
 * (the loss is on the response and its EOS), or a plain text, `{text}` (the
 * loss is on every token). Other keys are ignored, as for RRHF records.
 * Read through the same sources as RRHF data (.jsonl, .jsonl.gz, .parquet);
 * every problem names its file, line (or row) and field.
 *
 * @example
 * for await (const { line, record } of readSftRecords("tests/fixtures/train/tiny-sft.jsonl")) {
 *   console.log(line, "text" in record ? record.text : record.response);
 * }
 */
import { DataError } from "../errors.js";
import { describeValue } from "./describe.js";
import { inputFormatOf, locationUnitOf, readSourceObjects, type SourceOptions } from "./source.js";

/**
 * One SFT example: a prompt and its answer, or a text.
 *
 * @example
 * const qa: SftRecord = { query: "2+2=", response: "4" };
 * const text: SftRecord = { text: "Once upon a time" };
 */
export type SftRecord = { query: string; response: string; text?: undefined } | { text: string; query?: undefined; response?: undefined };

/**
 * A valid SFT record with its 1-based line (Parquet: row) number.
 *
 * @example
 * const located: LocatedSftRecord = { line: 1, record: { text: "hello" } };
 */
export interface LocatedSftRecord {
  line: number;
  record: SftRecord;
}

type Place = { file: string; line: number; unit: "line" | "row" };

function nonEmptyString(value: Record<string, unknown>, key: string, at: Place): string {
  const v = value[key];
  const problem =
    v === undefined
      ? "required field is missing"
      : typeof v !== "string"
        ? `expected a string, got ${describeValue(v)}`
        : v.length === 0
          ? "must not be empty"
          : null;
  if (problem !== null) throw new DataError(at.file, at.line, key, problem, at.unit);
  return v as string;
}

/** Checks one JSON object as an SFT record; throws the first problem as a `DataError`. */
export function checkSftRecord(value: Record<string, unknown>, at: Place): SftRecord {
  if ("text" in value) {
    for (const key of ["query", "response"]) {
      if (key in value) throw new DataError(at.file, at.line, key, "a record has either text or query + response, not both", at.unit);
    }
    return { text: nonEmptyString(value, "text", at) };
  }
  if (!("response" in value) && ("responses" in value || !("query" in value))) {
    const hint = "responses" in value ? " (this looks like RRHF data: train it with rrhf train)" : "";
    throw new DataError(at.file, at.line, "-", `an SFT record needs query + response, or text${hint}`, at.unit);
  }
  return { query: nonEmptyString(value, "query", at), response: nonEmptyString(value, "response", at) };
}

/** Yields the SFT records of `path` in order; throws the first problem as a `DataError`. */
export async function* readSftRecords(path: string, opts: SourceOptions = {}): AsyncGenerator<LocatedSftRecord> {
  const file = opts.displayName ?? path;
  const unit = locationUnitOf(inputFormatOf(path, opts.format));
  for await (const entry of readSourceObjects(path, { ...opts, displayName: file })) {
    if (entry.error !== undefined) throw entry.error;
    yield { line: entry.line, record: checkSftRecord(entry.value, { file, line: entry.line, unit }) };
  }
}
