/** Reductions to a scalar. Sums run in float64 so long rows don't drift. */
import { UserError } from "../../errors.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

function reduceAll(g: Graph, op: string, x: Tensor, factor: number): Tensor {
  const out = g.output([], [x]);
  let s = 0;
  const d = x.data;
  for (let i = 0; i < d.length; i++) s += d[i];
  out.data[0] = s * factor;
  g.record(op, out, [x], (dout) => {
    const dx = g.gradOf(x);
    const gv = dout[0] * factor;
    for (let i = 0; i < dx.length; i++) dx[i] += gv;
  });
  return out;
}

/** Sum of all elements. Out: scalar []. */
export function sum(g: Graph, x: Tensor): Tensor {
  return reduceAll(g, "sum", x, 1);
}

/** Mean of all elements (x must not be empty). Out: scalar []. */
export function mean(g: Graph, x: Tensor): Tensor {
  if (x.size === 0) throw new UserError(`mean: ${x.describe()} is empty`);
  return reduceAll(g, "mean", x, 1 / x.size);
}
