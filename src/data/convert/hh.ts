/**
 * Anthropic HH-RLHF transcripts: each line has `chosen` and `rejected`, two
 * full dialogues that differ only in the last assistant turn. Each is split
 * at its LAST "\n\nAssistant:"; the query is everything up to and including
 * that marker, the response is the rest (its leading space kept). Both
 * splits must give the same query, otherwise the line is an error.
 */
import { DataError } from "../../errors.js";
import type { RrhfRecord } from "../record.js";
import type { LocationUnit } from "../source.js";
import { requireText } from "./pairs.js";

/** The marker that opens an assistant turn in HH transcripts. */
export const HH_ASSISTANT = "\n\nAssistant:";
const MARKER_SHOWN = JSON.stringify(HH_ASSISTANT);

/** Splits a transcript at its last assistant marker; null when there is none. */
export function splitHhTranscript(transcript: string): { query: string; response: string } | null {
  const at = transcript.lastIndexOf(HH_ASSISTANT);
  if (at === -1) return null;
  const end = at + HH_ASSISTANT.length;
  return { query: transcript.slice(0, end), response: transcript.slice(end) };
}

function splitField(value: Record<string, unknown>, key: string, file: string, line: number, unit: LocationUnit) {
  const split = splitHhTranscript(requireText(value, key, file, line, unit));
  if (split === null) throw new DataError(file, line, key, `no ${MARKER_SHOWN} in the transcript`, unit);
  if (split.response.length === 0) throw new DataError(file, line, key, `empty response after the last ${MARKER_SHOWN}`, unit);
  return split;
}

/** Index of the first character where `a` and `b` differ (the shorter length when one is a prefix). */
function firstDifference(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/**
 * Converts one HH object (from line or row `line` of `file`) to a record with scores [1, 0].
 *
 * @example
 * hhToRecord({ chosen: "\n\nHuman: Hi\n\nAssistant: Hello!", rejected: "\n\nHuman: Hi\n\nAssistant: Go away." }, "hh.jsonl", 1);
 * // { query: "\n\nHuman: Hi\n\nAssistant:", responses: [" Hello!", " Go away."], scores: [1, 0] }
 */
export function hhToRecord(value: Record<string, unknown>, file: string, line: number, unit: LocationUnit = "line"): RrhfRecord {
  const chosen = splitField(value, "chosen", file, line, unit);
  const rejected = splitField(value, "rejected", file, line, unit);
  if (chosen.query !== rejected.query) {
    const at = firstDifference(chosen.query, rejected.query);
    throw new DataError(
      file,
      line,
      "rejected",
      `dialogue before the last ${MARKER_SHOWN} differs from chosen's (first difference at character ${at + 1})`,
      unit,
    );
  }
  return { query: chosen.query, responses: [chosen.response, rejected.response], scores: [1, 0] };
}
