/**
 * The shape of one RRHF record, checked with zod, plus the checks zod's
 * shape cannot express (counts that must agree). Unknown extra keys are
 * reported to the caller, which ignores them by default (datasets often
 * carry ids or sources) or rejects them in strict mode.
 */
import { z } from "zod";
import { DataError } from "../errors.js";
import { describeValue, fieldPath } from "./describe.js";
import type { RrhfRecord } from "./record.js";

/** The keys a record has; anything else is "unknown". */
export const RECORD_KEYS: readonly string[] = ["query", "responses", "scores"];

/** Builds a zod error message "expected X, got Y" (or "required field is missing"). */
function expected(what: string) {
  return (iss: { input?: unknown }): string =>
    iss.input === undefined ? "required field is missing" : `expected ${what}, got ${describeValue(iss.input)}`;
}

const scoreSchema = z.number({
  // JSON cannot hold NaN, but 1e999 parses to Infinity.
  error: (iss) =>
    typeof iss.input === "number" ? `must be a finite number, got ${String(iss.input)}` : expected("a number")(iss),
});

/** zod schema of a record's shape (types, non-empty texts, finite scores). */
export const recordSchema = z.object({
  query: z.string({ error: expected("a string") }).min(1, { error: "must not be empty" }),
  responses: z.array(z.string({ error: expected("a string") }).min(1, { error: "must not be empty" }), {
    error: expected("an array of strings"),
  }),
  scores: z.array(scoreSchema, { error: expected("an array of numbers") }),
});

/** Options of record checking. */
export interface RecordCheckOptions {
  /** Fewest responses a record may have; 2 by default (one response has no ranking signal). */
  minResponses?: number;
}

/** The outcome of checking one JSON object. */
export interface RecordCheck {
  /** The record, when there are no problems. */
  record: RrhfRecord | null;
  /** Every problem found, in field order (empty when valid). */
  problems: DataError[];
  /** Keys other than query/responses/scores, in the object's order. */
  unknownKeys: string[];
}

/**
 * The public preference format a non-RRHF object is in, when it is one that
 * `rrhf convert` reads: `{prompt, chosen, rejected}` pairs or Anthropic
 * HH-RLHF `{chosen, rejected}` transcripts; null otherwise.
 */
export function convertibleFormat(value: Record<string, unknown>): "pairs" | "hh" | null {
  if (RECORD_KEYS.some((k) => k in value)) return null;
  if (typeof value.chosen !== "string" || typeof value.rejected !== "string") return null;
  return typeof value.prompt === "string" ? "pairs" : "hh";
}

/** One problem for a whole record in a format `rrhf convert` reads, saying how to convert it. */
function convertibleProblem(format: "pairs" | "hh", file: string, line: number): DataError {
  const shape = format === "pairs" ? "a {prompt, chosen, rejected} pair" : "an HH-RLHF {chosen, rejected} record";
  return new DataError(
    file,
    line,
    "-",
    `${shape}, not an RRHF record {query, responses, scores}; convert the file first: rrhf convert --from ${format} ${file} --out OUT.jsonl`,
  );
}

/** Checks one parsed JSON object against the record contract. */
export function checkRecord(
  value: Record<string, unknown>,
  file: string,
  line: number,
  opts: RecordCheckOptions = {},
): RecordCheck {
  const minResponses = opts.minResponses ?? 2;
  const unknownKeys = Object.keys(value).filter((k) => !RECORD_KEYS.includes(k));
  const format = convertibleFormat(value);
  if (format !== null) return { record: null, problems: [convertibleProblem(format, file, line)], unknownKeys };
  const parsed = recordSchema.safeParse(value);
  const problems: DataError[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(new DataError(file, line, fieldPath(issue.path), issue.message));
  }
  // Counts are checked whenever both arrays are arrays, so one pass reports everything.
  const { responses, scores } = value;
  if (Array.isArray(responses) && responses.length < minResponses) {
    problems.push(new DataError(file, line, "responses", `needs at least ${minResponses} responses, got ${responses.length}`));
  }
  if (Array.isArray(responses) && Array.isArray(scores) && responses.length !== scores.length) {
    problems.push(
      new DataError(file, line, "scores", `has ${scores.length} entries but responses has ${responses.length}`),
    );
  }
  const record = problems.length === 0 && parsed.success ? parsed.data : null;
  return { record, problems, unknownKeys };
}
