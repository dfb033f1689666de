/**
 * Where records come from: one function that yields the JSON objects of a
 * data file, whatever its format. The format is chosen by the file's
 * extension unless given:
 *
 * | extension            | format     | unit of location |
 * |----------------------|------------|------------------|
 * | `.parquet`           | `parquet`  | row              |
 * | `.gz` (`.jsonl.gz`)  | `jsonl.gz` | line             |
 * | anything else        | `jsonl`    | line             |
 *
 * @example
 * for await (const entry of readSourceObjects("train.parquet")) if (entry.value) console.log(entry.line);
 */
import { UserError } from "../errors.js";
import { readJsonLines, type JsonLine } from "./jsonl.js";
import { readParquetObjects, type ParquetReadHooks } from "./parquet.js";

/**
 * The input formats every record reader understands.
 *
 * @example
 * INPUT_FORMATS.includes("parquet"); // true
 * for await (const { record } of readRecords("tests/fixtures/formats/records.parquet", { format: "parquet" })) console.log(record.scores);
 */
export const INPUT_FORMATS = ["jsonl", "jsonl.gz", "parquet"] as const;
/**
 * One of {@link INPUT_FORMATS}; by default chosen by the file's extension.
 *
 * @example
 * const format: InputFormat = "jsonl.gz";
 * const report = await validateFile("tests/fixtures/formats/hh.jsonl.gz", { format });
 */
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** How a position in a file is named in errors: a JSONL line or a Parquet row. */
export type LocationUnit = "line" | "row";

/** Options of {@link readSourceObjects}. */
export interface SourceOptions extends ParquetReadHooks {
  /** The input format; by the file's extension when absent. */
  format?: InputFormat;
  /** Name of the file in error messages; the path by default. */
  displayName?: string;
}

/** The format `path` is read as: `format` when given, else by extension (see the module comment). */
export function inputFormatOf(path: string, format?: InputFormat): InputFormat {
  if (format !== undefined) {
    if (!(INPUT_FORMATS as readonly string[]).includes(format)) {
      throw new UserError(`unknown input format "${String(format)}" (expected ${INPUT_FORMATS.join(", ")})`);
    }
    return format;
  }
  const lower = path.toLowerCase();
  if (lower.endsWith(".parquet")) return "parquet";
  if (lower.endsWith(".gz")) return "jsonl.gz";
  return "jsonl";
}

/** The unit errors in a file of `format` are located by. */
export function locationUnitOf(format: InputFormat): LocationUnit {
  return format === "parquet" ? "row" : "line";
}

/**
 * Yields the objects of `path` (lines of JSONL, rows of Parquet) in order, each
 * with its 1-based line or row number, or the error that line has. Streams:
 * JSONL is read line by line, gzip decompressed on the fly, Parquet one row
 * group at a time. Ends with a "no records" error for an empty file.
 */
export async function* readSourceObjects(path: string, opts: SourceOptions = {}): AsyncGenerator<JsonLine> {
  const name = opts.displayName ?? path;
  const format = inputFormatOf(path, opts.format);
  if (format === "parquet") yield* readParquetObjects(path, name, { onRowGroup: opts.onRowGroup });
  else yield* readJsonLines(path, name, format === "jsonl.gz");
}
