/**
 * Data-set statistics that need no tokenizer: how many queries, how many
 * responses each, and score ties (equal scores give the ranking loss nothing
 * to learn from, so users want to see how many there are).
 */
import type { RrhfRecord } from "./record.js";

/**
 * Statistics of the valid records of a file (HF-style snake_case keys, stable in JSON).
 *
 * @example
 * const { summary } = await validateFile("tests/fixtures/train/tiny-train.jsonl");
 * console.log(summary.queries, summary.responses_per_query.mean, summary.score_ties.all_tied_queries);
 */
export interface DataSummary {
  queries: number;
  responses: number;
  responses_per_query: {
    min: number | null;
    mean: number | null;
    max: number | null;
    /** How many queries have each response count, e.g. `{"2": 10, "6": 3}`. */
    counts: Record<string, number>;
  };
  score_ties: {
    /** All response pairs (i < j) over all queries. */
    pairs: number;
    /** Pairs with equal scores (they contribute nothing to the ranking loss). */
    tied_pairs: number;
    /** Queries with at least one tied pair. */
    queries_with_ties: number;
    /** Queries whose scores are all equal: no ranking signal at all, SFT only. */
    all_tied_queries: number;
  };
  /** Extra keys seen (ignored by the reader) and on how many lines each. */
  unknown_keys: Record<string, number>;
}

/** Tied pairs of one score list: for each run of g equal scores, g·(g−1)/2 pairs. */
export function countTiedPairs(scores: readonly number[]): number {
  const runs = new Map<number, number>();
  for (const s of scores) runs.set(s, (runs.get(s) ?? 0) + 1);
  let tied = 0;
  for (const g of runs.values()) tied += (g * (g - 1)) / 2;
  return tied;
}

/** Accumulates a `DataSummary` one record at a time (constant memory in the number of records). */
export class SummaryBuilder {
  private queries = 0;
  private responses = 0;
  private minK = Infinity;
  private maxK = -Infinity;
  private readonly kCounts = new Map<number, number>();
  private pairs = 0;
  private tiedPairs = 0;
  private queriesWithTies = 0;
  private allTied = 0;
  private readonly unknown = new Map<string, number>();

  add(record: RrhfRecord, unknownKeys: readonly string[] = []): void {
    const k = record.responses.length;
    this.queries += 1;
    this.responses += k;
    this.minK = Math.min(this.minK, k);
    this.maxK = Math.max(this.maxK, k);
    this.kCounts.set(k, (this.kCounts.get(k) ?? 0) + 1);
    const pairs = (k * (k - 1)) / 2;
    const tied = countTiedPairs(record.scores);
    this.pairs += pairs;
    this.tiedPairs += tied;
    if (tied > 0) this.queriesWithTies += 1;
    if (pairs > 0 && tied === pairs) this.allTied += 1;
    for (const key of unknownKeys) this.unknown.set(key, (this.unknown.get(key) ?? 0) + 1);
  }

  build(): DataSummary {
    const empty = this.queries === 0;
    const counts: Record<string, number> = {};
    for (const k of [...this.kCounts.keys()].sort((a, b) => a - b)) counts[String(k)] = this.kCounts.get(k) ?? 0;
    // fromEntries defines own properties: a plain assignment would turn a "__proto__" key into a prototype change and lose it.
    const unknown: Record<string, number> = Object.fromEntries(
      [...this.unknown.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    return {
      queries: this.queries,
      responses: this.responses,
      responses_per_query: {
        min: empty ? null : this.minK,
        mean: empty ? null : this.responses / this.queries,
        max: empty ? null : this.maxK,
        counts,
      },
      score_ties: {
        pairs: this.pairs,
        tied_pairs: this.tiedPairs,
        queries_with_ties: this.queriesWithTies,
        all_tied_queries: this.allTied,
      },
      unknown_keys: unknown,
    };
  }
}
