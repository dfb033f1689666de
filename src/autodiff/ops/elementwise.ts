/**
 * Broadcasting arithmetic: add, sub, mul, scale. Gradients un-broadcast
 * (sum over stretched dimensions) back to each operand's shape.
 */
import { addBackward, addForward, mulBackward, mulForward, type BroadcastPlan } from "../../kernels/ref/broadcast.js";
import { broadcastShapes, broadcastStrides } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

function broadcastPlan(a: Tensor, b: Tensor): BroadcastPlan {
  const outShape = broadcastShapes(a.shape, b.shape);
  return { outShape, stridesA: broadcastStrides(a.shape, outShape), stridesB: broadcastStrides(b.shape, outShape) };
}

/**
 * a + b with NumPy broadcasting.
 * @example add(g, x, bias) // x [B, T, C] + bias [C] -> [B, T, C]
 */
export function add(g: Graph, a: Tensor, b: Tensor): Tensor {
  const p = broadcastPlan(a, b);
  const out = g.output(p.outShape, [a, b]);
  addForward(out.data, a.data, b.data, p);
  g.record("add", out, [a, b], (dout) => {
    addBackward(a.requiresGrad ? g.gradOf(a) : null, b.requiresGrad ? g.gradOf(b) : null, dout, p);
  });
  return out;
}

/** a * b (elementwise) with NumPy broadcasting. */
export function mul(g: Graph, a: Tensor, b: Tensor): Tensor {
  const p = broadcastPlan(a, b);
  const out = g.output(p.outShape, [a, b]);
  mulForward(out.data, a.data, b.data, p);
  g.record("mul", out, [a, b], (dout) => {
    mulBackward(a.requiresGrad ? g.gradOf(a) : null, b.requiresGrad ? g.gradOf(b) : null, dout, a.data, b.data, p);
  });
  return out;
}

/** a - b with NumPy broadcasting. */
export function sub(g: Graph, a: Tensor, b: Tensor): Tensor {
  return add(g, a, scale(g, b, -1));
}

/** x * s for a constant number s (same shape as x). */
export function scale(g: Graph, x: Tensor, s: number): Tensor {
  const out = g.output(x.shape, [x]);
  const xd = x.data;
  const od = out.data;
  for (let i = 0; i < od.length; i++) od[i] = xd[i] * s;
  g.record("scale", out, [x], (dout) => {
    const dx = g.gradOf(x);
    for (let i = 0; i < dx.length; i++) dx[i] += dout[i] * s;
  });
  return out;
}
