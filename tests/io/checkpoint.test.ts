import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { openModelWeights, openShardedSafetensors, readCheckpointInto } from "../../src/io/checkpoint.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { tempDir } from "../helpers.js";

const INDEX = "model.safetensors.index.json";

function shardedDir(weightMap: Record<string, string>, shards: Record<string, Record<string, number[]>>): string {
  const dir = tempDir();
  for (const [file, tensors] of Object.entries(shards)) {
    writeSafetensors(
      join(dir, file),
      Object.entries(tensors).map(([name, values]) => ({ name, shape: [values.length], data: new Float32Array(values) })),
    );
  }
  writeFileSync(join(dir, INDEX), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  return dir;
}

const S1 = "model-00001-of-00002.safetensors";
const S2 = "model-00002-of-00002.safetensors";

test("a sharded checkpoint reads every tensor from its shard", () => {
  const dir = shardedDir({ a: S1, b: S1, c: S2 }, { [S1]: { a: [1, 2], b: [3] }, [S2]: { c: [4, 5, 6] } });
  const ckpt = openModelWeights(dir);
  assert.deepEqual([...ckpt.tensors.keys()].sort(), ["a", "b", "c"]);
  assert.equal(ckpt.files.length, 2);
  const out = new Map<string, Float32Array>();
  readCheckpointInto(ckpt, ["c", "a", "b"], (name, info) => {
    const buf = new Float32Array(info.shape[0]);
    out.set(name, buf);
    return buf;
  });
  assert.deepEqual([...out.get("a")!], [1, 2]);
  assert.deepEqual([...out.get("b")!], [3]);
  assert.deepEqual([...out.get("c")!], [4, 5, 6]);
});

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UserError && pattern.test(e.message));
}

test("a missing shard file is named", () => {
  const dir = shardedDir({ a: S1, c: S2 }, { [S1]: { a: [1] } });
  rejects(() => openShardedSafetensors(join(dir, INDEX)), /shard file\(s\) not found: model-00002-of-00002\.safetensors/);
});

test("a tensor stored in two shards is an error naming both", () => {
  const dir = shardedDir({ a: S1, b: S2 }, { [S1]: { a: [1], b: [9] }, [S2]: { b: [2] } });
  rejects(() => openShardedSafetensors(join(dir, INDEX)), /tensor "b" is in two shards: model-00001-of-00002\.safetensors and model-00002/);
});

test("index and shards must agree: unlisted tensors and tensors missing from their shard", () => {
  const dir1 = shardedDir({ a: S1 }, { [S1]: { a: [1], extra: [2] } });
  rejects(() => openShardedSafetensors(join(dir1, INDEX)), /tensor "extra" in model-00001-of-00002\.safetensors is not in weight_map/);
  const dir2 = shardedDir({ a: S1, gone: S1 }, { [S1]: { a: [1] } });
  rejects(
    () => openShardedSafetensors(join(dir2, INDEX)),
    /weight_map puts tensor "gone" in model-00001-of-00002\.safetensors, which does not contain it/,
  );
});

test("a shard path outside the folder and a broken index are rejected", () => {
  const dir = shardedDir({ a: "../elsewhere.safetensors" }, {});
  rejects(() => openShardedSafetensors(join(dir, INDEX)), /weight_map\["a"\] must be a file name in the same folder/);
  const dir2 = tempDir();
  writeFileSync(join(dir2, INDEX), "{not json");
  rejects(() => openModelWeights(dir2), /cannot read the shard index/);
  const dir3 = tempDir();
  writeFileSync(join(dir3, INDEX), JSON.stringify({ metadata: {} }));
  rejects(() => openModelWeights(dir3), /weight_map is missing/);
});

test("a folder without weights says what it looked for, and hints at pickle files", () => {
  const dir = tempDir();
  rejects(() => openModelWeights(dir), /no model\.safetensors or model\.safetensors\.index\.json$/);
  writeFileSync(join(dir, "pytorch_model.bin"), "x");
  rejects(() => openModelWeights(dir), /PyTorch pickle weights are not supported/);
});
