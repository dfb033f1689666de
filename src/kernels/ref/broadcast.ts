/**
 * Broadcasting binary ops (NumPy rules) over row-major buffers. Operands are
 * read through strides where a stretched dimension has stride 0; the inner
 * loop runs over the last output dimension. Backward ACCUMULATES, summing
 * over stretched dimensions (un-broadcasting).
 */

/** Offsets of each output row (all dims but the last) into an operand. */
function rowOffsets(outShape: readonly number[], strides: readonly number[]): Int32Array {
  const rank = outShape.length;
  let rows = 1;
  for (let i = 0; i < rank - 1; i++) rows *= outShape[i];
  const offs = new Int32Array(rows);
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let off = 0;
  for (let r = 0; r < rows; r++) {
    offs[r] = off;
    // Odometer increment over dims rank-2 .. 0.
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < outShape[d]) break;
      off -= strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return offs;
}

export interface BroadcastPlan {
  outShape: readonly number[];
  /** Strides of a and b against outShape (0 where stretched). */
  stridesA: readonly number[];
  stridesB: readonly number[];
}

function plan(p: BroadcastPlan) {
  const rank = p.outShape.length;
  const C = rank === 0 ? 1 : p.outShape[rank - 1];
  return {
    C,
    sa: rank === 0 ? 1 : p.stridesA[rank - 1],
    sb: rank === 0 ? 1 : p.stridesB[rank - 1],
    offA: rowOffsets(p.outShape, p.stridesA),
    offB: rowOffsets(p.outShape, p.stridesB),
  };
}

/** True when neither operand is stretched: a, b and out share one row-major layout. */
function sameShape(p: BroadcastPlan): boolean {
  const rank = p.outShape.length;
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (p.outShape[d] !== 1 && (p.stridesA[d] !== stride || p.stridesB[d] !== stride)) return false;
    stride *= p.outShape[d];
  }
  return true;
}

function numel(p: BroadcastPlan): number {
  return p.outShape.reduce((n, d) => n * d, 1);
}

/** out = a + b (broadcast). */
export function addForward(out: Float32Array, a: Float32Array, b: Float32Array, p: BroadcastPlan): void {
  // The common case (residual adds) in one flat loop: no row-offset tables.
  if (sameShape(p)) {
    for (let i = 0, n = numel(p); i < n; i++) out[i] = a[i] + b[i];
    return;
  }
  const { C, sa, sb, offA, offB } = plan(p);
  for (let r = 0; r < offA.length; r++) {
    const o = r * C;
    for (let c = 0; c < C; c++) out[o + c] = a[offA[r] + c * sa] + b[offB[r] + c * sb];
  }
}

/** out = a * b (broadcast). */
export function mulForward(out: Float32Array, a: Float32Array, b: Float32Array, p: BroadcastPlan): void {
  if (sameShape(p)) {
    for (let i = 0, n = numel(p); i < n; i++) out[i] = a[i] * b[i];
    return;
  }
  const { C, sa, sb, offA, offB } = plan(p);
  for (let r = 0; r < offA.length; r++) {
    const o = r * C;
    for (let c = 0; c < C; c++) out[o + c] = a[offA[r] + c * sa] * b[offB[r] + c * sb];
  }
}

/** da += unbroadcast(dout), db += unbroadcast(dout). */
export function addBackward(da: Float32Array | null, db: Float32Array | null, dout: Float32Array, p: BroadcastPlan): void {
  const { C, sa, sb, offA, offB } = plan(p);
  for (let r = 0; r < offA.length; r++) {
    const o = r * C;
    for (let c = 0; c < C; c++) {
      const g = dout[o + c];
      if (da) da[offA[r] + c * sa] += g;
      if (db) db[offB[r] + c * sb] += g;
    }
  }
}

/** da += unbroadcast(dout * b), db += unbroadcast(dout * a). */
export function mulBackward(
  da: Float32Array | null,
  db: Float32Array | null,
  dout: Float32Array,
  a: Float32Array,
  b: Float32Array,
  p: BroadcastPlan,
): void {
  const { C, sa, sb, offA, offB } = plan(p);
  for (let r = 0; r < offA.length; r++) {
    const o = r * C;
    for (let c = 0; c < C; c++) {
      const g = dout[o + c];
      const ia = offA[r] + c * sa;
      const ib = offB[r] + c * sb;
      if (da) da[ia] += g * b[ib];
      if (db) db[ib] += g * a[ia];
    }
  }
}
