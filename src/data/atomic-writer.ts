/**
 * Streaming, atomic output: text goes to a hidden temp file in the target's
 * directory (same file system, so the final rename is atomic) and only a
 * complete file is renamed into place. On failure the temp file is removed,
 * so no half-written output is ever left under the target name.
 */
import { open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { UserError, userErrorFromFs } from "../errors.js";
import { siblingTempPath } from "../io/atomic.js";

/** Bytes gathered before one write call; big enough to keep syscalls rare. */
const FLUSH_BYTES = 1 << 20;

/**
 * Writes the strings `produce` hands to `write` into `target` atomically.
 * If `produce` throws, nothing is left behind and the error propagates.
 * Returns what `produce` returned.
 *
 * @example
 * await writeStreamAtomic("out.jsonl", async (write) => { await write('{"a":1}\n'); });
 */
export async function writeStreamAtomic<T>(target: string, produce: (write: (text: string) => Promise<void>) => Promise<T>): Promise<T> {
  const dir = dirname(target);
  try {
    if (!(await stat(dir)).isDirectory()) throw new UserError(`${target}: ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${target}: output directory ${dir} does not exist`);
  }
  const tmp = siblingTempPath(target);
  let fh: FileHandle | null = null;
  try {
    fh = await open(tmp, "wx");
    const handle = fh;
    let parts: string[] = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      if (parts.length === 0) return;
      const text = parts.join("");
      parts = [];
      size = 0;
      await handle.write(text, null, "utf8");
    };
    const result = await produce(async (text) => {
      parts.push(text);
      size += text.length;
      if (size >= FLUSH_BYTES) await flush();
    });
    await flush();
    await handle.datasync();
    await handle.close();
    fh = null;
    await rename(tmp, target);
    return result;
  } catch (err) {
    if (fh !== null) await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    // Name the user's target, not the hidden temp file beside it.
    throw userErrorFromFs(err, target) ?? err;
  }
}
