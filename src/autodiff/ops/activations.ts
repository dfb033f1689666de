/** Pointwise activations and the last-dim softmax family (activations use the backend's kernels when it has them). */
import { geluBackward, geluForward, siluBackward, siluForward } from "../../kernels/ref/activations.js";
import { logSoftmaxBackward, logSoftmaxForward, softmaxBackward, softmaxForward } from "../../kernels/ref/softmax.js";
import { rowsCols } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

type Pointwise = (out: Float32Array, inp: Float32Array, n: number) => void;
type PointwiseGrad = (dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number) => void;

function pointwise(g: Graph, op: string, x: Tensor, fwd: Pointwise, bwd: PointwiseGrad): Tensor {
  const out = g.output(x.shape, [x]);
  fwd(out.data, x.data, x.size);
  g.record(op, out, [x], (dout) => bwd(g.gradOf(x), x.data, dout, x.size));
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
