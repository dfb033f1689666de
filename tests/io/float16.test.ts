import assert from "node:assert/strict";
import { test } from "node:test";
import { bf16ToF32, decodeBF16, decodeF16, f16BitsToF32Bits, f16ToF32 } from "../../src/io/float16.js";

test("F16 normal numbers decode to hand-computed values", () => {
  assert.equal(f16ToF32(0x3c00), 1);
  assert.equal(f16ToF32(0xc000), -2);
  assert.equal(f16ToF32(0x3800), 0.5);
  assert.equal(f16ToF32(0x7bff), 65504); // largest finite F16
  assert.equal(f16ToF32(0x0400), 2 ** -14); // smallest normal
  assert.equal(f16ToF32(0x3555), 0.333251953125); // 1365/4096
  assert.equal(f16ToF32(0x3c01), 1 + 2 ** -10);
});

test("F16 subnormals, signed zeros, infinities and NaN decode exactly", () => {
  assert.equal(f16ToF32(0x0001), 2 ** -24); // smallest subnormal
  assert.equal(f16ToF32(0x03ff), 1023 * 2 ** -24); // largest subnormal
  assert.equal(f16ToF32(0x8001), -(2 ** -24));
  assert.ok(Object.is(f16ToF32(0x0000), 0));
  assert.ok(Object.is(f16ToF32(0x8000), -0));
  assert.equal(f16ToF32(0x7c00), Infinity);
  assert.equal(f16ToF32(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16ToF32(0x7e00)));
  assert.ok(Number.isNaN(f16ToF32(0xfc01)));
  // NaN payload and sign are kept in the float32 bits.
  assert.equal(f16BitsToF32Bits(0x7e00), 0x7fc00000);
  assert.equal(f16BitsToF32Bits(0xfc01), 0xff802000);
});

test("BF16 is the top half of a float32", () => {
  assert.equal(bf16ToF32(0x3f80), 1);
  assert.equal(bf16ToF32(0xc000), -2);
  assert.equal(bf16ToF32(0x4049), 3.140625);
  assert.equal(bf16ToF32(0x0001), 2 ** -133); // subnormal float32
  assert.ok(Object.is(bf16ToF32(0x8000), -0));
  assert.equal(bf16ToF32(0x7f80), Infinity);
  assert.equal(bf16ToF32(0xff80), -Infinity);
  assert.ok(Number.isNaN(bf16ToF32(0x7fc0)));
});

test("bulk decoders agree with the scalar ones on every bit pattern", () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const viaF16 = new Float32Array(65536);
  const viaBF16 = new Float32Array(65536);
  decodeF16(all, viaF16);
  decodeBF16(all, viaBF16);
  const u16 = new Uint32Array(viaF16.buffer);
  const ub16 = new Uint32Array(viaBF16.buffer);
  for (let h = 0; h < 65536; h++) {
    assert.equal(u16[h], f16BitsToF32Bits(h));
    assert.equal(ub16[h], (h << 16) >>> 0);
  }
  // Every finite F16 value round-trips through Math.fround exactly.
  for (let h = 0; h < 65536; h++) {
    const v = viaF16[h];
    if (Number.isFinite(v)) assert.equal(Math.fround(v), v);
  }
});
