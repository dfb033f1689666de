/**
 * Broadcasting arithmetic: add, sub, mul, scale. Gradients un-broadcast
 * (sum over stretched dimensions) back to each operand's shape.
 */
import { addBackward, addForward, mulBackward, mulForward, type BroadcastPlan } from "../../kernels/ref/broadcast.js";
import { copyBlocks, rows } from "../../kernels/ref/memops.js";
import { productBackwardRef, productForwardRef } from "../../kernels/ref/product.js";
import { broadcastShapes, broadcastStrides, sameShape } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import { type Graph, NOTHING_SAVED } from "../graph.js";

function broadcastPlan(a: Tensor, b: Tensor): BroadcastPlan {
  const outShape = broadcastShapes(a.shape, b.shape);
  return { outShape, stridesA: broadcastStrides(a.shape, outShape), stridesB: broadcastStrides(b.shape, outShape) };
}

/**
 * a + b with NumPy broadcasting.
 * @example add(g, x, bias) // x [B, T, C] + bias [C] -> [B, T, C]
 */
export function add(g: Graph, a: Tensor, b: Tensor): Tensor {
  if (sameShape(a.shape, b.shape)) return addSameShape(g, a, b);
  const p = broadcastPlan(a, b);
  const out = g.output(p.outShape, [a, b]);
  addForward(out.data, a.data, b.data, p);
  g.record(
    "add",
    out,
    [a, b],
    (dout) => {
      addBackward(a.requiresGrad ? g.gradOf(a) : null, b.requiresGrad ? g.gradOf(b) : null, dout, p);
    },
    NOTHING_SAVED,
  );
  return out;
}

/**
 * a + b of one shape (residual adds): as block copies on the backend's
 * kernels (out = a, out += b; backward da += dout, db += dout), not the
 * broadcasting loops, which index every value through row offsets.
 */
function addSameShape(g: Graph, a: Tensor, b: Tensor): Tensor {
  const out = g.output(a.shape, [a, b]);
  // Whole tensor as rows of its last dimension, so a native kernel can split the rows over threads.
  const C = a.rank === 0 ? 1 : a.dim(-1);
  const n = C === 0 ? 0 : a.size / C;
  if (g.backend.copyBlocks) {
    copyBlocks(g.backend, out.data, a.data, rows(0, C, 0, C, n, C, false));
    copyBlocks(g.backend, out.data, b.data, rows(0, C, 0, C, n, C, true));
  } else {
    // Without a kernel, one pass in JavaScript beats a copy and an accumulate.
    const o = out.data;
    const ad = a.data;
    const bd = b.data;
    for (let i = 0; i < o.length; i++) o[i] = ad[i] + bd[i];
  }
  g.record(
    "add",
    out,
    [a, b],
    (dout) => {
      if (a.requiresGrad) copyBlocks(g.backend, g.gradOf(a), dout, rows(0, C, 0, C, n, C, true));
      if (b.requiresGrad) copyBlocks(g.backend, g.gradOf(b), dout, rows(0, C, 0, C, n, C, true));
    },
    NOTHING_SAVED,
  );
  return out;
}

/** a * b (elementwise) with NumPy broadcasting. */
export function mul(g: Graph, a: Tensor, b: Tensor): Tensor {
  if (sameShape(a.shape, b.shape)) return mulSameShape(g, a, b);
  const p = broadcastPlan(a, b);
  const out = g.output(p.outShape, [a, b]);
  mulForward(out.data, a.data, b.data, p);
  g.record(
    "mul",
    out,
    [a, b],
    (dout) => {
      mulBackward(a.requiresGrad ? g.gradOf(a) : null, b.requiresGrad ? g.gradOf(b) : null, dout, a.data, b.data, p);
    },
    [a, b],
  );
  return out;
}

/**
 * a * b of one shape (the SwiGLU gate times up): one flat pass on the backend's product kernels (threaded SIMD on
 * native and WASM), else the reference loops, not the broadcasting ones.
 */
function mulSameShape(g: Graph, a: Tensor, b: Tensor): Tensor {
  const out = g.output(a.shape, [a, b]);
  const be = g.backend;
  const n = a.size;
  if (be.productForward) be.productForward(out.data, a.data, b.data, n);
  else productForwardRef(out.data, a.data, b.data, n);
  g.record(
    "mul",
    out,
    [a, b],
    (dout) => {
      const da = a.requiresGrad ? g.gradOf(a) : null;
      const db = b.requiresGrad ? g.gradOf(b) : null;
      if (be.productBackward) be.productBackward(da, db, dout, a.data, b.data, n);
      else productBackwardRef(da, db, dout, a.data, b.data, n);
    },
    [a, b],
  );
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
  g.record(
    "scale",
    out,
    [x],
    (dout) => {
      const dx = g.gradOf(x);
      for (let i = 0; i < dx.length; i++) dx[i] += dout[i] * s;
    },
    NOTHING_SAVED,
  );
  return out;
}
