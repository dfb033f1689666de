/**
 * Child process for the kill-during-save test (not a test file itself):
 * `node checkpoint-child.js OUT_DIR STEP` saves one checkpoint of a toy run.
 * With RRHF_TEST_CHECKPOINT_PAUSE_FILE set, the save pauses half-written.
 */
import { saveToyCheckpoint } from "./checkpoint-toy.js";

const [outDir, step] = process.argv.slice(2);
await saveToyCheckpoint(outDir, Number(step));
process.stdout.write("saved\n");
