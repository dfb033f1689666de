/**
 * Built-in rule scorers, for tests and demos (no model, no network):
 * - `rule:length`: the response's length in characters (code points);
 * - `rule:regex:PATTERN`: 1 when the response matches the JavaScript regular
 *   expression PATTERN, else 0;
 * - `rule:keyword:WORD[,WORD...]`: how many of the words the response
 *   contains (case-insensitive);
 * - `rule:exact`: 1 when the response, trimmed, equals the prompt record's
 *   `answer` field, trimmed; else 0 (a record without `answer` is an error).
 */
import { UserError } from "../errors.js";
import type { ScoreItem, Scorer } from "./scorer.js";

type RuleFn = (response: string, item: ScoreItem) => number;

function regexRule(pattern: string, spec: string): RuleFn {
  let re: RegExp;
  try {
    re = new RegExp(pattern, "u");
  } catch (err) {
    throw new UserError(`scorer ${spec}: not a valid regular expression (${(err as Error).message})`);
  }
  return (response) => (re.test(response) ? 1 : 0);
}

function keywordRule(list: string, spec: string): RuleFn {
  const words = list
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== "");
  if (words.length === 0) throw new UserError(`scorer ${spec}: give at least one keyword (rule:keyword:WORD[,WORD...])`);
  return (response) => {
    const text = response.toLowerCase();
    return words.filter((w) => text.includes(w)).length;
  };
}

const exactRule: RuleFn = (response, item) => {
  if (item.answer === undefined) {
    throw new UserError(
      `scorer rule:exact: the record has no "answer" field to compare with (query ${JSON.stringify((item.query ?? "").slice(0, 60))})`,
    );
  }
  return response.trim() === item.answer.trim() ? 1 : 0;
};

/** The rule of a `rule:` SPEC (the part after `rule:`). */
function ruleOf(body: string, spec: string): RuleFn {
  const colon = body.indexOf(":");
  const name = colon < 0 ? body : body.slice(0, colon);
  const arg = colon < 0 ? null : body.slice(colon + 1);
  const needArg = (what: string): string => {
    if (arg === null || arg === "") throw new UserError(`scorer ${spec}: give ${what} (rule:${name}:${what.toUpperCase()})`);
    return arg;
  };
  if (name === "length" && arg === null) return (response) => [...response].length;
  if (name === "exact" && arg === null) return exactRule;
  if (name === "regex") return regexRule(needArg("pattern"), spec);
  if (name === "keyword") return keywordRule(needArg("words"), spec);
  throw new UserError(`scorer ${spec}: unknown rule (rules: rule:length, rule:regex:PATTERN, rule:keyword:WORD[,WORD...], rule:exact)`);
}

/**
 * A rule scorer from the part of its SPEC after `rule:`.
 *
 * @example
 * const scorer = createRuleScorer("regex:^\\d+$");
 * await scorer.score([{ query: "2+2=", responses: ["4", "four"] }]); // [[1, 0]]
 */
export function createRuleScorer(body: string): Scorer {
  const spec = `rule:${body}`;
  const rule = ruleOf(body, spec);
  return {
    spec,
    score: (items) => Promise.resolve(items.map((item) => item.responses.map((r) => rule(r, item)))),
    close: () => Promise.resolve(),
  };
}
