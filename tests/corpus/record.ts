/**
 * Prints each bad-input case with the message rrhf gives for it now, as lines
 * of tests/fixtures/bad-inputs/expected.tsv (`name<TAB>message`), for review:
 *
 *   npm run build && node dist/tests/corpus/record.js > /tmp/expected.tsv
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runRrhf, tempDir } from "../helpers.js";
import { BAD_INPUT_CASES } from "./cases.js";
import { makeFinishedRun, errorLine } from "./run-case.js";

const checkpointOut = await makeFinishedRun();
for (const c of BAD_INPUT_CASES) {
  const root = join(tempDir("rrhf-bad-"), "case");
  mkdirSync(root);
  const r = runRrhf(c.make(root, checkpointOut));
  const line = errorLine(r.stderr);
  console.log(
    `${c.name}\t${r.code === 1 && line !== null ? line.split(root).join("{root}") : `!! exit ${r.code}: ${r.stderr.trim().split("\n").slice(0, 3).join(" | ")}`}`,
  );
}
