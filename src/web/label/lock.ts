/**
 * One `rrhf label` per file: two servers on one FILE would each rewrite it
 * from their own state and lose each other's labels. The lock is a file
 * `FILE.labels.lock` holding the owner's process id; a lock whose process is
 * gone (a killed server) is taken over. Also removes the temporary files a
 * killed server's atomic writes left beside FILE.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UserError } from "../../errors.js";

/** The lock file of `file`. */
export function lockPath(file: string): string {
  return `${file}.labels.lock`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock of `file` for this process; returns the function that releases it. */
export function lockLabelFile(file: string): () => void {
  const path = lockPath(file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
      throw new UserError(
        `${file} is being labelled by process ${owner} (rrhf label); stop it first, or remove ${basename(path)} if that is not rrhf`,
      );
    }
    rmSync(path, { force: true }); // its owner is gone
  }
  throw new UserError(`${path}: cannot take the lock (another rrhf label is starting on ${file}?)`);
}

/** Removes `.FILE.tmp-PID-*` and `.FILE.labels.json.tmp-PID-*` left by processes that no longer run. */
export function removeStaleTemps(file: string): void {
  const dir = dirname(file);
  const names = [basename(file), basename(`${file}.labels.json`)];
  for (const entry of readdirSync(dir)) {
    for (const name of names) {
      const m = new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.tmp-(\\d+)-[0-9a-f]+$`).exec(entry);
      if (m !== null && !processAlive(Number(m[1]))) rmSync(join(dir, entry), { force: true });
    }
  }
}
