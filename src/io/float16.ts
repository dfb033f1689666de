/**
 * Exact conversions from IEEE half precision (F16) and bfloat16 (BF16) to
 * float32, done on bit patterns so that signed zeros, subnormals, infinities
 * and NaN payloads all survive unchanged.
 */

/** float32 bit pattern of the F16 value with bits `h` (0..0xFFFF). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0) {
    if (mant === 0) return sign >>> 0; // ±0
    // Subnormal F16 is a normal float32: shift the mantissa up until its
    // leading 1 reaches the implicit-bit position, lowering the exponent.
    let e = 127 - 15 + 1;
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
  }
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN
  return (sign | ((exp + 127 - 15) << 23) | (mant << 13)) >>> 0;
}

/** The float32 value of the F16 bits `h`. */
export function f16ToF32(h: number): number {
  scratchU32[0] = f16BitsToF32Bits(h);
  return scratchF32[0];
}

/** The float32 value of the BF16 bits `b`: BF16 is the top half of a float32. */
export function bf16ToF32(b: number): number {
  scratchU32[0] = (b & 0xffff) << 16;
  return scratchF32[0];
}

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

// All 65536 F16 values as float32 bits: 256 KiB, built on first use, turns
// decoding a large checkpoint into one table lookup per value.
let f16Table: Uint32Array | null = null;
function table(): Uint32Array {
  if (f16Table === null) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/** Decodes F16 values `src` into `dest` (same length), bit-exactly. */
export function decodeF16(src: Uint16Array, dest: Float32Array): void {
  const t = table();
  const out = new Uint32Array(dest.buffer, dest.byteOffset, dest.length);
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]];
}

/** Decodes BF16 values `src` into `dest` (same length), bit-exactly. */
export function decodeBF16(src: Uint16Array, dest: Float32Array): void {
  const out = new Uint32Array(dest.buffer, dest.byteOffset, dest.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
}

/**
 * F16 bits of the float32 `x`, rounded to nearest, ties to even (as
 * `torch.Tensor.half()`): values beyond the F16 range become ±inf, tiny
 * ones F16 subnormals or ±0; NaN stays NaN (quiet).
 */
export function f32ToF16Bits(x: number): number {
  scratchF32[0] = x;
  const bits = scratchU32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal F16 (or zero): the implicit 1 joins the mantissa, shifted right by 1 - e more.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(full, shift);
  }
  // A carry out of the mantissa bumps the exponent, up to inf: exactly right for RNE.
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** `value >> shift` rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = Math.floor(value / 2 ** shift);
  const rest = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** BF16 bits of the float32 `x`: the top half, rounded to nearest, ties to even; NaN stays NaN (quiet). */
export function f32ToBF16Bits(x: number): number {
  scratchF32[0] = x;
  const bits = scratchU32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Encodes float32 values as F16 bits (round to nearest even). */
export function encodeF16(src: Float32Array, dest: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dest[i] = f32ToF16Bits(src[i]);
}

/** Encodes float32 values as BF16 bits (round to nearest even). */
export function encodeBF16(src: Float32Array, dest: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dest[i] = f32ToBF16Bits(src[i]);
}
