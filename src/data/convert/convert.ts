/**
 * `rrhf convert`: public preference formats to RRHF JSONL, streaming and
 * atomic (the output appears only when every input line converted).
 *
 * @example
 * const { records } = await convertFile("hh", "train.jsonl", "train.rrhf.jsonl");
 */
import { assertDistinctPaths } from "../../io/paths.js";
import { readJsonLines } from "../jsonl.js";
import { assertReadableFile } from "../lines.js";
import type { RrhfRecord } from "../record.js";
import { writeStreamAtomic } from "../atomic-writer.js";
import { hhToRecord } from "./hh.js";
import { pairToRecord } from "./pairs.js";

/** Input formats `convert` understands. */
export const CONVERT_FORMATS = ["pairs", "hh"] as const;
export type ConvertFormat = (typeof CONVERT_FORMATS)[number];

const converters: Record<ConvertFormat, (value: Record<string, unknown>, file: string, line: number) => RrhfRecord> = {
  pairs: pairToRecord,
  hh: hhToRecord,
};

/** One record as its JSONL line (keys in contract order, `\n`-terminated). */
export function recordToJsonLine(record: RrhfRecord): string {
  return `${JSON.stringify({ query: record.query, responses: record.responses, scores: record.scores })}\n`;
}

/** Options of `convertFile`. */
export interface ConvertOptions {
  /** Name of the input in error messages; the path by default. */
  displayName?: string;
}

/**
 * Converts `input` (format `from`) to RRHF JSONL at `output`. Throws the
 * first problem as a `DataError` (`file:line: field: problem`) and then
 * leaves no output file.
 */
export async function convertFile(
  from: ConvertFormat,
  input: string,
  output: string,
  opts: ConvertOptions = {},
): Promise<{ records: number }> {
  const toRecord = converters[from];
  const file = opts.displayName ?? input;
  await assertReadableFile(input); // before touching the output directory
  // The output replaces OUT only at the end, but IN would then be lost.
  assertDistinctPaths("input", input, "--out", output);
  return writeStreamAtomic(output, async (write) => {
    let records = 0;
    for await (const entry of readJsonLines(input, file)) {
      if (entry.error !== undefined) throw entry.error;
      await write(recordToJsonLine(toRecord(entry.value, file, entry.line)));
      records += 1;
    }
    return { records };
  });
}
