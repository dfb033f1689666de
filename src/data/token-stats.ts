/**
 * Token statistics of a data set: length percentiles of queries and
 * responses and, under a `model_max_length` budget, how many responses get
 * truncated or emptied. The tokenizer itself is reached through the small
 * `RecordTokenMeasure` interface, so the data layer does not depend on the
 * tokenize layer (which depends on the data layer's record type).
 */
import { LengthHistogram, type LengthSummary } from "./histogram.js";
import type { RrhfRecord } from "./record.js";

/** One record measured in tokens. */
export interface RecordTokens {
  /** Query length with the tokenizer's special tokens (e.g. a BOS), before truncation. */
  query: number;
  /** Each response's length without special tokens and without the EOS, before truncation. */
  responses: number[];
  /** The budget cut the query (null when there is no budget). */
  queryTruncated: boolean | null;
  /** Per response: the budget cut it but left some tokens (null when there is no budget). */
  truncated: boolean[] | null;
  /** Per response: the budget left it no tokens at all. */
  emptied: boolean[] | null;
}

/** Measures records in tokens; see `RecordTokens` for what is counted. */
export interface RecordTokenMeasure {
  /** The budget truncation is judged against, or null for lengths only. */
  readonly modelMaxLength: number | null;
  measure(record: RrhfRecord): RecordTokens;
}

/**
 * Token statistics in the validate report.
 *
 * @example
 * const report = await validateFile("data.jsonl", { tokens: measure }); // measure: the tokenizer and budget, as `rrhf validate --tokenizer` builds it
 * console.log(report.tokens?.response.p99, report.tokens?.truncation?.emptied_responses);
 */
export interface TokenSummary {
  query: LengthSummary;
  response: LengthSummary;
  /** Present when a budget was given. */
  truncation: {
    model_max_length: number;
    truncated_queries: number;
    /** Responses cut but not emptied (a cut response also loses its EOS). */
    truncated_responses: number;
    emptied_responses: number;
    /** Queries with at least one truncated or emptied response. */
    queries_with_truncation: number;
  } | null;
}

/** Accumulates `TokenSummary` one record at a time. */
export class TokenStatsBuilder {
  private readonly queries = new LengthHistogram();
  private readonly responses = new LengthHistogram();
  private truncated = 0;
  private emptied = 0;
  private queriesTruncated = 0;
  private queriesCut = 0;

  constructor(private readonly measure: RecordTokenMeasure) {}

  /** Adds a record; returns the indices of its responses the budget empties. */
  add(record: RrhfRecord): number[] {
    const m = this.measure.measure(record);
    this.queries.add(m.query);
    for (const n of m.responses) this.responses.add(n);
    const emptiedIdx: number[] = [];
    if (m.queryTruncated === true) this.queriesCut += 1;
    if (m.truncated !== null) {
      this.truncated += m.truncated.filter(Boolean).length;
    }
    if (m.emptied !== null) {
      m.emptied.forEach((e, i) => {
        if (e) emptiedIdx.push(i);
      });
      this.emptied += emptiedIdx.length;
    }
    if (m.truncated?.some(Boolean) || emptiedIdx.length > 0) this.queriesTruncated += 1;
    return emptiedIdx;
  }

  build(): TokenSummary {
    const budget = this.measure.modelMaxLength;
    return {
      query: this.queries.summary(),
      response: this.responses.summary(),
      truncation:
        budget === null
          ? null
          : {
              model_max_length: budget,
              truncated_queries: this.queriesCut,
              truncated_responses: this.truncated,
              emptied_responses: this.emptied,
              queries_with_truncation: this.queriesTruncated,
            },
    };
  }
}
