/**
 * Streaming line splitter: a file of millions of lines is read in chunks and
 * handed out one line at a time, as raw bytes (decoding is the caller's job,
 * so that invalid UTF-8 can be reported with its line number).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { UserError } from "../errors.js";

/** One line of a file, without its `\n` (a `\r` before it is kept). */
export interface RawLine {
  /** 1-based line number. */
  line: number;
  bytes: Buffer;
}

const NEWLINE = 0x0a;

/** Fails early with a clear message when `path` is missing or not a file. */
export async function assertReadableFile(path: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === "ENOENT" ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`);
  }
  if (!isFile) throw new UserError(`${path}: not a regular file`);
}

/** Options of {@link readLines}. */
export interface ReadLinesOptions {
  /** Decompress the file as gzip while reading (`.jsonl.gz`). */
  gzip?: boolean;
  /** Name of the file in error messages; the path by default. */
  displayName?: string;
}

/** The byte stream of `path`, gunzipped on the fly when asked; read errors of the file reach the reader. */
function openBytes(path: string, gzip: boolean): Readable {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gzip) return file;
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  file.on("error", (err) => gunzip.destroy(err));
  gunzip.on("close", () => file.destroy());
  return file.pipe(gunzip);
}

/** A zlib failure as a message a user can act on (a cut download, a file that is not gzip). */
function gzipError(err: unknown, name: string): UserError | null {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "Z_BUF_ERROR") return new UserError(`${name}: truncated gzip data (unexpected end of file): the file is incomplete`);
  if (code === "Z_DATA_ERROR") {
    return new UserError(`${name}: not valid gzip data (${(err as Error).message}); use --format jsonl if it is plain JSONL`);
  }
  return null;
}

/**
 * Yields the lines of `path` in order (gunzipped first with `gzip`). A final
 * line without `\n` is yielded too; the empty "line" after a trailing `\n` is
 * not. Breaking out of the loop closes the file. Lines read before a gzip
 * error are yielded; the error then comes as a `UserError` naming the file.
 */
export async function* readLines(path: string, opts: ReadLinesOptions = {}): AsyncGenerator<RawLine> {
  await assertReadableFile(path);
  const stream = openBytes(path, opts.gzip === true);
  let pending: Buffer[] = []; // the start of a line that spans chunks
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        let bytes = chunk.subarray(start, nl);
        if (pending.length > 0) {
          bytes = Buffer.concat([...pending, bytes]);
          pending = [];
        }
        line += 1;
        yield { line, bytes };
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
    if (pending.length > 0) yield { line: line + 1, bytes: Buffer.concat(pending) };
  } catch (err) {
    throw gzipError(err, opts.displayName ?? path) ?? err;
  } finally {
    stream.destroy();
  }
}
