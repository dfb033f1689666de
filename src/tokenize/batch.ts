/**
 * The query-grouped batch: the one contract between tokenisation, the
 * models and the RRHF loss (and, later, generation: one prompt, k
 * continuations).
 *
 * For each query its ids ONCE, and its k responses (response ids, EOS
 * included) back to back, with offsets computed here and never re-derived:
 *
 * ```
 * queryIds      [Σ|x_q|]      query q = queryIds[queryIdStart[q] .. queryIdStart[q+1])
 * queryRowStart [queries+1]   query q owns responses (rows) queryRowStart[q] .. queryRowStart[q+1]-1
 * responseIds   [Σ|y_i|]      response i = responseIds[responseTokenStart[i] .. responseTokenStart[i+1])
 * rowQuery      [rows]        the query of response i (the inverse of queryRowStart)
 * scores        [rows]        reward r_i (NaN where not scored yet, e.g. fresh continuations)
 * responseIndex [rows]        index of response i in the record it came from
 * ```
 *
 * Response-token offsets are ALSO the offsets of the model's per-token
 * log-probs: `forward` returns a ragged Float32Array of Σ|y_i| entries whose
 * entry `responseTokenStart[i] + j` is log p(y_i[j] | x_q, y_i[< j]), and the
 * loss reads it with the same offsets. A response may be empty (a
 * continuation before decoding starts).
 *
 * The padded [rows, T] form (row i = x_q ++ y_i, right-padded to
 * `paddedLength`) is derived in one place, {@link paddedRows}, and only
 * where the padded length is part of the maths: the plain layout and the
 * official compat mode (|y_i| = T, attention mask = ids != pad).
 *
 * @example
 * const tok = await loadTokenizer("tests/fixtures/models/gpt2-tiny");
 * const batch = collate([encodeRecord(tok, { query: "Hi", responses: [" a", " b c"], scores: [1, 0] })], { padTokenId: tok.special.pad_token_id });
 * batch.responseTokenStart; // [0, 2, 5]: " a" + EOS, " b c" + EOS
 */
import { UserError } from "../errors.js";
import type { CompatMode } from "./encode.js";

/** The label of positions that are not scored in the padded (Hugging Face) view. */
export const IGNORE_INDEX = -100;

/** A batch of queries, each with its responses; see the module comment for the layout. */
export interface QueryBatch {
  /** Tokenisation the ids follow; official mode masks ids equal to `padTokenId` out of attention. */
  readonly compat: CompatMode;
  /** Id written into padding positions of the padded view. */
  readonly padTokenId: number;
  /** Number of queries. */
  readonly queries: number;
  /** Number of responses over all queries (the rows of the padded view). */
  readonly rows: number;
  /** [Σ query lengths] every query's ids, once, back to back. */
  readonly queryIds: Int32Array;
  /** [queries + 1] query q's ids are queryIds[queryIdStart[q] .. queryIdStart[q+1]). */
  readonly queryIdStart: Int32Array;
  /** [queries + 1] query q owns rows queryRowStart[q] .. queryRowStart[q+1]-1 (possibly none). */
  readonly queryRowStart: Int32Array;
  /** [Σ response lengths] every response's ids (EOS included), back to back. */
  readonly responseIds: Int32Array;
  /** [rows + 1] response i's ids (and its log-probs) are at [responseTokenStart[i], responseTokenStart[i+1]). */
  readonly responseTokenStart: Int32Array;
  /** [rows] the query of each response. */
  readonly rowQuery: Int32Array;
  /** [rows] the response's reward (higher is better); NaN when it has none. */
  readonly scores: Float64Array;
  /** [rows] index of the response in its record (gaps where truncation or selection dropped some). */
  readonly responseIndex: Int32Array;
  /**
   * T of the padded view: the longest query + response. Official mode keeps
   * it when `selectBatchRows` drops rows (the official code selects after padding).
   */
  readonly paddedLength: number;
}

/** One query and its responses, as {@link buildQueryBatch} takes them. */
export interface QueryGroup {
  queryIds: ArrayLike<number>;
  responses: { ids: ArrayLike<number>; score?: number; index?: number }[];
}

/** Options of {@link buildQueryBatch}. */
export interface BuildBatchOptions {
  padTokenId: number;
  /** Default "paper". */
  compat?: CompatMode;
  /** Default: the longest query + response (must not be shorter). */
  paddedLength?: number;
}

