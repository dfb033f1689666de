/**
 * Shape helpers shared by tensors and ops. Shapes are row-major, outermost
 * dimension first, as in PyTorch: [B, T, C] means C is contiguous.
 */
import { UserError } from "../errors.js";

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** "[2, 3, 4]" — for error messages. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Throws unless every dimension is a non-negative integer. */
export function checkShape(shape: Shape, what = "shape"): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new UserError(`${what}: invalid dimension ${d} in ${formatShape(shape)}`);
    }
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * NumPy broadcasting: shapes are aligned on the right; a dimension of 1 (or a
 * missing one) stretches to match the other. Throws on incompatible shapes.
 */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new UserError(`cannot broadcast ${formatShape(a)} with ${formatShape(b)}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Element strides of `shape` when read as a broadcast operand of `outShape`:
 * stretched (size-1 or missing) dimensions get stride 0.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const outDim = rank - shape.length + i;
    strides[outDim] = shape[i] === 1 && outShape[outDim] !== 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/** The last dimension and the product of the others: the [N, C] view most ops use. */
export function rowsCols(shape: Shape): { N: number; C: number } {
  if (shape.length === 0) return { N: 1, C: 1 };
  const C = shape[shape.length - 1];
  return { N: C === 0 ? 0 : numel(shape) / C, C };
}
