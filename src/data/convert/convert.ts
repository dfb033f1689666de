/**
 * `rrhf convert`: public preference formats to RRHF JSONL, streaming and
 * atomic (the output appears only when the conversion succeeded). Inputs are
 * JSONL, gzip-compressed JSONL or Parquet (by extension, or `format`).
 *
 * Strict by default: the first bad row stops the conversion with
 * `file:line: field: problem`. With `skipInvalid`, bad rows are counted and
 * skipped (the first few kept for the report); a file with no good row at
 * all is still an error.
 *
 * @example
 * const { records } = await convertFile("hh", "train.jsonl.gz", "train.rrhf.jsonl");
 */
import { DataError, UserError } from "../../errors.js";
import { assertDistinctPaths } from "../../io/paths.js";
import { writeStreamAtomic } from "../atomic-writer.js";
import { assertReadableFile } from "../lines.js";
import type { Place } from "../messages.js";
import type { RrhfRecord } from "../record.js";
import { inputFormatOf, locationUnitOf, readSourceObjects, type InputFormat } from "../source.js";
import { chatPairToRecord } from "./chat-pairs.js";
import { hhToRecord } from "./hh.js";
import { pairToRecord } from "./pairs.js";
import { rankedToRecord } from "./ranked.js";
import { DEFAULT_SCORE_FIELD, ultrafeedbackToRecord } from "./ultrafeedback.js";

/**
 * Input formats `convert` understands.
 *
 * @example
 * await convertFile(CONVERT_FORMATS[0], "pairs.jsonl", "rrhf.jsonl"); // "pairs"
 */
export const CONVERT_FORMATS = ["pairs", "hh", "ultrafeedback", "chat-pairs", "ranked"] as const;
/**
 * An input format `convertFile` understands.
 *
 * @example
 * const from: ConvertFormat = "hh"; // or "pairs", "ultrafeedback", "chat-pairs", "ranked"
 */
export type ConvertFormat = (typeof CONVERT_FORMATS)[number];

/** How many skipped rows a report names (all are counted). */
export const MAX_SKIPPED_SHOWN = 5;

type Converter = (value: Record<string, unknown>, place: Place, opts: ConvertOptions) => RrhfRecord;

const converters: Record<ConvertFormat, Converter> = {
  pairs: (v, p) => pairToRecord(v, p.file, p.line, p.unit),
  hh: (v, p) => hhToRecord(v, p.file, p.line, p.unit),
  ultrafeedback: (v, p, o) => ultrafeedbackToRecord(v, p, o.scoreField ?? DEFAULT_SCORE_FIELD),
  "chat-pairs": chatPairToRecord,
  ranked: rankedToRecord,
};

/** One record as its JSONL line (keys in contract order, `\n`-terminated). */
export function recordToJsonLine(record: RrhfRecord): string {
  const prompt = record.messages !== undefined ? { messages: record.messages } : { query: record.query };
  return `${JSON.stringify({ ...prompt, responses: record.responses, scores: record.scores })}\n`;
}

/**
 * Options of `convertFile`.
 *
 * @example
 * await convertFile("pairs", "/tmp/upload-1234.jsonl", "rrhf.jsonl", { displayName: "pairs.jsonl" });
 */
export interface ConvertOptions {
  /** Name of the input in error messages; the path by default. */
  displayName?: string;
  /** The input's format; by extension when absent (`.parquet`, `.gz`, else JSONL). */
  format?: InputFormat;
  /** Skip bad rows (counted, the first few reported) instead of stopping at the first. */
  skipInvalid?: boolean;
  /** `ultrafeedback`: which rating is the score (default `overall_score`). */
  scoreField?: string;
}

/** What `convertFile` did. */
export interface ConvertResult {
  /** Records written. */
  records: number;
  /** Rows skipped as invalid (only with `skipInvalid`). */
  skipped: number;
  /** The first {@link MAX_SKIPPED_SHOWN} skipped rows' problems, in file order. */
  skippedErrors: DataError[];
}

/**
 * Converts `input` (format `from`) to RRHF JSONL at `output`. Throws the
 * first problem as a `DataError` (`file:line: field: problem`, or
 * `file:row N: ...` for Parquet) unless `skipInvalid`, and then leaves no
 * output file.
 */
export async function convertFile(from: ConvertFormat, input: string, output: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const toRecord = converters[from];
  const file = opts.displayName ?? input;
  const unit = locationUnitOf(inputFormatOf(input, opts.format));
  await assertReadableFile(input); // before touching the output directory
  // The output replaces OUT only at the end, but IN would then be lost.
  assertDistinctPaths("input", input, "--out", output);
  return writeStreamAtomic(output, async (write) => {
    const result: ConvertResult = { records: 0, skipped: 0, skippedErrors: [] };
    const skip = (err: DataError): void => {
      if (opts.skipInvalid !== true) throw err;
      result.skipped += 1;
      if (result.skippedErrors.length < MAX_SKIPPED_SHOWN) result.skippedErrors.push(err);
    };
    for await (const entry of readSourceObjects(input, { format: opts.format, displayName: file })) {
      if (entry.error !== undefined) {
        skip(entry.error);
        continue;
      }
      let record: RrhfRecord;
      try {
        record = toRecord(entry.value, { file, line: entry.line, unit }, opts);
      } catch (err) {
        if (err instanceof DataError) {
          skip(err);
          continue;
        }
        throw err;
      }
      await write(recordToJsonLine(record));
      result.records += 1;
    }
    if (result.records === 0) {
      const first = result.skippedErrors[0];
      throw first !== undefined && result.skipped === 1
        ? first
        : new UserError(`${file}: no valid rows (${result.skipped} skipped; the first: ${first?.message ?? "-"})`);
    }
    return result;
  });
}
