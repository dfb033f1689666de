/**
 * A person's ranking of one query's responses and the scores it becomes.
 *
 * A ranking lists the responses best first (`order`, response indices) and says
 * for each position whether it ties with the one above (`ties`, `ties[0]` is
 * always false). Scores follow one rule: a response scores the number of
 * responses ranked strictly below it. Without ties the best of k gets k-1 and
 * the worst 0; tied responses get equal scores (A > B = C > D gives A 3, B 1,
 * C 1, D 0). RRHF uses only the order of the scores, so this keeps exactly what
 * the person said.
 *
 * @example
 * scoresFromRanking({ order: [2, 0, 1], ties: [false, false, false] }); // [1, 0, 2]
 * scoresFromRanking({ order: [0, 1, 2], ties: [false, true, false] });  // [1, 1, 0]
 * rankingProblem({ order: [0, 0], ties: [false, false] }, 2);           // "order must list each response index 0..1 once"
 */

/** One query's ranking: response indices best first, and which positions tie with the one above. */
export interface Ranking {
  order: number[];
  ties: boolean[];
}

/** Why `value` is not a ranking of `k` responses, or null when it is one. */
export function rankingProblem(value: unknown, k: number): string | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "expected an object {order, ties}";
  const { order, ties } = value as Record<string, unknown>;
  if (!Array.isArray(order) || order.length !== k) return `order must be an array of ${k} response indices`;
  const seen = new Set<number>();
  for (const i of order) {
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= k || seen.has(i as number)) {
      return `order must list each response index 0..${k - 1} once`;
    }
    seen.add(i as number);
  }
  if (!Array.isArray(ties) || ties.length !== k || !ties.every((t) => typeof t === "boolean")) {
    return `ties must be an array of ${k} booleans`;
  }
  if (ties[0] === true) return "ties[0] must be false (the best response has nothing above it to tie with)";
  return null;
}

/** The tier of each response (0 = best; tied responses share a tier), indexed by response. */
export function tiersOf(ranking: Ranking): number[] {
  const tiers = new Array<number>(ranking.order.length).fill(0);
  let tier = 0;
  ranking.order.forEach((response, position) => {
    if (position > 0 && !ranking.ties[position]) tier += 1;
    tiers[response] = tier;
  });
  return tiers;
}

/** The scores of a ranking, indexed by response: how many responses are ranked strictly below each. */
export function scoresFromRanking(ranking: Ranking): number[] {
  const tiers = tiersOf(ranking);
  return tiers.map((mine) => tiers.filter((other) => other > mine).length);
}
