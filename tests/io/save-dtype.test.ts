/**
 * `--save-dtype`: float32 -> F16 / BF16 rounding (to nearest, ties to even,
 * as torch's `.half()` / `.bfloat16()`), safetensors headers in that dtype,
 * and model folders saved half-size that our loader reads back with the
 * weights rounded as stated and the loss within the stated tolerance.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { bf16ToF32, f16ToF32, f32ToBF16Bits, f32ToF16Bits } from "../../src/io/float16.js";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "../../src/io/safetensors.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { loadModelFolder, saveModelFolder } from "../../src/models/hf/folder.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { collate } from "../../src/tokenize/collate.js";
import { encodeRecord } from "../../src/tokenize/encode.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { fixture, runRrhf, tempDir } from "../helpers.js";

test("F16 encoding rounds to nearest, ties to even, with overflow to inf and subnormals", () => {
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(-2), 0xc000);
  assert.equal(f32ToF16Bits(65504), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00, "half-way above the largest F16 rounds (to even) to inf");
  assert.equal(f32ToF16Bits(65519), 0x7bff);
  assert.equal(f32ToF16Bits(Infinity), 0x7c00);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.ok(Number.isNaN(f16ToF32(f32ToF16Bits(Number.NaN))));
  // 1 + 2^-11 is half-way between 1 and the next F16 (1 + 2^-10): ties go to the even mantissa, 1.
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00);
  // 1 + 3 * 2^-11 is half-way between 1 + 2^-10 (odd) and 1 + 2^-9 (even): up.
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01, "just above half-way rounds up");
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001, "smallest subnormal");
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000, "half of it ties to even: 0");
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002, "1.5 subnormal steps ties to even: 2");
  assert.equal(f32ToF16Bits(2 ** -14 - 2 ** -25), 0x0400, "rounds up out of the subnormals into the smallest normal");
  // Every F16 value survives a round trip exactly.
  for (let h = 0; h < 0x10000; h++) {
    const x = f16ToF32(h);
    if (Number.isNaN(x)) continue;
    assert.equal(f32ToF16Bits(x), h, `F16 0x${h.toString(16)}`);
  }
});

test("BF16 encoding rounds to nearest, ties to even, keeping NaN a NaN", () => {
  assert.equal(f32ToBF16Bits(1), 0x3f80);
  assert.equal(f32ToBF16Bits(1 + 2 ** -8), 0x3f80, "tie to even (down)");
  assert.equal(f32ToBF16Bits(1 + 3 * 2 ** -8), 0x3f82, "tie to even (up)");
  assert.equal(f32ToBF16Bits(1 + 2 ** -8 + 2 ** -20), 0x3f81);
  assert.equal(f32ToBF16Bits(-Infinity), 0xff80);
  assert.equal(f32ToBF16Bits(3.4028234663852886e38), 0x7f80, "the largest float32 rounds to inf, as torch does");
  assert.ok(Number.isNaN(bf16ToF32(f32ToBF16Bits(Number.NaN))));
  for (let b = 0; b < 0x10000; b += 7) {
    const x = bf16ToF32(b);
    if (!Number.isNaN(x)) assert.equal(f32ToBF16Bits(x), b);
  }
});

test("writeSafetensors writes F16 and BF16 with that dtype in the header; readSafetensors reads the rounded values", () => {
  const dir = tempDir();
  const data = Float32Array.of(1, -0.1, 3.3, 1e-6, 60000);
  for (const dtype of ["F16", "BF16"] as const) {
    const file = join(dir, `${dtype}.safetensors`);
    writeSafetensors(file, [{ name: "w", shape: [5], data }], undefined, undefined, dtype);
    const header = readSafetensorsHeader(file);
    assert.equal(header.tensors[0].dtype, dtype);
    assert.equal(header.tensors[0].end - header.tensors[0].begin, 10, "2 bytes per value");
    const back = readSafetensors(file).get("w")?.data;
    assert.ok(back);
    const round = dtype === "F16" ? (x: number) => f16ToF32(f32ToF16Bits(x)) : (x: number) => bf16ToF32(f32ToBF16Bits(x));
    assert.deepEqual([...back], [...data].map(round));
    assert.notDeepEqual([...back], [...data], "half precision changed some values");
  }
  assert.throws(
    () =>
      writeSafetensors(join(dir, "big.safetensors"), [{ name: "w", shape: [1], data: Float32Array.of(1e5) }], undefined, undefined, "F16"),
    /tensor "w"\[0\] = 100000 is beyond the float16 range/,
  );
});

/** The summed log-probs of the scored tokens of a fixed two-response batch. */
async function logpSum(dir: string): Promise<number> {
  const tok = await loadTokenizer(dir);
  const model = loadCausalLM(dir, { backend: refBackend });
  const record = { query: "\n\nHuman: Hi!\n\nAssistant:", responses: [" Hello!", " Go away."], scores: [1, 0] };
  const batch = collate([encodeRecord(tok, record, { maxLength: 64 })], { padTokenId: tok.special.pad_token_id });
  const pass = model.forward(batch, { grad: false });
  const sum = pass.tokenLogps.reduce((a, v) => a + v, 0);
  pass.release();
  return sum;
}

test("saveModelFolder in float16 / bfloat16: half-size file, torch_dtype set, loads back rounded, log-probs within tolerance", async () => {
  const src = fixture("models", "gpt2-tiny");
  const hf = loadModelFolder(src);
  const f32Bytes = readFileSync(join(src, "model.safetensors")).length;
  const reference = await logpSum(src);
  // Stated tolerance, relative to the float32 sum: 1e-3 for F16 (11 significant bits), 1e-2 for BF16 (8).
  const rtol = { float16: 1e-3, bfloat16: 1e-2 } as const;
  for (const dtype of ["float16", "bfloat16"] as const) {
    const dir = join(tempDir(), dtype);
    saveModelFolder(dir, hf, { dtype });
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(config.torch_dtype, dtype);
    const header = readSafetensorsHeader(join(dir, "model.safetensors"));
    assert.ok(header.tensors.every((t) => t.dtype === (dtype === "float16" ? "F16" : "BF16")));
    assert.ok(readFileSync(join(dir, "model.safetensors")).length < f32Bytes * 0.55, "about half the bytes");
    const back = loadModelFolder(dir);
    const round = dtype === "float16" ? (x: number) => f16ToF32(f32ToF16Bits(x)) : (x: number) => bf16ToF32(f32ToBF16Bits(x));
    for (const name of hf.params.names()) {
      const want = Float32Array.from(hf.params.view(name), round);
      assert.deepEqual(back.params.view(name), want, `${dtype} ${name}`);
    }
    const got = await logpSum(dir);
    assert.ok(Math.abs(got - reference) <= rtol[dtype] * Math.abs(reference), `${dtype}: log-prob sum ${got} vs float32 ${reference}`);
    assert.notEqual(got, reference, "rounding did change the weights");
  }
});

test("rrhf init-model --save-dtype bfloat16 writes BF16 weights and says so in config.json", () => {
  const out = join(tempDir(), "m");
  const r = runRrhf(["init-model", "--config", fixture("models", "gpt2-tiny", "config.json"), "--out", out, "--save-dtype", "bfloat16"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readSafetensorsHeader(join(out, "model.safetensors")).tensors[0].dtype, "BF16");
  assert.equal((JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as { torch_dtype: string }).torch_dtype, "bfloat16");
  const bad = runRrhf(["init-model", "--config", "x.json", "--out", out, "--save-dtype", "float64"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--save-dtype/);
});
