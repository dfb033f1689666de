/** Pointwise activations and the last-dim softmax family (activations use the backend's kernels when it has them). */
import { geluBackward, geluForward, siluBackward, siluForward } from "../../kernels/ref/activations.js";
import { logSoftmaxBackward, logSoftmaxForward, softmaxBackward, softmaxForward } from "../../kernels/ref/softmax.js";
import { UserError } from "../../errors.js";
import { productBackwardRef, productForwardRef } from "../../kernels/ref/product.js";
import { rowsCols, sameShape } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

type Pointwise = (out: Float32Array, inp: Float32Array, n: number) => void;
type PointwiseGrad = (dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number) => void;

function pointwise(g: Graph, op: string, x: Tensor, fwd: Pointwise, bwd: PointwiseGrad): Tensor {
  const out = g.output(x.shape, [x]);
  fwd(out.data, x.data, x.size);
  g.recomputable(out, [x], (buf) => fwd(buf, x.data, x.size));
  g.record(op, out, [x], (dout) => bwd(g.gradOf(x), x.data, dout, x.size), [x]);
  return out;
}

/** GELU, tanh form (GPT-2 `gelu_new`). Out: like x. */
export function gelu(g: Graph, x: Tensor): Tensor {
  const be = g.backend;
  return pointwise(g, "gelu", x, be.geluForward?.bind(be) ?? geluForward, be.geluBackward?.bind(be) ?? geluBackward);
}

/** SiLU: x * sigmoid(x) (Llama MLP). Out: like x. */
export function silu(g: Graph, x: Tensor): Tensor {
  const be = g.backend;
  return pointwise(g, "silu", x, be.siluForward?.bind(be) ?? siluForward, be.siluBackward?.bind(be) ?? siluBackward);
}

/**
 * silu(gate) * up (the Llama MLP's gated product) as one op that keeps only gate and up: silu(gate) lives in a
 * scratch buffer during the forward and is recomputed in the backward, so a step does not hold one more
 * [tokens, intermediate] tensor per layer (80 MiB on SmolLM-135M's benchmark batch). The same kernels run in the
 * same order as silu then mul, so values and gradients are bit-identical to those two ops. Its output is
 * `recomputable` from gate and up (as are the norms', GELU's and mergeHeads' outputs): a block evicts it, and the
 * backward pass remakes it for the down projection's rule.
 * Shapes: gate, up [..., I]. Out: like gate.
 */
export function swiglu(g: Graph, gate: Tensor, up: Tensor): Tensor {
  if (!sameShape(gate.shape, up.shape)) throw new UserError(`swiglu: ${gate.describe()} and ${up.describe()} differ in shape`);
  const be = g.backend;
  const siluFwd = be.siluForward?.bind(be) ?? siluForward;
  const siluBwd = be.siluBackward?.bind(be) ?? siluBackward;
  const product = be.productForward?.bind(be) ?? productForwardRef;
  const productGrad = be.productBackward?.bind(be) ?? productBackwardRef;
  const n = gate.size;
  const out = g.output(gate.shape, [gate, up]);
  const forward = (buf: Float32Array) => {
    const act = g.scratch(n);
    siluFwd(act, gate.data, n);
    product(buf, act, up.data, n);
    g.freeScratch(act);
  };
  forward(out.data);
  g.recomputable(out, [gate, up], forward);
  g.record(
    "swiglu",
    out,
    [gate, up],
    (dout) => {
      const recomputed = g.scratch(n);
      siluFwd(recomputed, gate.data, n);
      // d silu(gate) starts at zero, as the gradient buffer of a separate silu output would.
      const dAct = gate.requiresGrad ? g.scratchZeroed(n) : null;
      productGrad(dAct, up.requiresGrad ? g.gradOf(up) : null, dout, recomputed, up.data, n);
      if (dAct) siluBwd(g.gradOf(gate), gate.data, dAct, n);
      g.freeScratch(recomputed);
      if (dAct) g.freeScratch(dAct);
    },
    [gate, up],
  );
  return out;
}

type RowKernel = (out: Float32Array, inp: Float32Array, N: number, C: number) => void;
type RowGrad = (dinp: Float32Array, dout: Float32Array, out: Float32Array, N: number, C: number) => void;

function rowwise(g: Graph, op: string, x: Tensor, fwd: RowKernel, bwd: RowGrad): Tensor {
  const { N, C } = rowsCols(x.shape);
  const out = g.output(x.shape, [x]);
  fwd(out.data, x.data, N, C);
  g.record(op, out, [x], (dout) => bwd(g.gradOf(x), dout, out.data, N, C));
  return out;
}

/** Softmax over the last dimension. Shapes: x [..., C]. Out: like x. */
export function softmax(g: Graph, x: Tensor): Tensor {
  return rowwise(g, "softmax", x, softmaxForward, softmaxBackward);
}

/** Log-softmax over the last dimension. Shapes: x [..., C]. Out: like x. */
export function logSoftmax(g: Graph, x: Tensor): Tensor {
  return rowwise(g, "logSoftmax", x, logSoftmaxForward, logSoftmaxBackward);
}
