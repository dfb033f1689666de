/**
 * Child process for the kill-during-save test (not a test file itself):
 * `node checkpoint-child.js OUT_DIR STEP [PAUSE_FILE]` saves one checkpoint of
 * a toy run. With PAUSE_FILE, the save writes that file (`{ pid }`) half-way
 * and blocks (at most 2 minutes), so the test can SIGKILL it there.
 */
import { writeFileSync } from "node:fs";
import { saveToyCheckpoint } from "./checkpoint-toy.js";

const [outDir, step, pauseFile] = process.argv.slice(2);
const pause = pauseFile
  ? (): void => {
      writeFileSync(pauseFile, JSON.stringify({ pid: process.pid }));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
      throw new Error("nobody killed the paused save");
    }
  : undefined;
await saveToyCheckpoint(outDir, Number(step), pause);
process.stdout.write("saved\n");
