import { UserError } from "../errors.js";

/**
 * The safetensors header: an 8-byte little-endian length N, then N bytes of
 * JSON mapping tensor names to `{dtype, shape, data_offsets}` (plus an
 * optional `__metadata__` string map), then the data region. Validation
 * follows the reference implementation: bounded header, offsets that tile the
 * data region exactly (sorted, no gap, no overlap, nothing left over) and a
 * byte length equal to shape product × dtype size.
 */

/** Bytes per element of every dtype the safetensors format defines (whole-byte ones). */
export const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
  C64: 8,
} as const;

/**
 * A dtype a safetensors header may name (rrhf reads F32, F16 and BF16 as float32).
 *
 * @example
 * const dtypes: SafetensorsDtype[] = readSafetensorsHeader("model.safetensors").tensors.map((t) => t.dtype);
 */
export type SafetensorsDtype = keyof typeof DTYPE_SIZES;

/** Header size limit of the reference implementation (100 MB). */
export const MAX_HEADER_SIZE = 100_000_000;

/**
 * One tensor's entry; `begin`/`end` are byte offsets inside the data region.
 *
 * @example
 * const info = readSafetensorsHeader("model.safetensors").byName.get("transformer.wte.weight");
 * console.log(info?.dtype, info?.shape, info ? info.end - info.begin : 0); // bytes
 */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * A safetensors file's validated header: its tensors in data order, by name, and its metadata.
 *
 * @example
 * const header = readSafetensorsHeader("tests/fixtures/models/gpt2-tiny/model.safetensors");
 * console.log(header.tensors.length, header.dataStart);
 */
export interface SafetensorsHeader {
  file: string;
  /** N, the JSON length in bytes (padding included). */
  headerSize: number;
  /** Absolute file offset of the data region: 8 + N. */
  dataStart: number;
  /** Tensors in data order (sorted by offset). */
  tensors: TensorInfo[];
  byName: Map<string, TensorInfo>;
  /** `__metadata__`, or null when absent. */
  metadata: Record<string, string> | null;
}

export function isKnownDtype(d: string): d is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_SIZES, d);
}

/** Number of elements of `shape` (1 for a scalar `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads the 8-byte prefix and checks N against the limit and the file size.
 * Returns N. `prefix` holds the first (up to) 8 bytes of the file.
 */
export function parseHeaderSize(file: string, prefix: Uint8Array, fileSize: number): number {
  const fail = (problem: string): never => {
    throw new UserError(`${file}: not a valid safetensors file: ${problem}`);
  };
  if (fileSize < 8) fail(`file has ${fileSize} bytes, fewer than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) fail(`header length ${n} exceeds the ${MAX_HEADER_SIZE}-byte limit`);
  const size = Number(n);
  if (8 + size > fileSize) fail(`header length ${size} runs past the end of the file (${fileSize} bytes)`);
  return size;
}

/** Parses and validates the JSON header. `dataLength` = file size − 8 − N. */
export function parseHeaderJson(file: string, json: Uint8Array, dataLength: number): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new UserError(`${file}: not a valid safetensors file: ${problem}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isRecord(parsed)) return fail("header JSON is not an object");

  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === "__metadata__") {
      if (!isRecord(entry)) fail("__metadata__ is not an object");
      const m: Record<string, string> = {};
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
        m[k] = v as string;
      }
      metadata = m;
      continue;
    }
    if (!isRecord(entry)) fail(`tensor "${name}": entry is not an object`);
    const e = entry as Record<string, unknown>;
    const { dtype, shape, data_offsets: offsets } = e;
    if (typeof dtype !== "string") return fail(`tensor "${name}": dtype is missing or not a string`);
    if (!isKnownDtype(dtype)) {
      return fail(`tensor "${name}": unknown dtype "${dtype}" (known: ${Object.keys(DTYPE_SIZES).join(", ")})`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      return fail(`tensor "${name}": shape must be an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      return fail(`tensor "${name}": data_offsets must be [begin, end] non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before begin`);
    const expected = shapeSize(shape as number[]) * DTYPE_SIZES[dtype];
    if (end - begin !== expected) {
      fail(
        `tensor "${name}": shape [${(shape as number[]).join(", ")}] of ${dtype} needs ${expected} bytes ` +
          `but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    tensors.push({ name, dtype, shape: shape as number[], begin, end });
  }

  // The reference requires the tensors to tile the data region exactly.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin < cursor) fail(`tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (ends at ${cursor})`);
    if (t.begin > cursor) fail(`tensor "${t.name}": gap in the data region: bytes ${cursor}..${t.begin} belong to no tensor`);
    cursor = t.end;
  }
  if (cursor > dataLength) {
    fail(`data region has ${dataLength} bytes but the tensors need ${cursor} (file truncated?)`);
  }
  if (cursor < dataLength) {
    fail(`data region has ${dataLength} bytes but the tensors cover only ${cursor} (trailing bytes)`);
  }
  return {
    file,
    headerSize: json.length,
    dataStart: 8 + json.length,
    tensors,
    byName: new Map(tensors.map((t) => [t.name, t])),
    metadata,
  };
}
