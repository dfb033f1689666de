/**
 * One training example: a query with k >= 2 candidate responses and their
 * scores (higher is better). This is the in-memory form of one JSONL line.
 *
 * @example
 * const r: RrhfRecord = { query: "\n\nHuman: Hi\n\nAssistant:", responses: [" Hello!", " Go away."], scores: [1, 0] };
 */
export interface RrhfRecord {
  query: string;
  responses: string[];
  scores: number[];
}
