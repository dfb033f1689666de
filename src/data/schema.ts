/**
 * The shape of one RRHF record, checked with zod, plus the checks zod's
 * shape cannot express (counts that must agree, exactly one of `query` and
 * `messages`, the order of a conversation's turns). Unknown extra keys are
 * reported to the caller, which ignores them by default (datasets often
 * carry ids or sources) or rejects them in strict mode.
 */
import { z } from "zod";
import { DataError } from "../errors.js";
import { describeValue, fieldPath } from "./describe.js";
import { checkMessages, errorAt, type Place } from "./messages.js";
import type { ChatMessage, RrhfRecord } from "./record.js";

/** The keys a record has; anything else is "unknown". */
export const RECORD_KEYS: readonly string[] = ["query", "messages", "responses", "scores"];

/** Builds a zod error message "expected X, got Y" (or "required field is missing"). */
function expected(what: string) {
  return (iss: { input?: unknown }): string =>
    iss.input === undefined ? "required field is missing" : `expected ${what}, got ${describeValue(iss.input)}`;
}

const scoreSchema = z.number({
  // JSON cannot hold NaN, but 1e999 parses to Infinity.
  error: (iss) => (typeof iss.input === "number" ? `must be a finite number, got ${String(iss.input)}` : expected("a number")(iss)),
});

/**
 * zod schema of a record's shape (types, non-empty texts, finite scores).
 * `query` is optional here because a record may carry `messages` instead;
 * {@link checkRecord} requires exactly one and checks the messages.
 */
export const recordSchema = z.object({
  query: z
    .string({ error: expected("a string") })
    .min(1, { error: "must not be empty" })
    .optional(),
  responses: z.array(z.string({ error: expected("a string") }).min(1, { error: "must not be empty" }), {
    error: expected("an array of strings"),
  }),
  scores: z.array(scoreSchema, { error: expected("an array of numbers") }),
});

/** Options of record checking. */
export interface RecordCheckOptions {
  /** Fewest responses a record may have; 2 by default (one response has no ranking signal). */
  minResponses?: number;
  /** "row" when `line` is a Parquet row number (errors then say `file:row N:`); "line" by default. */
  unit?: "line" | "row";
}

/** The outcome of checking one JSON object. */
export interface RecordCheck {
  /** The record, when there are no problems. */
  record: RrhfRecord | null;
  /** Every problem found, in field order (empty when valid). */
  problems: DataError[];
  /** Keys other than query/messages/responses/scores, in the object's order. */
  unknownKeys: string[];
}

/** The prompt of a record: `query` or `messages`, exactly one; problems otherwise. */
function checkPrompt(value: Record<string, unknown>, place: Place): { messages: ChatMessage[] | null; problems: DataError[] } {
  if (value.messages === undefined) {
    const problems = value.query === undefined ? [errorAt(place, "query", "required field is missing (give query or messages)")] : [];
    return { messages: null, problems };
  }
  if (value.query !== undefined) {
    return { messages: null, problems: [errorAt(place, "messages", "a record has query or messages, not both")] };
  }
  return checkMessages(value.messages, place);
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
function convertibleProblem(format: "pairs" | "hh", place: Place): DataError {
  const shape = format === "pairs" ? "a {prompt, chosen, rejected} pair" : "an HH-RLHF {chosen, rejected} record";
  return errorAt(
    place,
    "-",
    `${shape}, not an RRHF record {query, responses, scores}; convert the file first: rrhf convert --from ${format} ${place.file} --out OUT.jsonl`,
  );
}

/** Checks one parsed JSON object against the record contract. */
export function checkRecord(value: Record<string, unknown>, file: string, line: number, opts: RecordCheckOptions = {}): RecordCheck {
  const minResponses = opts.minResponses ?? 2;
  const place: Place = { file, line, unit: opts.unit ?? "line" };
  const unknownKeys = Object.keys(value).filter((k) => !RECORD_KEYS.includes(k));
  const format = convertibleFormat(value);
  if (format !== null) return { record: null, problems: [convertibleProblem(format, place)], unknownKeys };
  const prompt = checkPrompt(value, place);
  const problems: DataError[] = [...prompt.problems];
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(errorAt(place, fieldPath(issue.path), issue.message));
  }
  // Counts are checked whenever both arrays are arrays, so one pass reports everything.
  const { responses, scores } = value;
  if (Array.isArray(responses) && responses.length < minResponses) {
    problems.push(errorAt(place, "responses", `needs at least ${minResponses} responses, got ${responses.length}`));
  }
  if (Array.isArray(responses) && Array.isArray(scores) && responses.length !== scores.length) {
    problems.push(errorAt(place, "scores", `has ${scores.length} entries but responses has ${responses.length}`));
  }
  if (problems.length > 0 || !parsed.success) return { record: null, problems, unknownKeys };
  const { query, responses: texts, scores: numbers } = parsed.data;
  const record: RrhfRecord =
    prompt.messages !== null
      ? { messages: prompt.messages, responses: texts, scores: numbers }
      : { query: query as string, responses: texts, scores: numbers };
  return { record, problems, unknownKeys };
}
