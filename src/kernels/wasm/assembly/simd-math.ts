// AssemblyScript (compiled by scripts/build-wasm.mjs, not by tsc): f32x4 exp,
// shared by the pointwise and row kernels. Range reduction x = n ln2 + r with
// |r| <= ln2 / 2, a degree-6 minimax polynomial for e^r (the classic Cephes
// expf coefficients, relative error ~2e-7), then 2^n built in the exponent bits.

// Inputs are clamped so 2^n stays a normal float: below -87 the result is
// ~1e-38 (callers only add such terms to sums >= 1), above 88 it saturates.
const EXP_LO: f32 = -87.0;
const EXP_HI: f32 = 88.0;
const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/** e^x lane by lane (NaN stays NaN). */
@inline export function expF32x4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

/** The same e^x for one value (tails of rows whose length is not a multiple of 4). */
@inline export function expF32(x: f32): f32 {
  return f32x4.extract_lane(expF32x4(f32x4.splat(x)), 0);
}

/** Sum of the four lanes, in f64. */
@inline export function sumLanesF64(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) +
    <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}

const LN2: f64 = 0.6931471805599453;
const SQRT2: f64 = 1.4142135623730951;

/**
 * Natural log for positive, finite x (0 gives -Infinity), without the
 * standard library's lookup tables: this module must stay free of data
 * segments (see scripts/build-wasm.mjs). x = 2^e m with m in [sqrt(1/2), sqrt(2)),
 * log m = 2 atanh(z), z = (m - 1) / (m + 1), |z| < 0.172: the odd series to
 * z^15 leaves an error near 1e-14.
 */
export function logF64(x: f64): f64 {
  if (x == 0) return -Infinity;
  if (!(x > 0) || x == Infinity) return x < 0 ? NaN : x;
  let bits = reinterpret<i64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  if (e == -1023) {
    // Subnormal: scale into the normal range first.
    bits = reinterpret<i64>(x * 18014398509481984.0); // 2^54
    e = <i32>((bits >> 52) & 0x7ff) - 1023 - 54;
  }
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m >= SQRT2) {
    m *= 0.5;
    e++;
  }
  const z = (m - 1) / (m + 1);
  const z2 = z * z;
  let s: f64 = 1.0 / 15;
  s = s * z2 + 1.0 / 13;
  s = s * z2 + 1.0 / 11;
  s = s * z2 + 1.0 / 9;
  s = s * z2 + 1.0 / 7;
  s = s * z2 + 1.0 / 5;
  s = s * z2 + 1.0 / 3;
  s = s * z2 + 1;
  return <f64>e * LN2 + 2 * z * s;
}
