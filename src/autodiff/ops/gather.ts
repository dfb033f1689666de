/** Picking values by index: label log-probs, and rows of a matrix. */
import { UserError } from "../../errors.js";
import type { Tensor } from "../../tensor/tensor.js";
import { type Graph, NOTHING_SAVED } from "../graph.js";

/** The label value that marks a position as not scored (HF / PyTorch convention). */
export const IGNORE_INDEX = -100;

/**
 * out[n] = logp[n, labels[n]], or 0 where labels[n] is -100 (no gradient there).
 *
 * Shapes: logp [N, V] (any leading dims flatten into N); labels [N]. Out: [N].
 */
export function gatherLabels(g: Graph, logp: Tensor, labels: Int32Array): Tensor {
  const V = logp.dim(-1);
  const N = V === 0 ? 0 : logp.size / V;
  if (labels.length !== N) throw new UserError(`gatherLabels: ${labels.length} labels for ${N} rows of ${logp.describe()}`);
  checkLabels("gatherLabels", labels, V);
  const out = g.output([N], [logp]);
  for (let n = 0; n < N; n++) out.data[n] = labels[n] === IGNORE_INDEX ? 0 : logp.data[n * V + labels[n]];
  g.record("gatherLabels", out, [logp], (dout) => {
    const dl = g.gradOf(logp);
    for (let n = 0; n < N; n++) if (labels[n] !== IGNORE_INDEX) dl[n * V + labels[n]] += dout[n];
  });
  return out;
}

/** Throws unless every label is -100 or in [0, V). */
export function checkLabels(op: string, labels: Int32Array, V: number): void {
  for (let n = 0; n < labels.length; n++) {
    const l = labels[n];
    if (l !== IGNORE_INDEX && (l < 0 || l >= V)) {
      throw new UserError(`${op}: label ${l} at position ${n} is outside [0, ${V}) and is not ${IGNORE_INDEX}`);
    }
  }
}

/**
 * Selected rows of a matrix, e.g. the hidden state at each sequence's last
 * token. Backward scatter-adds (repeated rows accumulate).
 *
 * Shapes: x [N, C] (leading dims flatten into N); rows [R] in [0, N). Out: [R, C].
 */
export function gatherRows(g: Graph, x: Tensor, rows: Int32Array): Tensor {
  const C = x.dim(-1);
  const N = C === 0 ? 0 : x.size / C;
  for (let r = 0; r < rows.length; r++) {
    if (rows[r] < 0 || rows[r] >= N) throw new UserError(`gatherRows: row ${rows[r]} outside [0, ${N})`);
  }
  const out = g.output([rows.length, C], [x]);
  for (let r = 0; r < rows.length; r++) out.data.set(x.data.subarray(rows[r] * C, rows[r] * C + C), r * C);
  g.record(
    "gatherRows",
    out,
    [x],
    (dout) => {
      const dx = g.gradOf(x);
      for (let r = 0; r < rows.length; r++) {
        const o = rows[r] * C;
        for (let c = 0; c < C; c++) dx[o + c] += dout[r * C + c];
      }
    },
    NOTHING_SAVED,
  );
  return out;
}
