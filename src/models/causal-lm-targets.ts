/**
 * What every layout of the forward needs from the query-grouped batch, read
 * from its offsets once: the tokens whose log-probs the forward returns
 * (each response token, predicted by the hidden state one position
 * earlier), and how far each row's attention keys reach.
 */
import { isKeyAt, queryLength, responseLength, rowLength, type QueryBatch } from "../tokenize/batch.js";

/**
 * The predicted tokens, row-major (rows ascending, tokens in order). A
 * response token at position 0 of its row (an empty query) has nothing to
 * be predicted from: it is left out, and its log-prob stays 0.
 */
export interface ScoredTargets {
  count: number;
  /** [count] the row of each target. */
  row: Int32Array;
  /** [count] the target's position in its row; the hidden state at position - 1 predicts it. */
  position: Int32Array;
  /** [count] the target token ids (what the LM head scores). */
  labels: Int32Array;
  /** [count] the target's index in the ragged log-probs (the batch's response-token offsets). */
  ragged: Int32Array;
  /** [rows] number of targets of each row. */
  perRow: Int32Array;
}

/** The targets of a batch (see {@link ScoredTargets}). */
export function scoredTargets(batch: QueryBatch): ScoredTargets {
  const n = batch.responseIds.length;
  const row = new Int32Array(n);
  const position = new Int32Array(n);
  const labels = new Int32Array(n);
  const ragged = new Int32Array(n);
  const perRow = new Int32Array(batch.rows);
  let count = 0;
  for (let i = 0; i < batch.rows; i++) {
    const qLen = queryLength(batch, batch.rowQuery[i]);
    const start = batch.responseTokenStart[i];
    for (let j = qLen === 0 ? 1 : 0; j < responseLength(batch, i); j++) {
      row[count] = i;
      position[count] = qLen + j;
      labels[count] = batch.responseIds[start + j];
      ragged[count] = start + j;
      perRow[i]++;
      count++;
    }
  }
  return {
    count,
    row: row.subarray(0, count),
    position: position.subarray(0, count),
    labels: labels.subarray(0, count),
    ragged: ragged.subarray(0, count),
    perRow,
  };
}

/** How far each row's attention keys reach (the padded view's attention_mask, read from the batch). */
export interface RowKeys {
  /** [rows] one past each row's last key: its real length, or (official mode) one past its last id that is not the pad. */
  ends: Int32Array;
  /** Some row has a non-key before its end (official mode, a pad id inside the row): attention needs a key mask. */
  holes: boolean;
}

/** The key extents of a batch. */
export function rowKeys(batch: QueryBatch): RowKeys {
  const ends = new Int32Array(batch.rows);
  let holes = false;
  for (let i = 0; i < batch.rows; i++) {
    const len = rowLength(batch, i);
    if (batch.compat !== "official") {
      ends[i] = len;
      continue;
    }
    let end = len;
    while (end > 0 && !isKeyAt(batch, i, end - 1)) end--;
    for (let t = 0; t < end && !holes; t++) if (!isKeyAt(batch, i, t)) holes = true;
    ends[i] = end;
  }
  return { ends, holes };
}

/** Position of row i's last target (its last response token), or -1 when it has none. */
export function lastTarget(batch: QueryBatch, targets: ScoredTargets, i: number): number {
  return targets.perRow[i] > 0 ? rowLength(batch, i) - 1 : -1;
}
