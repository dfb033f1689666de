/**
 * The one interface every scorer implements: `(query, responses) → scores`,
 * batched. A reward model, an HTTP endpoint, a command and the built-in
 * rules all look alike to `rrhf score` (and to any later command that
 * scores responses).
 */
import type { ChatMessage } from "../data/record.js";

/**
 * One prompt with the responses to score. A plain-text prompt is `query`; a
 * conversation is `messages` (then `query` is absent). `answer` is the
 * prompt record's `answer` field when it has one (the `rule:exact` scorer
 * compares against it).
 *
 * @example
 * const item: ScoreItem = { query: "2+2=", responses: ["4", "5"], answer: "4" };
 */
export interface ScoreItem {
  query?: string;
  messages?: ChatMessage[];
  responses: string[];
  answer?: string;
}

/**
 * A scorer: one finite score per response, higher is better.
 *
 * @example
 * const scorer: Scorer = await createScorer("rule:length");
 * const [[a, b]] = await scorer.score([{ query: "Hi", responses: ["Hello", "Hey"] }]); // [5, 3]
 * await scorer.close();
 */
export interface Scorer {
  /** The SPEC it was made from, for messages. */
  readonly spec: string;
  /** Scores for each item's responses, in order: `result[i][j]` scores `items[i].responses[j]`. */
  score(items: readonly ScoreItem[]): Promise<number[][]>;
  /** Releases what the scorer holds (a command's process); safe to call twice. */
  close(): Promise<void>;
}

/** The prompt of an item as one text (a conversation as its last user turn), for scorers that read text. */
export function promptText(item: ScoreItem): string {
  if (item.query !== undefined) return item.query;
  const users = (item.messages ?? []).filter((m) => m.role === "user");
  return users.length > 0 ? users[users.length - 1].content : "";
}

/** Checks a scorer's reply for one item: exactly one finite number per response. Returns the problem, or null. */
export function scoresProblem(value: unknown, responses: number): string | null {
  if (value === undefined) return `there is no "scores" key (expected {"scores": [...]})`;
  if (!Array.isArray(value)) return `"scores" must be an array of numbers, got ${JSON.stringify(value)?.slice(0, 80)}`;
  if (value.length !== responses) return `"scores" has ${value.length} entries for ${responses} responses`;
  const bad = value.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (bad < 0) return null;
  const v: unknown = value[bad];
  // JSON.stringify would print an overflowed 1e999 (Infinity) as null.
  return `"scores"[${bad}] is ${typeof v === "number" ? String(v) : JSON.stringify(v)}, not a finite number`;
}