/** Builds a {@link QueryBatch}: all offsets are computed here, once. */
export function buildQueryBatch(groups: readonly QueryGroup[], opts: BuildBatchOptions): QueryBatch {
  const queries = groups.length;
  const queryIdStart = new Int32Array(queries + 1);
  const queryRowStart = new Int32Array(queries + 1);
  let rows = 0;
  let queryTokens = 0;
  let responseTokens = 0;
  let longest = 0;
  groups.forEach((g, q) => {
    queryIdStart[q] = queryTokens;
    queryRowStart[q] = rows;
    queryTokens += g.queryIds.length;
    rows += g.responses.length;
    for (const r of g.responses) {
      responseTokens += r.ids.length;
      longest = Math.max(longest, g.queryIds.length + r.ids.length);
    }
  });
  queryIdStart[queries] = queryTokens;
  queryRowStart[queries] = rows;
  const paddedLength = opts.paddedLength ?? longest;
  if (paddedLength < longest) throw new RangeError(`paddedLength ${paddedLength} is shorter than the longest row (${longest})`);

  const queryIds = new Int32Array(queryTokens);
  const responseIds = new Int32Array(responseTokens);
  const responseTokenStart = new Int32Array(rows + 1);
  const rowQuery = new Int32Array(rows);
  const scores = new Float64Array(rows);
  const responseIndex = new Int32Array(rows);
  let row = 0;
  groups.forEach((g, q) => {
    queryIds.set(Array.from(g.queryIds), queryIdStart[q]);
    g.responses.forEach((r, i) => {
      responseIds.set(Array.from(r.ids), responseTokenStart[row]);
      responseTokenStart[row + 1] = responseTokenStart[row] + r.ids.length;
      rowQuery[row] = q;
      scores[row] = r.score ?? Number.NaN;
      responseIndex[row] = r.index ?? i;
      row++;
    });
  });
  return {
    compat: opts.compat ?? "paper",
    padTokenId: opts.padTokenId,
    queries,
    rows,
    queryIds,
    queryIdStart,
    queryRowStart,
    responseIds,
    responseTokenStart,
    rowQuery,
    scores,
    responseIndex,
    paddedLength,
  };
}

/** Length of query q. */
export function queryLength(batch: QueryBatch, q: number): number {
  return batch.queryIdStart[q + 1] - batch.queryIdStart[q];
}

/** Length of response i (EOS included). */
export function responseLength(batch: QueryBatch, i: number): number {
  return batch.responseTokenStart[i + 1] - batch.responseTokenStart[i];
}

/** Real length of row i: its query plus its response. */
export function rowLength(batch: QueryBatch, i: number): number {
  return queryLength(batch, batch.rowQuery[i]) + responseLength(batch, i);
}

/** Total real tokens of the rows (each query counted once per response, as the padded rows hold them). */
export function rowTokens(batch: QueryBatch): number {
  let n = 0;
  for (let i = 0; i < batch.rows; i++) n += rowLength(batch, i);
  return n;
}

/** The id at position t of row i (t may lie past the row: the pad id). */
export function rowTokenAt(batch: QueryBatch, i: number, t: number): number {
  const q = batch.rowQuery[i];
  const qLen = queryLength(batch, q);
  if (t < qLen) return batch.queryIds[batch.queryIdStart[q] + t];
  const j = t - qLen;
  return j < responseLength(batch, i) ? batch.responseIds[batch.responseTokenStart[i] + j] : batch.padTokenId;
}

/**
 * Whether position t of row i is a key attention may read (its
 * attention_mask value): paper mode every real token, official mode every
 * position whose id differs from the pad id (as the official code, which
 * thereby hides an EOS equal to the pad).
 */
export function isKeyAt(batch: QueryBatch, i: number, t: number): boolean {
  if (batch.compat === "official") return rowTokenAt(batch, i, t) !== batch.padTokenId;
  return t < rowLength(batch, i);
}

/** The padded [rows, T] view, Hugging Face field names; every array is row-major with T = `seqLen`. */
export interface PaddedRows {
  rows: number;
  /** T = the batch's `paddedLength`. */
  seqLen: number;
  /** [rows * T] query ++ response, then the pad id. */
  input_ids: Int32Array;
  /** [rows * T] response ids (EOS included) where scored, -100 elsewhere; aligned with input_ids (the model shifts). */
  labels: Int32Array;
  /** [rows * T] see {@link isKeyAt}. */
  attention_mask: Uint8Array;
}

