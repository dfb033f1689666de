/**
 * Shape changes: zero-copy reshape, and the copies attention needs between
 * [B, T, H*D] (what linear layers produce) and [B, H, T, D] (what attention
 * reads), plus splitting a fused projection along its last dimension.
 */
import { UserError } from "../../errors.js";
import { formatShape, numel, type Shape } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Graph } from "../graph.js";

/**
 * The same data seen with another shape (no copy; gradients land in x's buffer).
 * One dimension may be -1 (inferred).
 */
export function reshape(g: Graph, x: Tensor, shape: Shape): Tensor {
  const resolved = [...shape];
  const free = resolved.indexOf(-1);
  if (free >= 0) {
    const known = numel(resolved.filter((_, i) => i !== free));
    resolved[free] = known === 0 ? 0 : x.size / known;
  }
  if (numel(resolved) !== x.size || !resolved.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new UserError(`reshape: cannot view ${x.describe()} as ${formatShape(shape)}`);
  }
  return g.view(x, resolved);
}

/** Copies [B, T, H, D] <-> [B, H, T, D] (swap of the middle two axes); `acc` adds instead of writing. */
function swapMiddle(dst: Float32Array, src: Float32Array, B: number, A1: number, A2: number, D: number, acc: boolean): void {
  // src [B, A1, A2, D] -> dst [B, A2, A1, D]
  if (A1 === 1 || A2 === 1) {
    // One token per row (a decode step) or one head: both layouts are the same, one flat copy.
    const n = B * A1 * A2 * D;
    if (acc) for (let k = 0; k < n; k++) dst[k] += src[k];
    else dst.set(src.subarray(0, n));
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < A1; i++) {
      for (let j = 0; j < A2; j++) {
        const s = ((b * A1 + i) * A2 + j) * D;
        const d = ((b * A2 + j) * A1 + i) * D;
        if (acc) for (let k = 0; k < D; k++) dst[d + k] += src[s + k];
        else dst.set(src.subarray(s, s + D), d);
      }
    }
  }
}

/**
 * Splits the last dim into heads and moves heads before time.
 * Shapes: x [B, T, H*D]. Out: [B, H, T, D].
 */
export function splitHeads(g: Graph, x: Tensor, H: number): Tensor {
  if (x.rank !== 3 || x.dim(2) % H !== 0) throw new UserError(`splitHeads: ${x.describe()} is not [B, T, ${H}*D]`);
  const [B, T, HD] = x.shape;
  const D = HD / H;
  const out = g.output([B, H, T, D], [x]);
  swapMiddle(out.data, x.data, B, T, H, D, false);
  g.record("splitHeads", out, [x], (dout) => swapMiddle(g.gradOf(x), dout, B, H, T, D, true));
  return out;
}

/**
 * Inverse of splitHeads. Shapes: x [B, H, T, D]. Out: [B, T, H*D].
 */
export function mergeHeads(g: Graph, x: Tensor): Tensor {
  if (x.rank !== 4) throw new UserError(`mergeHeads: ${x.describe()} is not [B, H, T, D]`);
  const [B, H, T, D] = x.shape;
  const out = g.output([B, T, H * D], [x]);
  swapMiddle(out.data, x.data, B, H, T, D, false);
  g.record("mergeHeads", out, [x], (dout) => swapMiddle(g.gradOf(x), dout, B, T, H, D, true));
  return out;
}

/**
 * Splits the last dimension into consecutive parts (e.g. GPT-2's fused
 * c_attn output into q, k, v). Shapes: x [..., sum(sizes)]. Out: [..., sizes[i]] each.
 */
export function split(g: Graph, x: Tensor, sizes: readonly number[]): Tensor[] {
  const C = x.dim(-1);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== C) throw new UserError(`split: sizes [${sizes.join(", ")}] do not add up to ${C} for ${x.describe()}`);
  const N = C === 0 ? 0 : x.size / C;
  const lead = x.shape.slice(0, -1);
  const parts: Tensor[] = [];
  let start = 0;
  for (const w of sizes) {
    const off = start;
    const out = g.output([...lead, w], [x]);
    for (let n = 0; n < N; n++) out.data.set(x.data.subarray(n * C + off, n * C + off + w), n * w);
    g.record("split", out, [x], (dout) => {
      const dx = g.gradOf(x);
      for (let n = 0; n < N; n++) for (let c = 0; c < w; c++) dx[n * C + off + c] += dout[n * w + c];
    });
    parts.push(out);
    start += w;
  }
  return parts;
}
