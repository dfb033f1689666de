// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): the
// optimizer and gradient-clipping kernels. They compute in f64, two lanes at
// a time, every operation in the order of the reference loops in
// kernels/ref/optim.ts and each stored value rounded to f32 as there, so the
// results equal the reference bit for bit (WASM has no fused multiply-add to
// change a rounding). Pointers are byte offsets; ranges are element indices.

// Two f32 at p, widened to f64x2.
@inline export function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

// Rounds both lanes to f32 and stores the two values at p.
@inline export function store2(p: usize, x: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(x), 0);
}

// One tail element through the same vector path: identical arithmetic for every element.
@inline export function load1(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load32_zero(p));
}

@inline export function store1(p: usize, x: v128): void {
  v128.store32_lane(p, f32x4.demote_f64x2_zero(x), 0);
}

// p = p * decay; m = b1 m + (1 - b1) g; v = b2 v + ((1 - b2) g) g; p -= (stepSize m) / (sqrt(v) / bc2Sqrt + eps).
// Multiplying by a decay of exactly 1 leaves an f32 unchanged, so the reference's `decay !== 1` test needs no branch.
@inline function adamwStep(pp: usize, gp: usize, mp: usize, vp: usize, two: bool, b1: f64, b2: f64, eps: f64, stepSize: f64, bc2Sqrt: f64, decay: f64): void {
  const g = two ? load2(gp) : load1(gp);
  const pd = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(two ? load2(pp) : load1(pp), f64x2.splat(decay))));
  const m = f64x2.add(f64x2.mul(f64x2.splat(b1), two ? load2(mp) : load1(mp)), f64x2.mul(f64x2.splat(1 - b1), g));
  const v = f64x2.add(f64x2.mul(f64x2.splat(b2), two ? load2(vp) : load1(vp)), f64x2.mul(f64x2.mul(f64x2.splat(1 - b2), g), g));
  const mr = f32x4.demote_f64x2_zero(m);
  const vr = f32x4.demote_f64x2_zero(v);
  const denom = f64x2.add(f64x2.div(f64x2.sqrt(f64x2.promote_low_f32x4(vr)), f64x2.splat(bc2Sqrt)), f64x2.splat(eps));
  const p = f64x2.sub(pd, f64x2.div(f64x2.mul(f64x2.splat(stepSize), f64x2.promote_low_f32x4(mr)), denom));
  if (two) {
    v128.store64_lane(mp, mr, 0);
    v128.store64_lane(vp, vr, 0);
    store2(pp, p);
  } else {
    v128.store32_lane(mp, mr, 0);
    v128.store32_lane(vp, vr, 0);
    store1(pp, p);
  }
}

/** One AdamW update of elements [start, end) in place: adamwUpdateRef in kernels/ref/optim.ts. */
export function adamwUpdate(
  params: usize,
  grads: usize,
  m: usize,
  v: usize,
  start: i32,
  end: i32,
  b1: f64,
  b2: f64,
  eps: f64,
  stepSize: f64,
  bc2Sqrt: f64,
  decay: f64,
): void {
  let i = start;
  for (; i + 2 <= end; i += 2) {
    const o = <usize>i * 4;
    adamwStep(params + o, grads + o, m + o, v + o, true, b1, b2, eps, stepSize, bc2Sqrt, decay);
  }
  if (i < end) {
    const o = <usize>i * 4;
    adamwStep(params + o, grads + o, m + o, v + o, false, b1, b2, eps, stepSize, bc2Sqrt, decay);
  }
}

/** Stores at `out` (an f64) the sum of x[i]^2 over [start, end), in f64: two two-lane partial sums, then in order. */
export function sumSquares(out: usize, x: usize, start: i32, end: i32): void {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const lo = load2(x + <usize>i * 4);
    const hi = load2(x + <usize>i * 4 + 8);
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  let sum = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1));
  for (; i < end; i++) {
    const e = <f64>load<f32>(x + <usize>i * 4);
    sum += e * e;
  }
  store<f64>(out, sum);
}

/** x[i] = f32(x[i] * coef) over [start, end): scaleInPlaceRef. */
export function scaleInPlace(x: usize, start: i32, end: i32, coef: f64): void {
  const c = f64x2.splat(coef);
  let i = start;
  for (; i + 2 <= end; i += 2) store2(x + <usize>i * 4, f64x2.mul(load2(x + <usize>i * 4), c));
  if (i < end) store1(x + <usize>i * 4, f64x2.mul(load1(x + <usize>i * 4), c));
}

// d = g + wd p; with momentum, b = f32(first ? d : mu b + d) and d = b; p -= lr d: one element pair (or one).
@inline function sgdStep(pp: usize, gp: usize, bp: usize, two: bool, lr: f64, wd: f64, mu: f64, first: bool): void {
  const p = two ? load2(pp) : load1(pp);
  let d = f64x2.add(two ? load2(gp) : load1(gp), f64x2.mul(f64x2.splat(wd), p));
  if (mu != 0) {
    const b = f32x4.demote_f64x2_zero(first ? d : f64x2.add(f64x2.mul(f64x2.splat(mu), two ? load2(bp) : load1(bp)), d));
    if (two) v128.store64_lane(bp, b, 0);
    else v128.store32_lane(bp, b, 0);
    d = f64x2.promote_low_f32x4(b);
  }
  const out = f64x2.sub(p, f64x2.mul(f64x2.splat(lr), d));
  if (two) store2(pp, out);
  else store1(pp, out);
}

/** One SGD update of elements [start, end) in place (buf unused when mu is 0): sgdUpdateRef in kernels/ref/optim.ts. */
export function sgdUpdate(params: usize, grads: usize, buf: usize, start: i32, end: i32, lr: f64, wd: f64, mu: f64, first: i32): void {
  let i = start;
  for (; i + 2 <= end; i += 2) {
    const o = <usize>i * 4;
    sgdStep(params + o, grads + o, buf + o, true, lr, wd, mu, first != 0);
  }
  if (i < end) {
    const o = <usize>i * 4;
    sgdStep(params + o, grads + o, buf + o, false, lr, wd, mu, first != 0);
  }
}
