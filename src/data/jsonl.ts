/**
 * JSONL reading shared by records and converters: strict UTF-8, one JSON
 * object per line, every problem located as `file:line: field: problem`.
 *
 * Policy (documented for users): blank lines (only spaces, tabs or `\r`) are
 * skipped but still counted, so line numbers match an editor's; a UTF-8 BOM
 * at the very start of the file is accepted; a file with no non-blank line is
 * an error ("no records").
 */
import { DataError } from "../errors.js";
import { describeValue, quoteShort } from "./describe.js";
import { readLines } from "./lines.js";
import { decodeUtf8Strict, firstInvalidUtf8Offset } from "./utf8.js";

/** A JSON object read from one line, or the error that line has. */
export type JsonLine =
  | { line: number; value: Record<string, unknown>; error?: undefined }
  | { line: number; error: DataError; value?: undefined };

const BLANK = /^[ \t\r]*$/;
const BOM = "\uFEFF";

/**
 * Turns one line's bytes into a JSON object, or a located error.
 * `file` is the name used in messages (the path as the user typed it).
 */
export function parseJsonLine(bytes: Uint8Array, file: string, line: number): JsonLine {
  let text = decodeUtf8Strict(bytes);
  if (text === null) {
    const at = firstInvalidUtf8Offset(bytes);
    const byte = bytes[at] ?? 0;
    const hex = byte.toString(16).padStart(2, "0");
    return { line, error: new DataError(file, line, "-", `invalid UTF-8 at byte ${at + 1} of the line (0x${hex})`) };
  }
  if (line === 1 && text.startsWith(BOM)) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, error: new DataError(file, line, "-", `not valid JSON (line starts with ${quoteShort(text.trim())})`) };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { line, error: new DataError(file, line, "-", `expected a JSON object, got ${describeValue(value)}`) };
  }
  return { line, value: value as Record<string, unknown> };
}

/** The error for a file without a single record. */
export function noRecordsError(file: string, sawBlankLines: boolean): DataError {
  return new DataError(file, 1, "-", sawBlankLines ? "no records (only blank lines)" : "no records (the file is empty)");
}

/**
 * Yields every non-blank line of `path` as a JSON object or an error, in
 * order, without loading the file; ends with a "no records" error when the
 * file holds no non-blank line. `displayName` names the file in messages;
 * `gzip` reads a gzip-compressed file (`.jsonl.gz`).
 */
export async function* readJsonLines(path: string, displayName: string = path, gzip = false): AsyncGenerator<JsonLine> {
  let sawContent = false;
  let sawBlank = false;
  for await (const { line, bytes } of readLines(path, { gzip, displayName })) {
    // Cheap blank test on bytes first; most lines start with "{".
    if (bytes.length === 0 || (bytes[0] !== 0x7b && BLANK.test(bytes.toString("latin1")))) {
      sawBlank = true;
      continue;
    }
    sawContent = true;
    yield parseJsonLine(bytes, displayName, line);
  }
  if (!sawContent) yield { line: 1, error: noRecordsError(displayName, sawBlank) };
}
