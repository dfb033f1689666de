import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { UserError } from "../errors.js";
import { readSafetensorsHeader, readTensorsInto, type SafetensorsHeader, type TensorInfo } from "./safetensors.js";

/**
 * A checkpoint made of one safetensors file or of shards listed by a
 * `model.safetensors.index.json`: every tensor's header entry, found by name,
 * with the data still on disk until read.
 */
export interface SafetensorsCheckpoint {
  /** The safetensors files, in the order they were opened. */
  files: string[];
  tensors: Map<string, { header: SafetensorsHeader; info: TensorInfo }>;
}

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

/** Opens one safetensors file (reads its header only). */
export function openSafetensorsFile(file: string): SafetensorsCheckpoint {
  const header = readSafetensorsHeader(file);
  const tensors = new Map(header.tensors.map((info) => [info.name, { header, info }]));
  return { files: [file], tensors };
}

function parseIndex(indexFile: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(indexFile, "utf8"));
  } catch (err) {
    throw new UserError(`${indexFile}: cannot read the shard index (${err instanceof Error ? err.message : String(err)})`);
  }
  const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new UserError(`${indexFile}: weight_map is missing or not an object`);
  }
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    // A shard must sit beside the index: no paths, so an index cannot point elsewhere.
    if (typeof shard !== "string" || shard === "" || basename(shard) !== shard || shard === "." || shard === "..") {
      throw new UserError(`${indexFile}: weight_map["${name}"] must be a file name in the same folder`);
    }
    map.set(name, shard);
  }
  return map;
}

/**
 * Opens a sharded checkpoint from its index. Errors: a shard file missing, a
 * tensor present in two shards, a tensor the index places in a shard that
 * lacks it, or a tensor in a shard that the index does not list there.
 */
export function openShardedSafetensors(indexFile: string): SafetensorsCheckpoint {
  const dir = join(indexFile, "..");
  const weightMap = parseIndex(indexFile);
  const shardNames = [...new Set(weightMap.values())];
  const missingShards = shardNames.filter((s) => !existsSync(join(dir, s)));
  if (missingShards.length > 0) {
    throw new UserError(`${indexFile}: shard file(s) not found: ${missingShards.join(", ")}`);
  }
  const tensors: SafetensorsCheckpoint["tensors"] = new Map();
  const problems: string[] = [];
  const files: string[] = [];
  // name -> the first shard that holds it, whether or not the index agrees.
  const seen = new Map<string, string>();
  for (const shard of shardNames) {
    const file = join(dir, shard);
    files.push(file);
    const header = readSafetensorsHeader(file);
    for (const info of header.tensors) {
      const previous = seen.get(info.name);
      if (previous !== undefined) {
        problems.push(`tensor "${info.name}" is in two shards: ${previous} and ${shard}`);
        continue;
      }
      seen.set(info.name, shard);
      const listed = weightMap.get(info.name);
      if (listed !== shard) {
        problems.push(
          listed === undefined
            ? `tensor "${info.name}" in ${shard} is not in weight_map`
            : `tensor "${info.name}" is in ${shard} but weight_map puts it in ${listed}`,
        );
        continue;
      }
      tensors.set(info.name, { header, info });
    }
  }
  for (const [name, shard] of weightMap) {
    if (!seen.has(name)) {
      problems.push(`weight_map puts tensor "${name}" in ${shard}, which does not contain it`);
    }
  }
  if (problems.length > 0) throw new UserError(`${indexFile}: inconsistent sharded checkpoint:\n  ${problems.join("\n  ")}`);
  return { files, tensors };
}

/**
 * Opens the weights of a Hugging Face model folder: `model.safetensors`, or
 * the shards of `model.safetensors.index.json` when there is no single file.
 */
export function openModelWeights(dir: string): SafetensorsCheckpoint {
  if (existsSync(join(dir, SINGLE_FILE))) return openSafetensorsFile(join(dir, SINGLE_FILE));
  if (existsSync(join(dir, INDEX_FILE))) return openShardedSafetensors(join(dir, INDEX_FILE));
  let hint = "";
  try {
    const present = readdirSync(dir);
    if (present.some((f) => f.endsWith(".bin") || f.endsWith(".pt") || f.endsWith(".pth"))) {
      hint = " (PyTorch pickle weights are not supported; convert them to safetensors)";
    }
  } catch {
    throw new UserError(`${dir}: model folder not found or not readable`);
  }
  throw new UserError(`${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}${hint}`);
}

/** Reads the tensors `names` (each file opened once) into `destFor`'s buffers. */
export function readCheckpointInto(
  ckpt: SafetensorsCheckpoint,
  names: readonly string[],
  destFor: (name: string, info: TensorInfo) => Float32Array,
): void {
  const byHeader = new Map<SafetensorsHeader, string[]>();
  for (const name of names) {
    const entry = ckpt.tensors.get(name);
    if (entry === undefined) throw new UserError(`checkpoint has no tensor named "${name}"`);
    const list = byHeader.get(entry.header) ?? [];
    list.push(name);
    byHeader.set(entry.header, list);
  }
  for (const [header, list] of byHeader) readTensorsInto(header, list, (info) => destFor(info.name, info));
}
