/**
 * Builds the bad-input corpus (tests/fixtures/bad-inputs/expected.tsv names
 * each case and its message): every case is a valid fixture with one thing
 * broken, made at test time from the committed fixtures, because most are
 * 100 KB model folders that differ from a fixture in a few bytes.
 */
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "../helpers.js";

/** A safetensors file split into its header JSON and data region. */
export interface SafetensorsParts {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  data: Buffer;
}

export function splitSafetensors(file: string): SafetensorsParts {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as SafetensorsParts["header"], data: bytes.subarray(8 + n) };
}

/** Writes a header (as given, even if invalid) and data region back into a safetensors file. */
export function joinSafetensors(file: string, header: unknown, data: Uint8Array, rawHeader?: Buffer): void {
  const json = rawHeader ?? Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([prefix, json, data]));
}

export type TensorEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** Edits the header of `dir/model.safetensors` in place; the data region is kept unless `data` is returned. */
export function editHeader(dir: string, edit: (h: Record<string, TensorEntry>, data: Buffer) => Buffer | void): void {
  const file = join(dir, "model.safetensors");
  const { header, data } = splitSafetensors(file);
  const newData = edit(header as Record<string, TensorEntry>, data);
  joinSafetensors(file, header, newData ?? data);
}

export function editJson(file: string, edit: (v: Record<string, unknown>) => void): void {
  const v = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(v);
  writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);
}

export function setU64(file: string, at: number, value: bigint): void {
  const bytes = readFileSync(file);
  bytes.writeBigUInt64LE(value, at);
  writeFileSync(file, bytes);
}

export function truncateBy(file: string, n: number): void {
  truncateSync(file, readFileSync(file).length - n);
}

export { appendFileSync, cpSync, rmSync, writeFileSync };

/** Copies a committed model fixture into `dest`. */
export function copyModel(name: "gpt2-tiny" | "llama-tiny" | "qwen2-tiny", dest: string): string {
  cpSync(fixture("models", name), dest, { recursive: true });
  if (name !== "gpt2-tiny") {
    // The llama/qwen2 fixtures carry no tokenizer; `rrhf loss` needs one beside the weights.
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) cpSync(fixture("models", "gpt2-tiny", f), join(dest, f));
  }
  return dest;
}
