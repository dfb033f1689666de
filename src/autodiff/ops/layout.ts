/**
 * Shape changes: zero-copy reshape, and the copies attention needs between
 * [B, T, H*D] (what linear layers produce) and [B, H, T, D] (what attention
 * reads), plus splitting a fused projection along its last dimension.
 */
import { UserError } from "../../errors.js";
import { formatShape, numel, type Shape } from "../../tensor/shape.js";
import type { Tensor } from "../../tensor/tensor.js";
import { type Graph, NOTHING_SAVED } from "../graph.js";
import { copyBlocks, rows } from "../../kernels/ref/memops.js";
import type { Backend } from "../../kernels/backend.js";

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
function swapMiddle(be: Backend, dst: Float32Array, src: Float32Array, B: number, A1: number, A2: number, D: number, acc: boolean): void {
  // src [B, A1, A2, D] -> dst [B, A2, A1, D]: per b, element (i, j) moves from (i*A2 + j)*D to (j*A1 + i)*D.
  const per = A1 * A2 * D;
  if (A1 === 1 || A2 === 1) {
    // One token per row (a decode step) or one head: both layouts are the same, one flat copy.
    copyBlocks(be, dst, src, { dOff: 0, sOff: 0, n0: 1, dS0: 0, sS0: 0, n1: 1, dS1: 0, sS1: 0, cols: B * per, accumulate: acc });
    return;
  }
  for (let b = 0; b < B; b++) {
    copyBlocks(be, dst, src, {
      dOff: b * per,
      sOff: b * per,
      n0: A1,
      dS0: D,
      sS0: A2 * D,
      n1: A2,
      dS1: A1 * D,
      sS1: D,
      cols: D,
      accumulate: acc,
    });
  }
}

/**
 * Splits the last dim into heads and moves heads before time. With `start`
 * and `width`, only columns [start, start + width) of x are split (e.g. q, k
 * or v straight out of GPT-2's fused c_attn output, without first copying
 * them out with `split`).
 * Shapes: x [B, T, W] (W = H*D without a range). Out: [B, H, T, D].
 */
export function splitHeads(g: Graph, x: Tensor, H: number, start = 0, width = x.rank === 3 ? x.dim(2) - start : 0): Tensor {
  if (x.rank !== 3 || width % H !== 0 || start < 0 || width < 0 || start + width > x.dim(2)) {
    throw new UserError(`splitHeads: ${x.describe()} columns [${start}, ${start + width}) are not [B, T, ${H}*D]`);
  }
  const [B, T, W] = x.shape;
  const D = width / H;
  const out = g.output([B, H, T, D], [x]);
  // Per batch row: element (t, h) moves from t*W + start + h*D to (h*T + t)*D.
  const plan = (b: number, acc: boolean) => ({ n0: T, n1: H, cols: D, accumulate: acc, bx: b * T * W + start, bh: b * H * T * D });
  for (let b = 0; b < B; b++) {
    const p = plan(b, false);
    copyBlocks(g.backend, out.data, x.data, { ...p, dOff: p.bh, sOff: p.bx, dS0: D, sS0: W, dS1: T * D, sS1: D });
  }
  g.record(
    "splitHeads",
    out,
    [x],
    (dout) => {
      const dx = g.gradOf(x);
      for (let b = 0; b < B; b++) {
        const p = plan(b, true);
        copyBlocks(g.backend, dx, dout, { ...p, dOff: p.bx, sOff: p.bh, dS0: W, sS0: D, dS1: D, sS1: T * D });
      }
    },
    NOTHING_SAVED,
  );
  return out;
}

/**
 * Inverse of splitHeads. Shapes: x [B, H, T, D]. Out: [B, T, H*D].
 */
export function mergeHeads(g: Graph, x: Tensor): Tensor {
  if (x.rank !== 4) throw new UserError(`mergeHeads: ${x.describe()} is not [B, H, T, D]`);
  const [B, H, T, D] = x.shape;
  const out = g.output([B, T, H * D], [x]);
  const merge = (buf: Float32Array) => swapMiddle(g.backend, buf, x.data, B, H, T, D, false);
  merge(out.data);
  g.recomputable(out, [x], merge);
  g.record("mergeHeads", out, [x], (dout) => swapMiddle(g.backend, g.gradOf(x), dout, B, T, H, D, true), NOTHING_SAVED);
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
    copyBlocks(g.backend, out.data, x.data, rows(0, w, off, C, N, w, false));
    g.record("split", out, [x], (dout) => copyBlocks(g.backend, g.gradOf(x), dout, rows(off, C, 0, w, N, w, true)), NOTHING_SAVED);
    parts.push(out);
    start += w;
  }
  return parts;
}
