/**
 * The official trainer's response selection, kept under the same names:
 * - `only_use_provide`: the last two responses of each query (in the
 *   official data, the dataset's own chosen/rejected answers);
 * - `only_use_sample`: all but the last two (the sampled ones).
 *
 * Paper mode selects on records before encoding ({@link selectResponses}).
 * The official code selects rows AFTER padding, so its padded length still
 * counts the dropped rows — which matters for its |y| = padded length quirk;
 * {@link selectBatchRows} reproduces that on a collated batch.
 */
import type { RrhfRecord } from "../data/record.js";
import { UserError } from "../errors.js";
import { selectRows, type QueryBatch } from "./batch.js";

/**
 * Which responses to train on (the official code's `only_use_provide` / `only_use_sample`).
 *
 * @example
 * const mode: ResponseSelection = "only_use_provide"; // the last two responses of each query
 * const kept = selectResponses(record, mode);
 */
export type ResponseSelection = "all" | "only_use_provide" | "only_use_sample";

/** The [start, end) range of the k responses a selection keeps. */
function selectedRange(k: number, mode: ResponseSelection, name: string): [number, number] {
  if (mode === "all") return [0, k];
  if (k < 3 && mode === "only_use_sample") {
    throw new UserError(`${name}: only_use_sample drops the last two responses, but it has only ${k}`);
  }
  if (k < 2 && mode === "only_use_provide") {
    throw new UserError(`${name}: only_use_provide keeps the last two responses, but it has only ${k}`);
  }
  return mode === "only_use_provide" ? [k - 2, k] : [0, k - 2];
}

/**
 * Returns a record with only the selected responses and their scores (the input is not changed).
 * @example
 * selectResponses({ query: "q", responses: ["a", "b", "c"], scores: [3, 2, 1] }, "only_use_provide");
 * // { query: "q", responses: ["b", "c"], scores: [2, 1] }
 */
export function selectResponses(record: RrhfRecord, mode: ResponseSelection, name = "record"): RrhfRecord {
  const [start, end] = selectedRange(record.responses.length, mode, name);
  return { ...record, responses: record.responses.slice(start, end), scores: record.scores.slice(start, end) };
}

/**
 * Official mode needs the same number of responses for every query; throws
 * `UserError` naming the first record that differs.
 */
export function checkSameK(records: RrhfRecord[], nameOf: (i: number) => string = (i) => `record ${i + 1}`): void {
  const k = records[0]?.responses.length;
  records.forEach((r, i) => {
    if (r.responses.length !== k) {
      throw new UserError(
        `${nameOf(i)}: has ${r.responses.length} responses but ${nameOf(0)} has ${k}; official compat mode needs the same number for every query`,
      );
    }
  });
}

/**
 * Keeps the selected rows of each query in a collated batch, keeping
 * `paddedLength` (the official code's padded length) unchanged.
 *
 * @example
 * const provided = selectBatchRows(collate(encoded, { padTokenId }), "only_use_provide"); // the last two rows of each query
 */
export function selectBatchRows(batch: QueryBatch, mode: ResponseSelection): QueryBatch {
  if (mode === "all") return batch;
  const keep: number[] = [];
  for (let q = 0; q < batch.queries; q++) {
    const first = batch.queryRowStart[q];
    const [start, end] = selectedRange(batch.queryRowStart[q + 1] - first, mode, `query ${q} of the batch`);
    for (let r = first + start; r < first + end; r++) keep.push(r);
  }
  return selectRows(batch, keep);
}
