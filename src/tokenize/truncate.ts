/**
 * Paper-mode truncation to a length budget (pure, on token ids).
 *
 * A row is `query ++ response ++ [eos]`. When a record's longest row is
 * longer than `maxLength`:
 * 1. the query's text tokens are cut from the LEFT (its end — the latest turn
 *    and the "Assistant:" cue — is kept; special tokens such as BOS are kept),
 *    only as much as that longest row needs and never below
 *    `floor(maxLength * maxQueryShare)` tokens; a query already within its
 *    share is never cut;
 * 2. then `response ++ [eos]` is cut from the RIGHT. A cut response therefore
 *    loses its EOS: the answer did not end there, so teaching the model to stop
 *    there would be wrong. (The official code cuts the whole sequence at the
 *    budget, which also drops the EOS.)
 */
import type { EncodedParts } from "./parts.js";

/**
 * Default share of the budget a long query may keep (see {@link truncateRecord}):
 * half, so a long multi-turn query cannot crowd out the answer being scored,
 * while short queries are never touched.
 */
export const DEFAULT_MAX_QUERY_SHARE = 0.5;

/** What truncation did to one record (one query, its k responses). */
export interface TruncatedRecord {
  /** The query's ids after cutting (special tokens kept); the same for every response, so rows share a prefix. */
  query_ids: number[];
  queryCut: boolean;
  /** Per response: ids to score, ending with EOS only when the response was not cut. */
  responses: { response_ids: number[]; cut: boolean }[];
}

/**
 * Applies the budget to one record. The query is cut once, for its longest
 * response, so all k rows keep the same query (a shared prefix).
 * `maxLength` null means no limit.
 * @example
 * truncateRecord({ prefix: [], body: [1, 2, 3, 4], suffix: [] }, [[5, 6, 7]], 0, 6, 0.5);
 * // query cut by one to [2, 3, 4] (its share is 3), response [5, 6, 7] loses its EOS 0
 */
export function truncateRecord(
  query: EncodedParts,
  responses: number[][],
  eos: number,
  maxLength: number | null,
  maxQueryShare: number,
): TruncatedRecord {
  const special = query.prefix.length + query.suffix.length;
  const queryLength = special + query.body.length;
  const longest = responses.reduce((m, r) => Math.max(m, r.length + 1), 0);
  const overflow = maxLength === null ? 0 : queryLength + longest - maxLength;
  let queryCutBy = 0;
  if (maxLength !== null && overflow > 0) {
    const queryShare = Math.floor(maxLength * maxQueryShare);
    // Text tokens the query may lose: down to its share, never its special tokens.
    const cuttable = Math.max(0, Math.min(query.body.length, queryLength - queryShare));
    queryCutBy = Math.min(overflow, cuttable);
  }
  const query_ids = [...query.prefix, ...query.body.slice(queryCutBy), ...query.suffix];
  const room = maxLength === null ? Infinity : Math.max(0, maxLength - query_ids.length);
  return {
    query_ids,
    queryCut: queryCutBy > 0,
    responses: responses.map((r) => {
      const withEos = [...r, eos];
      const kept = withEos.length <= room ? withEos : withEos.slice(0, room);
      return { response_ids: kept, cut: kept.length < withEos.length };
    }),
  };
}
