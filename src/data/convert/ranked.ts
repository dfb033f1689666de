/**
 * Ranked responses: `{"prompt": ..., "responses": [...], "ranks": [...]}` with
 * rank 1 the best. Scores come from ranks as `score = k - rank` for k
 * responses, so the best gets k-1 and rank k gets 0; equal ranks (ties) give
 * equal scores. Ranks must be integers from 1 to k. `prompt` may be text or
 * a conversation (an array of messages, see messages.ts).
 */
import { describeValue } from "../describe.js";
import { checkMessages, errorAt, type Place } from "../messages.js";
import type { RrhfRecord } from "../record.js";
import { requireText, textAt } from "./pairs.js";

/** The scores `score = k - rank` of ranks (1 = best) of k responses. */
export function scoresFromRanks(ranks: readonly number[]): number[] {
  return ranks.map((r) => ranks.length - r);
}

function requireTexts(value: Record<string, unknown>, key: string, place: Place): string[] {
  const list = value[key];
  if (!Array.isArray(list)) {
    throw errorAt(
      place,
      key,
      list === undefined ? "required field is missing" : `expected an array of strings, got ${describeValue(list)}`,
    );
  }
  return list.map((text, i) => textAt(text, `${key}[${i}]`, place));
}

function requireRanks(value: Record<string, unknown>, k: number, place: Place): number[] {
  const ranks = value.ranks;
  if (!Array.isArray(ranks)) {
    throw errorAt(
      place,
      "ranks",
      ranks === undefined ? "required field is missing" : `expected an array of numbers, got ${describeValue(ranks)}`,
    );
  }
  if (ranks.length !== k) throw errorAt(place, "ranks", `has ${ranks.length} entries but responses has ${k}`);
  ranks.forEach((r, i) => {
    if (typeof r !== "number" || !Number.isInteger(r) || r < 1 || r > k) {
      throw errorAt(place, `ranks[${i}]`, `expected an integer rank from 1 (best) to ${k}, got ${describeValue(r)}`);
    }
  });
  return ranks as number[];
}

/** Converts one ranked object to a record (scores from ranks, see the module comment). */
export function rankedToRecord(value: Record<string, unknown>, place: Place): RrhfRecord {
  const responses = requireTexts(value, "responses", place);
  if (responses.length < 2) throw errorAt(place, "responses", `needs at least 2 responses, got ${responses.length}`);
  const scores = scoresFromRanks(requireRanks(value, responses.length, place));
  if (Array.isArray(value.prompt)) {
    const checked = checkMessages(value.prompt, place, "prompt");
    if (checked.messages === null) throw checked.problems[0];
    return { messages: checked.messages, responses, scores };
  }
  return { query: requireText(value, "prompt", place.file, place.line, place.unit), responses, scores };
}
