import { writeFileSync } from "node:fs";

/** Bytes of a safetensors file with the given header object (or raw JSON text) and data region. */
export function safetensorsBytes(header: unknown, data: Uint8Array = new Uint8Array(0), opts: { declaredLength?: bigint } = {}): Buffer {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(opts.declaredLength ?? BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

/** Writes such a file and returns its path. */
export function writeRawSafetensors(file: string, header: unknown, data?: Uint8Array, opts?: { declaredLength?: bigint }): string {
  writeFileSync(file, safetensorsBytes(header, data, opts));
  return file;
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
