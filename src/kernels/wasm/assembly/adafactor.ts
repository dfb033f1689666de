// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): Adafactor's
// passes over a factored tensor, the loops of adafactorStatsRef,
// adafactorSumSquaresRef and adafactorApplyRef in kernels/ref/optim.ts in the
// same order and f64 precision, so results equal the reference bit for bit.
// Pointers are byte offsets (g and p at the tensor's first element, the f64
// row and column vectors at their first value); element k of the tensor is in
// global row k / C, of matrix (k / C) / R.
import { load1, load2, store1, store2 } from "./optim";

/** Row sums of q = g^2 + eps over global rows [r0, r1), each in column order; four rows at once for independent adds. */
export function adafactorRowSums(g: usize, C: i32, eps: f64, out: usize, r0: i32, r1: i32): void {
  const rowBytes = <usize>C * 4;
  let r = r0;
  for (; r + 4 <= r1; r += 4) {
    const a = g + <usize>r * rowBytes;
    let s0: f64 = 0;
    let s1: f64 = 0;
    let s2: f64 = 0;
    let s3: f64 = 0;
    for (let c = 0; c < C; c++) {
      const x0 = <f64>load<f32>(a + <usize>c * 4);
      const x1 = <f64>load<f32>(a + rowBytes + <usize>c * 4);
      const x2 = <f64>load<f32>(a + 2 * rowBytes + <usize>c * 4);
      const x3 = <f64>load<f32>(a + 3 * rowBytes + <usize>c * 4);
      s0 += x0 * x0 + eps;
      s1 += x1 * x1 + eps;
      s2 += x2 * x2 + eps;
      s3 += x3 * x3 + eps;
    }
    store<f64>(out + <usize>r * 8, s0);
    store<f64>(out + <usize>r * 8 + 8, s1);
    store<f64>(out + <usize>r * 8 + 16, s2);
    store<f64>(out + <usize>r * 8 + 24, s3);
  }
  for (; r < r1; r++) {
    const a = g + <usize>r * rowBytes;
    let s: f64 = 0;
    for (let c = 0; c < C; c++) {
      const x = <f64>load<f32>(a + <usize>c * 4);
      s += x * x + eps;
    }
    store<f64>(out + <usize>r * 8, s);
  }
}

/** Column sums of q over columns [c0, c1) of every matrix, each in row order, two columns a vector. */
export function adafactorColSums(g: usize, batch: i32, R: i32, C: i32, eps: f64, out: usize, c0: i32, c1: i32): void {
  const e = f64x2.splat(eps);
  for (let b = 0; b < batch; b++) {
    const o = out + <usize>b * <usize>C * 8;
    for (let c = c0; c < c1; c++) store<f64>(o + <usize>c * 8, 0);
    for (let r = 0; r < R; r++) {
      const row = g + (<usize>b * <usize>R + <usize>r) * <usize>C * 4;
      let c = c0;
      for (; c + 2 <= c1; c += 2) {
        const x = load2(row + <usize>c * 4);
        const at = o + <usize>c * 8;
        v128.store(at, f64x2.add(v128.load(at), f64x2.add(f64x2.mul(x, x), e)));
      }
      if (c < c1) {
        const x = <f64>load<f32>(row + <usize>c * 4);
        store<f64>(o + <usize>c * 8, load<f64>(o + <usize>c * 8) + (x * x + eps));
      }
    }
  }
}

/**
 * Stores at `out` (an f64) the sum of u^2, u = rf[row] * cf[col] * g, over flat elements [k0, k1) (one block):
 * element k into lane k % 8 (lanes 2l and 2l + 1 in vector a<l>), the lanes then added in order. Row pieces run
 * their lane-aligned middle 8 at a time; their ends add one element to its lane with +0 in the vector's other lane
 * (exact: a lane only ever holds a sum of squares, never -0). No heap: the module has no allocator safe across threads.
 */
