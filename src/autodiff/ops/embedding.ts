/** Embedding lookup; the backward scatter-adds into the table's gradient. */
import { UserError } from "../../errors.js";
import { embeddingBackward, embeddingForward } from "../../kernels/ref/embedding.js";
import { formatShape, numel, type Shape } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

/**
 * Rows of `weight` picked by `ids`.
 *
 * Shapes: weight [V, C]; ids: `idsShape` (e.g. [B, T]), default [ids.length].
 * Out: [...idsShape, C]. Throws UserError on an id outside [0, V).
 *
 * @example embedding(g, wte, inputIds, [B, T]) // -> [B, T, C]
 */
export function embedding(g: Graph, weight: Tensor, ids: Int32Array, idsShape: Shape = [ids.length]): Tensor {
  if (weight.rank !== 2) throw new UserError(`embedding: table must be 2-D, got ${weight.describe()}`);
  if (numel(idsShape) !== ids.length) {
    throw new UserError(`embedding: ${ids.length} ids do not fill shape ${formatShape(idsShape)}`);
  }
  const V = weight.dim(0);
  const C = weight.dim(1);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= V) throw new UserError(`embedding: id ${id} at position ${i} is outside [0, ${V})`);
  }
  const out = g.output([...idsShape, C], [weight]);
  embeddingForward(out.data, ids, weight.data, ids.length, C);
  g.record("embedding", out, [weight], (dout) => embeddingBackward(g.gradOf(weight), dout, ids, ids.length, C));
  return out;
}
