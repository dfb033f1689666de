/**
 * Parquet input with `hyparquet`, one row group at a time: the footer is read
 * first, then each row group's column chunks are fetched and decoded only
 * when the reader reaches it, so memory holds one row group's rows, never the
 * whole file. Rows come out as plain JSON-like objects:
 * - INT64 values (bigint) become numbers;
 * - a top-level column that is null in a row counts as absent (Parquet has no
 *   "missing key", only nulls), so `{query: null, messages: [...]}` is a
 *   messages record;
 * - nested lists and structs become arrays and objects.
 * Row numbers are 1-based across the whole file.
 *
 * @example
 * for await (const row of readParquetObjects("train.parquet")) console.log(row.line, row.value);
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { DataError, UserError } from "../errors.js";
import type { JsonLine } from "./jsonl.js";
import { assertReadableFile } from "./lines.js";

/** Options of {@link readParquetObjects}. */
export interface ParquetReadHooks {
  /** Called with the number of rows decoded and held in memory each time a row group is read (for tests and progress). */
  onRowGroup?: (rows: number) => void;
}

/** A decoded Parquet value as JSON would have it: bigints to numbers, recursively. */
function toJsonLike(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(toJsonLike);
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonLike(v);
    return out;
  }
  return value;
}

/** One row as a record-like object: null top-level columns dropped, the rest made JSON-like. */
function rowObject(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (v !== null && v !== undefined) out[k] = toJsonLike(v);
  return out;
}

async function readFooter(file: AsyncBuffer, name: string): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(file);
  } catch (err) {
    throw new UserError(`${name}: not a readable Parquet file (${(err as Error).message})`);
  }
}

/**
 * Yields every row of the Parquet data in `file` as an object, row group by
 * row group. `name` names the file in errors.
 */
export async function* parquetObjects(file: AsyncBuffer, name: string, hooks: ParquetReadHooks = {}): AsyncGenerator<JsonLine> {
  const metadata = await readFooter(file, name);
  let rowStart = 0;
  for (const [index, group] of metadata.row_groups.entries()) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors });
    } catch (err) {
      throw new UserError(`${name}: row group ${index + 1} (rows ${rowStart + 1}-${rowEnd}): cannot decode (${(err as Error).message})`);
    }
    hooks.onRowGroup?.(rows.length);
    for (const [i, row] of rows.entries()) yield { line: rowStart + i + 1, value: rowObject(row) };
    rowStart = rowEnd;
  }
  if (rowStart === 0) yield { line: 1, error: new DataError(name, 1, "-", "no records (the file has no rows)", "row") };
}

/** Yields every row of the Parquet file `path` (see {@link parquetObjects}). */
export async function* readParquetObjects(
  path: string,
  displayName: string = path,
  hooks: ParquetReadHooks = {},
): AsyncGenerator<JsonLine> {
  await assertReadableFile(path);
  yield* parquetObjects(await asyncBufferFromFile(path), displayName, hooks);
}
