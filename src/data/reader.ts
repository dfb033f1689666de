/**
 * Reading RRHF records, streaming: records are yielded one at a time as the
 * file is read. JSONL, gzip-compressed JSONL and Parquet are read, chosen by
 * extension or `format` (see source.ts). Two modes:
 * - `readRecords` stops at the first problem (throws its `DataError`) — what
 *   training wants;
 * - `scanRecords` reports every problem and goes on — what `rrhf validate` wants.
 *
 * @example
 * for await (const { line, record } of readRecords("data/train.jsonl")) {
 *   console.log(line, record.responses.length);
 * }
 */
import { DataError } from "../errors.js";
import type { RrhfRecord } from "./record.js";
import { checkRecord, type RecordCheckOptions } from "./schema.js";
import { inputFormatOf, locationUnitOf, readSourceObjects, type SourceOptions } from "./source.js";

/**
 * Options of record reading.
 *
 * @example
 * for await (const { record } of readRecords("upload.tmp", { displayName: "train.jsonl", format: "jsonl", unknownKeys: "error" })) use(record);
 */
export interface ReadOptions extends Omit<RecordCheckOptions, "unit">, SourceOptions {
  /** "ignore" (default): extra keys are allowed and dropped; "error": each one is a problem. */
  unknownKeys?: "ignore" | "error";
}

/**
 * A valid record with its 1-based line number (row number in Parquet).
 *
 * @example
 * for await (const { line, record } of readRecords("tests/fixtures/train/tiny-train.jsonl")) console.log(line, record.query);
 */
export interface LocatedRecord {
  line: number;
  record: RrhfRecord;
  /** Extra keys the line had (dropped from `record`). */
  unknownKeys: string[];
}

/** One line's outcome in collect-all mode. */
export type ScanEntry = ({ ok: true } & LocatedRecord) | { ok: false; line: number; errors: DataError[] };

/** Yields every non-blank line of `path` as a valid record or its problems (all of them). */
export async function* scanRecords(path: string, opts: ReadOptions = {}): AsyncGenerator<ScanEntry> {
  const file = opts.displayName ?? path;
  const unit = locationUnitOf(inputFormatOf(path, opts.format));
  for await (const entry of readSourceObjects(path, { ...opts, displayName: file })) {
    if (entry.error !== undefined) {
      yield { ok: false, line: entry.line, errors: [entry.error] };
      continue;
    }
    const check = checkRecord(entry.value, file, entry.line, { ...opts, unit });
    const problems = [...check.problems];
    if (opts.unknownKeys === "error") {
      for (const key of check.unknownKeys) problems.push(new DataError(file, entry.line, key, "unknown key (strict mode)", unit));
    }
    if (problems.length > 0 || check.record === null) yield { ok: false, line: entry.line, errors: problems };
    else yield { ok: true, line: entry.line, record: check.record, unknownKeys: check.unknownKeys };
  }
}

/** Yields the valid records of `path` in order; throws the first problem as a `DataError`. */
export async function* readRecords(path: string, opts: ReadOptions = {}): AsyncGenerator<LocatedRecord> {
  for await (const entry of scanRecords(path, opts)) {
    if (!entry.ok) throw entry.errors[0];
    yield { line: entry.line, record: entry.record, unknownKeys: entry.unknownKeys };
  }
}

/**
 * Every record of `path` in memory (for shuffling small data sets); stops at the first problem.
 *
 * @example
 * const records = await readAllRecords("tests/fixtures/train/tiny-train.jsonl");
 * records[0].responses.length; // k responses, each with its score in records[0].scores
 */
export async function readAllRecords(path: string, opts: ReadOptions = {}): Promise<RrhfRecord[]> {
  const out: RrhfRecord[] = [];
  for await (const { record } of readRecords(path, opts)) out.push(record);
  return out;
}
