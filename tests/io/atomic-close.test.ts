import assert from "node:assert/strict";
import { closeSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeFileAtomicWith } from "../../src/io/atomic.js";
import { tempDir } from "../helpers.js";

test("writeFileAtomicWith removes its temp file and keeps the first error when the fd is already closed", () => {
  const dir = tempDir();
  const target = join(dir, "out.bin");
  // The callback closing the fd makes fsync fail with EBADF, and then the cleanup's own close fails too.
  assert.throws(
    () => writeFileAtomicWith(target, (fd) => closeSync(fd)),
    (err: NodeJS.ErrnoException) => err.code === "EBADF" && /fsync/.test(err.message),
  );
  assert.equal(existsSync(target), false);
  assert.deepEqual(readdirSync(dir), []);
});
