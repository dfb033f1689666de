import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { UserError } from "../errors.js";
import { writeAllSync, writeFileAtomicWith, type WriteBytes } from "./atomic.js";
import { decodeBF16, decodeF16, encodeBF16, encodeF16 } from "./float16.js";
import { parseHeaderJson, parseHeaderSize, shapeSize, type SafetensorsHeader, type TensorInfo } from "./safetensors-header.js";

export type { SafetensorsDtype, SafetensorsHeader, TensorInfo } from "./safetensors-header.js";

/**
 * A float32 tensor in memory, row-major.
 *
 * @example
 * const wte: F32Tensor | undefined = readSafetensors("model.safetensors").get("transformer.wte.weight");
 * console.log(wte?.shape, wte?.data.length);
 */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A named float32 tensor to write.
 *
 * @example
 * const t: NamedF32Tensor = { name: "bias", shape: [3], data: Float32Array.of(0, 0, 0) };
 * writeSafetensors("out.safetensors", [t]);
 */
export interface NamedF32Tensor extends F32Tensor {
  name: string;
}

// Float32Array views use the host byte order; safetensors is little-endian.
function assertLittleEndian(): void {
  if (endianness() !== "LE") throw new Error("safetensors I/O needs a little-endian host");
}

function openForRead(file: string): number {
  try {
    return openSync(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot open safetensors file (${code ?? String(err)})`);
  }
}

/** Fills `dest` from `fd` at `position`; a short read means the file shrank. */
function readExactly(fd: number, file: string, dest: Uint8Array, position: number): void {
  const chunk = 1 << 30;
  for (let done = 0; done < dest.length; ) {
    const want = Math.min(chunk, dest.length - done);
    const got = readSync(fd, dest, done, want, position + done);
    if (got === 0) throw new UserError(`${file}: unexpected end of file at byte ${position + done}`);
    done += got;
  }
}

function readHeaderFd(fd: number, file: string): SafetensorsHeader {
  const fileSize = fstatSync(fd).size;
  const prefix = new Uint8Array(8);
  if (fileSize >= 8) readExactly(fd, file, prefix, 0);
  const n = parseHeaderSize(file, prefix, fileSize);
  const json = new Uint8Array(n);
  readExactly(fd, file, json, 8);
  return parseHeaderJson(file, json, fileSize - 8 - n);
}

/**
 * Reads and validates only the header of `file` (no tensor data).
 *
 * @example
 * const header = readSafetensorsHeader("tests/fixtures/models/gpt2-tiny/model.safetensors");
 * for (const t of header.tensors) console.log(t.name, t.dtype, t.shape);
 */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openForRead(file);
  try {
    return readHeaderFd(fd, file);
  } finally {
    closeSync(fd);
  }
}

function readInfoInto(fd: number, header: SafetensorsHeader, info: TensorInfo, dest: Float32Array): void {
  const n = shapeSize(info.shape);
  if (dest.length !== n) {
    throw new Error(`destination for "${info.name}" has ${dest.length} values, tensor has ${n}`);
  }
  const position = header.dataStart + info.begin;
  switch (info.dtype) {
    case "F32":
      // Straight into the destination's memory: no intermediate copy.
      readExactly(fd, header.file, new Uint8Array(dest.buffer, dest.byteOffset, n * 4), position);
      return;
    case "F16":
    case "BF16": {
      const raw = new Uint16Array(n);
      readExactly(fd, header.file, new Uint8Array(raw.buffer), position);
      (info.dtype === "F16" ? decodeF16 : decodeBF16)(raw, dest);
      return;
    }
    default:
      throw new UserError(`${header.file}: tensor "${info.name}" has dtype ${info.dtype}; only F32, F16 and BF16 can be read as float32`);
  }
}

/**
 * Reads the tensors `names` of a file whose header is already parsed, each
 * into the destination `destFor(info)` returns (e.g. a view into an arena).
 */
export function readTensorsInto(header: SafetensorsHeader, names: readonly string[], destFor: (info: TensorInfo) => Float32Array): void {
  assertLittleEndian();
  const fd = openForRead(header.file);
  try {
    for (const name of names) {
      const info = header.byName.get(name);
      if (info === undefined) throw new UserError(`${header.file}: no tensor named "${name}"`);
      readInfoInto(fd, header, info, destFor(info));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads every tensor of `file` as float32 (F16/BF16 are upcast exactly), in
 * data order. Any tensor of another dtype is an error naming it.
 *
 * @example
 * const tensors = readSafetensors("tests/fixtures/models/gpt2-tiny/model.safetensors");
 * const wte = tensors.get("transformer.wte.weight"); // { shape: [V, C], data: Float32Array }
 */
export function readSafetensors(file: string): Map<string, F32Tensor> {
  assertLittleEndian();
  const fd = openForRead(file);
  try {
    const header = readHeaderFd(fd, file);
    const out = new Map<string, F32Tensor>();
    for (const info of header.tensors) {
      const data = new Float32Array(shapeSize(info.shape));
      readInfoInto(fd, header, info, data);
      out.set(info.name, { shape: [...info.shape], data });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The header bytes (JSON padded with spaces to a multiple of 8) for `tensors` in that order. */
function encodeHeader(tensors: readonly NamedF32Tensor[], metadata: Record<string, string> | null, dtype: WriteDtype): Uint8Array {
  // Built from parts so that key order is exactly the data order even for
  // integer-like names, which a JS object would move to the front.
  const parts: string[] = [];
  if (metadata !== null) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const t of tensors) {
    const end = offset + t.data.length * DTYPE_BYTES[dtype];
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype, shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(",")}}`, "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(padded, 0x20);
  json.copy(out);
  return out;
}

/**
 * The dtypes {@link writeSafetensors} can write: F32 as is, F16 and BF16
 * rounded from float32 to nearest, ties to even (as torch's `.half()` / `.bfloat16()`).
 *
 * @example
 * const dtype: WriteDtype = "BF16";
 * writeSafetensors("half.safetensors", tensors, { format: "pt" }, undefined, dtype);
 */
export type WriteDtype = "F32" | "F16" | "BF16";

const DTYPE_BYTES: Readonly<Record<WriteDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

/** The bytes of `t` in `dtype`; F16 refuses a finite value that overflows to inf (it would silently break the model). */
function tensorBytes(file: string, t: NamedF32Tensor, dtype: WriteDtype): Uint8Array {
  if (dtype === "F32") return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const half = new Uint16Array(t.data.length);
  if (dtype === "BF16") encodeBF16(t.data, half);
  else {
    encodeF16(t.data, half);
    for (let i = 0; i < half.length; i++) {
      if ((half[i] & 0x7fff) === 0x7c00 && Number.isFinite(t.data[i])) {
        throw new UserError(
          `${file}: tensor "${t.name}"[${i}] = ${t.data[i]} is beyond the float16 range (±65504); save as bfloat16 or float32`,
        );
      }
    }
  }
  return new Uint8Array(half.buffer);
}

/**
 * Writes `tensors` as a safetensors file in `dtype` (default F32), atomically
 * (temporary file beside `file`, then rename). `metadata` defaults to
 * `{format: "pt"}`, what Hugging Face writes for PyTorch checkpoints.
 *
 * `writeBytes` replaces the byte writer (tests simulate a full disk with it).
 *
 * @example
 * writeSafetensors("out/weights.safetensors", [{ name: "w", shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }]);
 * writeSafetensors("out/half.safetensors", [{ name: "w", shape: [2], data: Float32Array.of(1, 2) }], undefined, undefined, "F16");
 */
export function writeSafetensors(
  file: string,
  tensors: readonly NamedF32Tensor[],
  metadata: Record<string, string> | null = { format: "pt" },
  writeBytes: WriteBytes = writeAllSync,
  dtype: WriteDtype = "F32",
): void {
  assertLittleEndian();
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === "__metadata__") throw new UserError(`${file}: "__metadata__" cannot be a tensor name`);
    if (seen.has(t.name)) throw new UserError(`${file}: tensor "${t.name}" given twice`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || shapeSize(t.shape) !== t.data.length) {
      throw new UserError(`${file}: tensor "${t.name}" has shape [${t.shape.join(", ")}] but ${t.data.length} values`);
    }
  }
  const header = encodeHeader(tensors, metadata, dtype);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
  writeFileAtomicWith(file, (fd) => {
    writeBytes(fd, prefix);
    writeBytes(fd, header);
    for (const t of tensors) writeBytes(fd, tensorBytes(file, t, dtype));
  });
}
