/**
 * Activation (gradient) checkpointing as one custom op, as Hugging Face's
 * `gradient_checkpointing_enable()` does per transformer block: the forward
 * runs `fn` on a temporary no-grad graph and keeps only its inputs and
 * outputs; the backward re-runs `fn` from the saved inputs on a fresh
 * grad-enabled child graph, back-propagates the outputs' gradients through
 * it, hands the inputs their gradients and releases the child at once.
 * Parameters read inside `fn` accumulate their gradients into their arenas
 * directly, as in any other op.
 *
 * The recompute runs the same kernels in the same order as an unchecked
 * forward/backward, so results are bit-identical to not checkpointing.
 *
 * @example
 * // one block: h [B, T, C] in, h [B, T, C] out; its internals live only inside fn
 * const [out] = checkpoint(g, [h], (cg, [x]) => [block(cg, x)]);
 */
import { InternalError, UserError } from "../../errors.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Graph } from "../graph.js";

/** A block to checkpoint: reads only `inputs` (and parameters, index arrays) and returns new tensors of `g`. */
export type CheckpointFn = (g: Graph, inputs: readonly Tensor[]) => readonly Tensor[];

/**
 * Runs `fn(g, inputs)` keeping none of its intermediates: returns copies of
 * its outputs (same shapes) on `g`. `fn` must be deterministic and must not
 * touch tensors of `g` other than through `inputs` — it runs again in the
 * backward pass. When `g` records nothing (no-grad) or no input requires
 * grad, `fn` simply runs on `g` (nothing to save memory on).
 *
 * Outputs require grad when an input does. Several outputs (a block's
 * hidden state and the keys/values another call attends to) are packed into
 * one buffer recorded on the tape, then copied out, so the recompute happens
 * once with all their gradients.
 */
export function checkpoint(g: Graph, inputs: readonly Tensor[], fn: CheckpointFn): Tensor[] {
  if (!g.gradEnabled || !inputs.some((t) => t.requiresGrad)) return [...fn(g, inputs)];
  for (const t of inputs) {
    if (t.released) throw new InternalError(`checkpoint: use of released tensor ${t.describe()}`);
  }

  // Forward without a tape: only the outputs survive the child graph.
  const child = new Graph({ backend: g.backend, pool: g.pool, grad: false });
  let outs: Tensor[];
  try {
    const results = fn(
      child,
      inputs.map((t) => child.input(t.data, t.shape)),
    );
    if (results.length === 0) throw new UserError("checkpoint: the function returned no tensors");
    if (results.length === 1) {
      outs = [g.output(results[0].shape, inputs)];
      outs[0].data.set(results[0].data);
    } else {
      outs = packOutputs(g, inputs, results, (dout, reached) => recompute(g, inputs, fn, dout, reached));
    }
  } finally {
    child.release();
  }
  if (outs.length === 1) g.record("checkpoint", outs[0], inputs, (dout) => recompute(g, inputs, fn, [dout], [true]));
  return outs;
}

/**
 * Several outputs: one packed tensor holds them all and carries the
 * checkpoint node; each output is a copy that routes its gradient into its
 * slice of the packed gradient and notes that it was reached (outputs no
 * gradient reached are not back-propagated, as the tape would skip them).
 */
function packOutputs(
  g: Graph,
  inputs: readonly Tensor[],
  results: readonly Tensor[],
  backward: (douts: Float32Array[], reached: boolean[]) => void,
): Tensor[] {
  let total = 0;
  const offsets = results.map((r) => {
    const o = total;
    total += r.size;
    return o;
  });
  const packed = g.output([total], inputs);
  results.forEach((r, j) => packed.data.set(r.data, offsets[j]));
  const reached = results.map(() => false);
  g.record("checkpoint", packed, inputs, (dout) => {
    backward(
      results.map((r, j) => dout.subarray(offsets[j], offsets[j] + r.size)),
      reached,
    );
  });
  return results.map((r, j) => {
    const out = g.output(r.shape, [packed]);
    out.data.set(r.data);
    g.record("checkpointOutput", out, [packed], (d) => {
      reached[j] = true;
      const dp = g.gradOf(packed);
      const o = offsets[j];
      for (let i = 0; i < d.length; i++) dp[o + i] += d[i];
    });
    return out;
  });
}

/**
 * The backward: `fn` again on a grad-enabled child graph over the saved
 * inputs, its outputs seeded with `douts` (those `reached`), one backward
 * walk, the inputs' gradients added into `g`'s, the child released.
 */
function recompute(g: Graph, inputs: readonly Tensor[], fn: CheckpointFn, douts: Float32Array[], reached: boolean[]): void {
  const child = new Graph({ backend: g.backend, pool: g.pool, grad: true });
  try {
    const wrapped = inputs.map((t) => child.input(t.data, t.shape, { requiresGrad: t.requiresGrad }));
    const outs = fn(child, wrapped);
    if (outs.length !== douts.length)
      throw new Error(`checkpoint: the recompute returned ${outs.length} tensors, the forward ${douts.length}`);
    // One output seeds the backward walk; the others' gradients are put in place before it starts.
    let seed = -1;
    for (let j = 0; j < outs.length; j++) {
      if (!reached[j] || !outs[j].requiresGrad) continue;
      if (seed < 0) {
        seed = j;
        continue;
      }
      const grad = child.gradOf(outs[j]);
      const d = douts[j];
      for (let i = 0; i < d.length; i++) grad[i] += d[i];
    }
    if (seed < 0) return;
    child.backward(outs[seed], douts[seed]);
    inputs.forEach((t, i) => {
      const grad = wrapped[i].grad;
      if (!t.requiresGrad || grad === null) return;
      const into = g.gradOf(t);
      for (let k = 0; k < grad.length; k++) into[k] += grad[k];
    });
  } finally {
    child.release();
  }
}
