/**
 * The bad-input corpus: each case fails through the CLI with exit code 1,
 * exactly its expected message (tests/fixtures/bad-inputs/expected.tsv), no
 * stack trace, and no partial output (nothing under the case's folder
 * changes: no output file, no temp file, no half-written checkpoint).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fixture, repoRoot, tempDir, type CliResult } from "../helpers.js";
import { BAD_INPUT_CASES } from "./cases.js";
import { errorLine, makeFinishedRun } from "./run-case.js";

const expected = new Map(
  readFileSync(fixture("bad-inputs", "expected.tsv"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => [l.slice(0, l.indexOf("\t")), l.slice(l.indexOf("\t") + 1)] as const),
);

function runRrhfAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "dist", "src", "cli", "bin.js"), ...args], { cwd: repoRoot });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Every path under `dir` with its size and modification time. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const path = join(e.parentPath, e.name);
      const st = statSync(path);
      return `${path.slice(dir.length)} ${e.isDirectory() ? "dir" : `${st.size} ${st.mtimeMs}`}`;
    })
    .sort();
}

describe("bad-input corpus (model folders, tokenizers, training configs, checkpoints)", { concurrency: 2 }, () => {
  let checkpointOut = "";
  before(async () => {
    checkpointOut = await makeFinishedRun();
  });

  it("has at least 50 cases, each with an expected message, and no stale entry", () => {
    assert.ok(BAD_INPUT_CASES.length >= 50, `only ${BAD_INPUT_CASES.length} cases`);
    assert.deepEqual([...expected.keys()].sort(), BAD_INPUT_CASES.map((c) => c.name).sort());
  });

  for (const c of BAD_INPUT_CASES) {
    it(`${c.group}: ${c.name}`, async () => {
      const root = join(tempDir("rrhf-bad-"), "case");
      mkdirSync(root);
      const args = c.make(root, checkpointOut);
      const before = snapshot(root);
      const r = await runRrhfAsync(args);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(errorLine(r.stderr)?.split(root).join("{root}"), expected.get(c.name), r.stderr);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, "a stack trace or internal error was printed");
      assert.equal(r.stdout, "", "partial output on stdout");
      assert.deepEqual(snapshot(root), before, "files under the case folder changed");
    });
  }
});
