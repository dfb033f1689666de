import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { readSafetensors, readSafetensorsHeader } from "../../src/io/safetensors.js";
import { tempDir } from "../helpers.js";
import { f32Bytes, safetensorsBytes, writeRawSafetensors } from "./helpers.js";

const dir = tempDir();
const t = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

/** Asserts reading `file` fails with a UserError naming the file and matching `pattern`. */
function rejects(file: string, pattern: RegExp): void {
  assert.throws(
    () => readSafetensors(file),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
      assert.ok(e.message.startsWith(file), `message should name the file: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test("a well-formed control file reads (so the cases below fail for their own reason)", () => {
  const file = writeRawSafetensors(join(dir, "ok.safetensors"), { a: t("F32", [2], 0, 8), b: t("F32", [1], 8, 12) }, f32Bytes([1, 2, 3]));
  assert.deepEqual([...readSafetensors(file).get("b")!.data], [3]);
});

test("fewer than 8 bytes: the length prefix is truncated", () => {
  const file = join(dir, "short.safetensors");
  writeFileSync(file, Buffer.from([1, 0, 0]));
  rejects(file, /3 bytes, fewer than the 8-byte header length/);
});

test("header length above the 100 MB limit", () => {
  const file = writeRawSafetensors(join(dir, "huge.safetensors"), {}, undefined, { declaredLength: 100_000_001n });
  rejects(file, /header length 100000001 exceeds the 100000000-byte limit/);
});

test("header length past the end of the file (truncated header)", () => {
  const full = safetensorsBytes({ a: t("F32", [1], 0, 4) }, f32Bytes([1]));
  const file = join(dir, "trunc-header.safetensors");
  writeFileSync(file, full.subarray(0, 20));
  rejects(file, /header length \d+ runs past the end of the file \(20 bytes\)/);
});

test("header that is not JSON", () => {
  const file = writeRawSafetensors(join(dir, "badjson.safetensors"), '{"a": {"dtype": "F32",');
  rejects(file, /header is not valid UTF-8 JSON/);
});

test("header JSON that is not an object", () => {
  const file = writeRawSafetensors(join(dir, "array.safetensors"), "[1, 2]");
  rejects(file, /header JSON is not an object/);
});

test("offsets beyond the data region (truncated data)", () => {
  const file = writeRawSafetensors(join(dir, "oob.safetensors"), { a: t("F32", [4], 0, 16) }, f32Bytes([1, 2]));
  rejects(file, /data region has 8 bytes but the tensors need 16/);
});

test("overlapping tensors", () => {
  const file = writeRawSafetensors(
    join(dir, "overlap.safetensors"),
    { a: t("F32", [2], 0, 8), b: t("F32", [2], 4, 12) },
    f32Bytes([1, 2, 3]),
  );
  rejects(file, /"b": data_offsets \[4, 12\] overlap the previous tensor/);
});

test("a gap between tensors", () => {
  const file = writeRawSafetensors(join(dir, "gap.safetensors"), { a: t("F32", [1], 0, 4), b: t("F32", [1], 8, 12) }, f32Bytes([1, 2, 3]));
  rejects(file, /"b": gap in the data region: bytes 4\.\.8 belong to no tensor/);
});

test("trailing bytes no tensor covers", () => {
  const file = writeRawSafetensors(join(dir, "trailing.safetensors"), { a: t("F32", [1], 0, 4) }, f32Bytes([1, 2]));
  rejects(file, /data region has 8 bytes but the tensors cover only 4/);
});

test("shape × dtype size different from the byte span", () => {
  const file = writeRawSafetensors(join(dir, "shape.safetensors"), { a: t("F16", [3], 0, 8) }, f32Bytes([1, 2]));
  rejects(file, /"a": shape \[3\] of F16 needs 6 bytes but data_offsets \[0, 8\] span 8/);
});

test("unknown dtype, named with the tensor", () => {
  const file = writeRawSafetensors(join(dir, "dtype.safetensors"), { w: t("F12", [1], 0, 4) }, f32Bytes([1]));
  rejects(file, /tensor "w": unknown dtype "F12"/);
});

test("malformed entries: bad shape, bad offsets, end before begin, non-string metadata", () => {
  rejects(
    writeRawSafetensors(join(dir, "e1.safetensors"), { w: t("F32", [-1], 0, 4) }, f32Bytes([1])),
    /"w": shape must be an array of non-negative integers/,
  );
  rejects(
    writeRawSafetensors(join(dir, "e2.safetensors"), { w: { dtype: "F32", shape: [1], data_offsets: [0] } }, f32Bytes([1])),
    /"w": data_offsets must be \[begin, end\]/,
  );
  rejects(
    writeRawSafetensors(join(dir, "e3.safetensors"), { w: t("F32", [0], 4, 0) }, f32Bytes([1])),
    /"w": data_offsets \[4, 0\] end before begin/,
  );
  rejects(writeRawSafetensors(join(dir, "e4.safetensors"), { __metadata__: { format: 1 } }), /__metadata__\.format is not a string/);
});

test("the header alone can be read without touching the data, and a missing file is a UserError", () => {
  const file = writeRawSafetensors(
    join(dir, "meta.safetensors"),
    { __metadata__: { format: "pt" }, x: t("I64", [2], 0, 16) },
    new Uint8Array(16),
  );
  const h = readSafetensorsHeader(file);
  assert.deepEqual(h.metadata, { format: "pt" });
  assert.equal(h.byName.get("x")!.dtype, "I64");
  assert.throws(
    () => readSafetensorsHeader(join(dir, "nope.safetensors")),
    (e: unknown) => e instanceof UserError && /cannot open/.test(e.message),
  );
});
