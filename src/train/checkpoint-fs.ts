/**
 * File-system pieces of checkpointing: durable writes (fsync of files and
 * folders) and the manifest that proves a checkpoint folder is complete.
 */
import { closeSync, fsyncSync, openSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { writeAllSync, type WriteBytes } from "../io/atomic.js";

/** Flushes a file or folder to disk. Folders cannot be fsynced on some platforms; that is tolerated. */
export function fsyncPath(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    if (statSync(path).isDirectory()) return;
    throw err;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!statSync(path).isDirectory() || (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL")) throw err;
  } finally {
    closeSync(fd);
  }
}

/** Writes a JSON file (pretty, trailing newline) and flushes it; used inside a not-yet-published folder. */
export function writeJsonDurable(file: string, value: unknown, writeBytes: WriteBytes = writeAllSync): void {
  const fd = openSync(file, "w");
  try {
    writeBytes(fd, Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8"));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every regular file under `dir`, as POSIX-style relative path -> size in bytes. */
export function fileManifest(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out[relative(dir, full).split(sep).join("/")] = statSync(full).size;
    }
  };
  walk(dir);
  return out;
}

/** Flushes every file of a manifest and every folder holding them. */
export function fsyncTree(dir: string, manifest: Record<string, number>): void {
  const folders = new Set<string>([dir]);
  for (const rel of Object.keys(manifest)) {
    const full = join(dir, ...rel.split("/"));
    fsyncPath(full);
    folders.add(join(full, ".."));
  }
  for (const f of folders) fsyncPath(f);
}

/** Names of manifest entries that are missing or have another size (empty = intact). */
export function manifestProblems(dir: string, manifest: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const [rel, size] of Object.entries(manifest)) {
    try {
      const st = statSync(join(dir, ...rel.split("/")));
      if (!st.isFile() || st.size !== size) problems.push(`${rel} (size ${st.size}, expected ${size})`);
    } catch {
      problems.push(`${rel} (missing)`);
    }
  }
  return problems;
}

/** Whether a process id is running (signal 0 probes without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
