/**
 * fp32 tensors and reverse-mode autodiff for decoder-only transformers and
 * the RRHF loss.
 *
 * Every op takes the step's Graph first: `op(g, inputs..., options)`.
 * Forward runs eagerly; ops record their backward rule on the graph's tape
 * (unless the graph is in no-grad mode). Shapes are row-major, outermost
 * first; each op's TSDoc gives its shapes.
 *
 * @example
 * import { Graph, parameter, embedding, layerNorm, linear, lmHeadLogProbs } from "./autodiff/index.js";
 * const wte = parameter(arena.wte, [V, C], grads.wte, "wte");
 * const g = new Graph();                         // one step: tape + pooled buffers
 * const x = embedding(g, wte, ids, [B, T]);      // [B, T, C]
 * // ... blocks ...
 * const logp = lmHeadLogProbs(g, x, wte, labels); // [B*T]
 * g.backward(logp, dLogp);                        // wte.grad += dL/dwte (accumulates)
 * g.release();                                    // every intermediate buffer back to the pool
 *
 * Memory: non-parameter buffers come from a size-class BufferPool over the
 * backend's alloc/release and return on `graph.release()`; a second step
 * with the same shapes allocates nothing new. Parameters wrap arena views
 * owned elsewhere, and their gradients ACCUMULATE across backward calls.
 *
 * Index arrays passed to ops (token ids, labels, positions, key masks) and
 * input data wrapped by `graph.input` are not copied: backward reads them
 * again, so leave them unchanged until `backward` has run.
 */
export { Graph, type GraphOptions, type Node } from "./graph.js";
export { Tensor, parameter, type TensorKind } from "../tensor/tensor.js";
export { BufferPool, type PoolStats } from "../tensor/pool.js";
export { type Shape, numel, formatShape } from "../tensor/shape.js";

export { add, sub, mul, scale } from "./ops/elementwise.js";
export { matmul, linear, type MatmulOptions, type LinearLayout } from "./ops/matmul.js";
export { reshape, splitHeads, mergeHeads, split } from "./ops/layout.js";
export { embedding } from "./ops/embedding.js";
export { layerNorm, rmsNorm } from "./ops/norm.js";
export { gelu, silu, swiglu, softmax, logSoftmax } from "./ops/activations.js";
export { causalAttention, type AttentionOptions } from "./ops/attention.js";
export {
  rope,
  createRopeTable,
  ropeInvFreq,
  type RopeTable,
  type RopeConfig,
  type RopeOptions,
  type Llama3RopeScaling,
} from "./ops/rope.js";
export { gatherLabels, gatherRows, IGNORE_INDEX } from "./ops/gather.js";
export { sum, mean } from "./ops/reduce.js";
export { lmHeadLogProbs, type LmHeadOptions } from "./ops/lm-head.js";
export { checkpoint, type CheckpointFn } from "./ops/checkpoint.js";