export function adafactorSumSquaresBlock(out: usize, g: usize, rf: usize, cf: usize, R: i32, C: i32, k0: i32, k1: i32): void {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let k = k0;
  while (k < k1) {
    const gr = k / C;
    const end = min(k1, (gr + 1) * C);
    const f = load<f64>(rf + <usize>gr * 8);
    // cf of element k sits at cfk + 8 k (wrapping usize arithmetic: the sum is the true address).
    const cfk = cf + (<usize>(gr / R) * <usize>C + <usize>(k - gr * C)) * 8 - <usize>k * 8;
    const fv = f64x2.splat(f);
    while (k < end) {
      const l = k & 7;
      if (l == 0 && k + 8 <= end) {
        const u0 = f64x2.mul(f64x2.mul(fv, v128.load(cfk + <usize>k * 8)), load2(g + <usize>k * 4));
        const u1 = f64x2.mul(f64x2.mul(fv, v128.load(cfk + <usize>k * 8 + 16)), load2(g + <usize>k * 4 + 8));
        const u2 = f64x2.mul(f64x2.mul(fv, v128.load(cfk + <usize>k * 8 + 32)), load2(g + <usize>k * 4 + 16));
        const u3 = f64x2.mul(f64x2.mul(fv, v128.load(cfk + <usize>k * 8 + 48)), load2(g + <usize>k * 4 + 24));
        a0 = f64x2.add(a0, f64x2.mul(u0, u0));
        a1 = f64x2.add(a1, f64x2.mul(u1, u1));
        a2 = f64x2.add(a2, f64x2.mul(u2, u2));
        a3 = f64x2.add(a3, f64x2.mul(u3, u3));
        k += 8;
        continue;
      }
      const u = f * load<f64>(cfk + <usize>k * 8) * <f64>load<f32>(g + <usize>k * 4);
      const v = (l & 1) == 0 ? f64x2.replace_lane(f64x2.splat(0), 0, u * u) : f64x2.replace_lane(f64x2.splat(0), 1, u * u);
      if (l < 2) a0 = f64x2.add(a0, v);
      else if (l < 4) a1 = f64x2.add(a1, v);
      else if (l < 6) a2 = f64x2.add(a2, v);
      else a3 = f64x2.add(a3, v);
      k++;
    }
  }
  let sum = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  sum += f64x2.extract_lane(a1, 0);
  sum += f64x2.extract_lane(a1, 1);
  sum += f64x2.extract_lane(a2, 0);
  sum += f64x2.extract_lane(a2, 1);
  sum += f64x2.extract_lane(a3, 0);
  sum += f64x2.extract_lane(a3, 1);
  store<f64>(out, sum);
}

/** p = f32(p * decay), then p = f32(p - u * scale), over flat elements [k0, k1); a decay of exactly 1 changes no f32. */
export function adafactorApply(p: usize, g: usize, rf: usize, cf: usize, R: i32, C: i32, k0: i32, k1: i32, decay: f64, scale: f64): void {
  const dv = f64x2.splat(decay);
  const sv = f64x2.splat(scale);
  let k = k0;
  while (k < k1) {
    const gr = k / C;
    const end = min(k1, (gr + 1) * C);
    const fv = f64x2.splat(load<f64>(rf + <usize>gr * 8));
    const cfk = cf + (<usize>(gr / R) * <usize>C + <usize>(k - gr * C)) * 8 - <usize>k * 8;
    for (; k + 2 <= end; k += 2) {
      const u = f64x2.mul(f64x2.mul(fv, v128.load(cfk + <usize>k * 8)), load2(g + <usize>k * 4));
      const pd = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(load2(p + <usize>k * 4), dv)));
      store2(p + <usize>k * 4, f64x2.sub(pd, f64x2.mul(u, sv)));
    }
    if (k < end) {
      const u = f64x2.mul(f64x2.mul(fv, v128.load64_zero(cfk + <usize>k * 8)), load1(g + <usize>k * 4));
      const pd = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(load1(p + <usize>k * 4), dv)));
      store1(p + <usize>k * 4, f64x2.sub(pd, f64x2.mul(u, sv)));
      k++;
    }
  }
}