/**
 * The padded form of a batch: the one function that builds it (the plain
 * layout and `logits` read it; nothing else needs the padding).
 */
export function paddedRows(batch: QueryBatch): PaddedRows {
  const T = batch.paddedLength;
  const { rows } = batch;
  const input_ids = new Int32Array(rows * T).fill(batch.padTokenId);
  const labels = new Int32Array(rows * T).fill(IGNORE_INDEX);
  const attention_mask = new Uint8Array(rows * T);
  for (let i = 0; i < rows; i++) {
    const q = batch.rowQuery[i];
    const qLen = queryLength(batch, q);
    const base = i * T;
    const response = batch.responseIds.subarray(batch.responseTokenStart[i], batch.responseTokenStart[i + 1]);
    input_ids.set(batch.queryIds.subarray(batch.queryIdStart[q], batch.queryIdStart[q + 1]), base);
    input_ids.set(response, base + qLen);
    labels.set(response, base + qLen);
    for (let t = 0; t < T; t++) attention_mask[base + t] = isKeyAt(batch, i, t) ? 1 : 0;
  }
  return { rows, seqLen: T, input_ids, labels, attention_mask };
}

/**
 * Keeps the rows `keep` (ascending) of a batch, queries and `paddedLength`
 * unchanged (a query may be left with no rows).
 */
export function selectRows(batch: QueryBatch, keep: readonly number[]): QueryBatch {
  const groups: QueryGroup[] = [];
  for (let q = 0; q < batch.queries; q++) {
    const queryIds = batch.queryIds.subarray(batch.queryIdStart[q], batch.queryIdStart[q + 1]);
    groups.push({ queryIds, responses: [] });
  }
  let last = -1;
  for (const i of keep) {
    if (!(i > last && i < batch.rows))
      throw new RangeError(`selectRows: rows must be ascending and below ${batch.rows}, got ${i} after ${last}`);
    last = i;
    groups[batch.rowQuery[i]].responses.push({
      ids: batch.responseIds.subarray(batch.responseTokenStart[i], batch.responseTokenStart[i + 1]),
      score: batch.scores[i],
      index: batch.responseIndex[i],
    });
  }
  return buildQueryBatch(groups, { padTokenId: batch.padTokenId, compat: batch.compat, paddedLength: batch.paddedLength });
}

/**
 * Checks offsets agree with the arrays and ids lie in [0, vocabSize): a
 * batch built by hand may be inconsistent; one from `collate` never is.
 */
export function checkQueryBatch(batch: QueryBatch, vocabSize: number): void {
  const { queries, rows } = batch;
  const fail = (what: string): never => {
    throw new UserError(`query batch: ${what}`);
  };
  if (batch.queryIdStart.length !== queries + 1 || batch.queryRowStart.length !== queries + 1)
    fail(`query offsets must have ${queries + 1} entries`);
  if (batch.responseTokenStart.length !== rows + 1) fail(`responseTokenStart must have ${rows + 1} entries`);
  if (batch.rowQuery.length !== rows || batch.scores.length !== rows || batch.responseIndex.length !== rows)
    fail(`per-row arrays must have ${rows} entries`);
  if (batch.queryRowStart[queries] !== rows || batch.queryIdStart[queries] !== batch.queryIds.length)
    fail("query offsets do not end at the array sizes");
  if (batch.responseTokenStart[rows] !== batch.responseIds.length) fail("responseTokenStart does not end at responseIds.length");
  for (let q = 0; q < queries; q++) {
    if (batch.queryRowStart[q + 1] < batch.queryRowStart[q] || batch.queryIdStart[q + 1] < batch.queryIdStart[q])
      fail(`query offsets decrease at query ${q}`);
    for (let i = batch.queryRowStart[q]; i < batch.queryRowStart[q + 1]; i++)
      if (batch.rowQuery[i] !== q) fail(`rowQuery[${i}] is not ${q}`);
  }
  for (let i = 0; i < rows; i++) {
    if (responseLength(batch, i) < 0) fail(`response ${i} has a negative length`);
    if (rowLength(batch, i) > batch.paddedLength) fail(`row ${i} is longer than paddedLength ${batch.paddedLength}`);
  }
  for (const [name, ids] of [
    ["queryIds", batch.queryIds],
    ["responseIds", batch.responseIds],
  ] as const) {
    ids.forEach((id, k) => {
      if (id < 0 || id >= vocabSize) fail(`${name}[${k}] = ${id} is outside the vocabulary (size ${vocabSize})`);
    });
  }
}
