import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { readSafetensors, readSafetensorsHeader, readTensorsInto, writeSafetensors } from "../../src/io/safetensors.js";
import { repoRoot, tempDir } from "../helpers.js";

const pyDir = join(repoRoot, "tests", "reference", "safetensors");

interface Expected {
  metadata: Record<string, string>;
  order: string[];
  tensors: Record<string, { dtype: string; shape: number[]; f32_bits?: number[] }>;
}

test("a file written by the independent Python writer reads correctly (F32, F16, BF16, scalar, empty, I64 metadata)", () => {
  const expected = JSON.parse(readFileSync(join(pyDir, "python-written.expected.json"), "utf8")) as Expected;
  const file = join(pyDir, "python-written.safetensors");
  const header = readSafetensorsHeader(file);
  assert.deepEqual(header.metadata, expected.metadata);
  assert.deepEqual(
    header.tensors.map((t) => t.name),
    expected.order,
  );
  for (const [name, want] of Object.entries(expected.tensors)) {
    const info = header.byName.get(name);
    assert.ok(info, name);
    assert.equal(info.dtype, want.dtype, name);
    assert.deepEqual(info.shape, want.shape, name);
  }
  const floats = Object.keys(expected.tensors).filter((n) => expected.tensors[n].f32_bits !== undefined);
  const got = new Map<string, Float32Array>();
  readTensorsInto(header, floats, (info) => {
    const buf = new Float32Array(info.shape.reduce((a, b) => a * b, 1));
    got.set(info.name, buf);
    return buf;
  });
  for (const name of floats) {
    assert.deepEqual([...new Uint32Array(got.get(name)!.buffer)], expected.tensors[name].f32_bits, name);
  }
  // Reading everything as float32 names the integer tensor it cannot convert.
  assert.throws(
    () => readSafetensors(file),
    (e: unknown) => e instanceof UserError && /"model\.i64" has dtype I64/.test(e.message),
  );
});

test("write then read round-trips names, shapes, bit patterns and order", () => {
  const dir = tempDir();
  const file = join(dir, "t.safetensors");
  const a = new Float32Array([1.5, -0, NaN, Infinity, 1e-45, -3.25]);
  const b = new Float32Array([42]);
  writeSafetensors(file, [
    { name: "layer.10.w", shape: [2, 3], data: a },
    { name: "7", shape: [], data: b },
    { name: "empty", shape: [0], data: new Float32Array(0) },
  ]);
  const back = readSafetensors(file);
  assert.deepEqual([...back.keys()], ["layer.10.w", "7", "empty"]);
  assert.deepEqual(back.get("layer.10.w")!.shape, [2, 3]);
  assert.deepEqual(new Uint32Array(back.get("layer.10.w")!.data.buffer), new Uint32Array(a.buffer));
  assert.deepEqual(back.get("7")!.shape, []);
  assert.equal(back.get("7")!.data[0], 42);
  assert.equal(back.get("empty")!.data.length, 0);
  assert.deepEqual(readdirSync(dir), ["t.safetensors"]); // no temporary file left behind
});

test("the written layout matches the reference: u64 length, space-padded JSON to 8 bytes, format metadata", () => {
  const dir = tempDir();
  const file = join(dir, "t.safetensors");
  writeSafetensors(file, [{ name: "w", shape: [3], data: new Float32Array([1, 2, 3]) }]);
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  assert.equal(bytes.length, 8 + n + 12);
  const text = bytes.subarray(8, 8 + n).toString("utf8");
  assert.match(text, /^\{.*\} *$/);
  const header = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(header.__metadata__, { format: "pt" });
  assert.deepEqual(header.w, { dtype: "F32", shape: [3], data_offsets: [0, 12] });
  assert.deepEqual([...new Float32Array(Uint8Array.from(bytes.subarray(8 + n)).buffer)], [1, 2, 3]);
});

test("a failing write leaves an existing file untouched and no temporary file", () => {
  const dir = tempDir();
  const file = join(dir, "t.safetensors");
  writeFileSync(file, "old");
  assert.throws(
    () => writeSafetensors(file, [{ name: "w", shape: [2, 2], data: new Float32Array(3) }]),
    (e: unknown) => e instanceof UserError && /"w" has shape \[2, 2\] but 3 values/.test(e.message),
  );
  assert.throws(
    () =>
      writeSafetensors(file, [
        { name: "w", shape: [1], data: new Float32Array(1) },
        { name: "w", shape: [1], data: new Float32Array(1) },
      ]),
    /given twice/,
  );
  assert.equal(readFileSync(file, "utf8"), "old");
  assert.deepEqual(readdirSync(dir), ["t.safetensors"]);
  assert.equal(statSync(file).size, 3);
});
