/** Layer norm (GPT-2) and RMS norm (Llama) over the last dimension. */
import { UserError } from "../../errors.js";
import { layernormBackward, layernormForward } from "../../kernels/ref/layernorm.js";
import { rmsnormBackward, rmsnormForward } from "../../kernels/ref/rmsnorm.js";
import { rowsCols } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

function checkVector(op: string, v: Tensor, C: number): void {
  if (v.rank !== 1 || v.dim(0) !== C) throw new UserError(`${op}: ${v.describe()} must have shape [${C}]`);
}

/**
 * (x - mean) / sqrt(var + eps) * weight + bias, per row of the last dim
 * (biased variance, as torch.nn.LayerNorm).
 *
 * Shapes: x [..., C]; weight [C]; bias [C] or null. Out: like x.
 */
export function layerNorm(g: Graph, x: Tensor, weight: Tensor, bias: Tensor | null, eps = 1e-5): Tensor {
  const { N, C } = rowsCols(x.shape);
  checkVector("layerNorm", weight, C);
  if (bias) checkVector("layerNorm", bias, C);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const out = g.output(x.shape, inputs);
  const mean = g.scratch(N);
  const rstd = g.scratch(N);
  // The backend's kernels when it has them (same signatures), else the reference ones.
  const be = g.backend;
  const forward = be.layernormForward ?? layernormForward;
  const backward = be.layernormBackward ?? layernormBackward;
  // The recompute runs the same call: it rewrites mean and rstd with the values they hold (same kernel, same inputs).
  const run = (buf: Float32Array) => forward(buf, mean, rstd, x.data, weight.data, bias ? bias.data : null, N, C, eps);
  run(out.data);
  g.recomputable(out, inputs, run);
  g.record(
    "layerNorm",
    out,
    inputs,
    (dout) => {
      backward(
        x.requiresGrad ? g.gradOf(x) : null,
        weight.requiresGrad ? g.gradOf(weight) : null,
        bias?.requiresGrad ? g.gradOf(bias) : null,
        dout,
        x.data,
        weight.data,
        mean,
        rstd,
        N,
        C,
      );
    },
    inputs,
  );
  return out;
}

/**
 * x / sqrt(mean(x^2) + eps) * weight per row of the last dim (LlamaRMSNorm).
 *
 * Shapes: x [..., C]; weight [C]. Out: like x.
 */
export function rmsNorm(g: Graph, x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const { N, C } = rowsCols(x.shape);
  checkVector("rmsNorm", weight, C);
  const out = g.output(x.shape, [x, weight]);
  const rstd = g.scratch(N);
  const be = g.backend;
  const forward = be.rmsnormForward ?? rmsnormForward;
  const backward = be.rmsnormBackward ?? rmsnormBackward;
  // As in layerNorm, the recompute rewrites rstd with the values it holds.
  const run = (buf: Float32Array) => forward(buf, rstd, x.data, weight.data, N, C, eps);
  run(out.data);
  g.recomputable(out, [x, weight], run);
  g.record(
    "rmsNorm",
    out,
    [x, weight],
    (dout) => {
      backward(x.requiresGrad ? g.gradOf(x) : null, weight.requiresGrad ? g.gradOf(weight) : null, dout, x.data, weight.data, rstd, N, C);
    },
    [x, weight],
  );
  return out;
}
