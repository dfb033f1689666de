import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * A fresh name beside `target` (same directory, so `rename` stays on one
 * filesystem and is atomic). The leading dot keeps it out of casual listings.
 */
export function siblingTempPath(target: string, tag = "tmp"): string {
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/**
 * How a save writes bytes to an open file: `writeAllSync` in normal use; a
 * test injects one that fails (ENOSPC) to check what a full disk leaves behind.
 */
export type WriteBytes = (fd: number, bytes: Uint8Array) => void;

/** Writes every byte of `bytes` to `fd`, looping because `writeSync` may write less. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  // Chunks below 1 GiB: a single writeSync call cannot take 2 GiB or more.
  const chunk = 1 << 30;
  for (let done = 0; done < bytes.length; ) {
    const end = Math.min(bytes.length, done + chunk);
    done += writeSync(fd, bytes, done, end - done);
  }
}

/**
 * Creates `target` atomically: `write` fills a temporary file beside it, which
 * is flushed and then renamed over `target`. On any error the temporary file is
 * removed and `target` is left as it was.
 */
export function writeFileAtomicWith(target: string, write: (fd: number) => void): void {
  const temp = siblingTempPath(target);
  const fd = openSync(temp, "wx");
  try {
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    // The fd may already be closed (close itself failed, or `write` closed it): a second
    // close error must neither hide the first one nor skip removing the temp file.
    try {
      closeSync(fd);
    } catch {
      // already reported above
    }
    rmSync(temp, { force: true });
    throw err;
  }
  try {
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Writes a whole string or byte array to `target` atomically. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  writeFileAtomicWith(target, (fd) => writeAllSync(fd, bytes));
}
