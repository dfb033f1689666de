/**
 * UltraFeedback (openbmb/UltraFeedback): one prompt, several completions, each
 * rated. A row is
 * `{"instruction": ..., "completions": [{"response": ..., "overall_score": 7.5,
 *   "fine-grained_score": 4.25, "annotations": {"helpfulness": {"Rating": "4", ...}, ...}}, ...]}`
 * and becomes `{query: instruction, responses: [every response], scores: [their score]}`.
 *
 * The score is the completion's `overall_score` unless `scoreField` names
 * another: a key of the completion (`fine-grained_score`) or an annotation
 * aspect (`helpfulness`, `honesty`, `instruction_following`, `truthfulness`),
 * whose `Rating` is used. Ratings may be numbers or numeric strings; a
 * completion whose rating is null or "N/A" is left out (a row needs two
 * rated completions).
 *
 * The binarized variant (HuggingFaceH4/ultrafeedback_binarized):
 * `{"chosen": [messages], "rejected": [messages], "score_chosen": 8, "score_rejected": 5}`
 * becomes a `messages` record scored with `score_chosen` and `score_rejected`.
 */
import { describeValue } from "../describe.js";
import { errorAt, type Place } from "../messages.js";
import type { RrhfRecord } from "../record.js";
import { conversationPairToRecord } from "./chat-pairs.js";
import { textAt } from "./pairs.js";

/** The rating used when no `scoreField` is given. */
export const DEFAULT_SCORE_FIELD = "overall_score";

/** A rating as a number; null when it is unrated ("N/A", null); a located error when it is not a number. */
function ratingValue(value: unknown, field: string, place: Place): number | null {
  if (value === null || value === "N/A") return null;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) throw errorAt(place, field, `expected a numeric rating, got ${describeValue(value)}`);
  return n;
}

/** The `scoreField` rating of completion `i` (see the module comment), or null when unrated. */
function completionScore(completion: Record<string, unknown>, i: number, scoreField: string, place: Place): number | null {
  const at = `completions[${i}]`;
  if (scoreField in completion) return ratingValue(completion[scoreField], `${at}.${scoreField}`, place);
  const annotations = completion.annotations;
  const aspect = annotations !== null && typeof annotations === "object" ? (annotations as Record<string, unknown>)[scoreField] : undefined;
  if (aspect === null || typeof aspect !== "object" || !("Rating" in aspect)) {
    throw errorAt(place, at, `no "${scoreField}" rating (neither a key of the completion nor annotations.${scoreField}.Rating)`);
  }
  return ratingValue((aspect as Record<string, unknown>).Rating, `${at}.annotations.${scoreField}.Rating`, place);
}

function requireScore(value: Record<string, unknown>, key: string, place: Place): number {
  const n = ratingValue(value[key] ?? null, key, place);
  if (n === null) throw errorAt(place, key, "required score is missing");
  return n;
}

/** Converts one UltraFeedback row (raw or binarized) to a record. */
export function ultrafeedbackToRecord(value: Record<string, unknown>, place: Place, scoreField = DEFAULT_SCORE_FIELD): RrhfRecord {
  if (value.completions === undefined && Array.isArray(value.chosen)) {
    const scores: [number, number] = [requireScore(value, "score_chosen", place), requireScore(value, "score_rejected", place)];
    return conversationPairToRecord(value, place, scores);
  }
  const query = textAt(value.instruction, "instruction", place);
  const completions = value.completions;
  if (!Array.isArray(completions)) {
    throw errorAt(
      place,
      "completions",
      completions === undefined ? "required field is missing" : `expected an array, got ${describeValue(completions)}`,
    );
  }
  const responses: string[] = [];
  const scores: number[] = [];
  completions.forEach((c, i) => {
    if (c === null || typeof c !== "object" || Array.isArray(c))
      throw errorAt(place, `completions[${i}]`, `expected an object, got ${describeValue(c)}`);
    const completion = c as Record<string, unknown>;
    const score = completionScore(completion, i, scoreField, place);
    if (score === null) return;
    responses.push(textAt(completion.response, `completions[${i}].response`, place));
    scores.push(score);
  });
  if (responses.length < 2) {
    throw errorAt(
      place,
      "completions",
      `needs at least 2 completions rated by ${scoreField}, got ${responses.length} (of ${completions.length})`,
    );
  }
  return { query, responses, scores };
}
