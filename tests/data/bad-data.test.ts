import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readJsonLines } from "../../src/data/jsonl.js";
import { readAllRecords } from "../../src/data/reader.js";
import { convertFile, type ConvertFormat } from "../../src/data/convert/convert.js";
import { DataError } from "../../src/errors.js";
import { fixture, runRrhf, tempDir } from "../helpers.js";

const DIR = "tests/fixtures/bad-data";
const names = readdirSync(fixture("bad-data"))
  .filter((f) => f.endsWith(".jsonl"))
  .map((f) => f.slice(0, -".jsonl".length))
  .sort();

/** The command a corpus file is meant for, from its name prefix (see the corpus README). */
function commandFor(name: string): { kind: "validate"; strict: boolean } | { kind: "convert"; from: ConvertFormat } {
  if (name.startsWith("pairs-")) return { kind: "convert", from: "pairs" };
  if (name.startsWith("hh-")) return { kind: "convert", from: "hh" };
  return { kind: "validate", strict: name.startsWith("strict-") };
}

const expectedLine = (name: string): string => readFileSync(fixture("bad-data", `${name}.expected`), "utf8").trimEnd();

test("the bad-data corpus has at least 20 cases, each with its expected message", () => {
  assert.ok(names.length >= 20, `only ${names.length} cases`);
  const expected = readdirSync(fixture("bad-data")).filter((f) => f.endsWith(".expected"));
  assert.equal(expected.length, names.length);
  for (const name of names) assert.match(expectedLine(name), new RegExp(`^${DIR}/${name}\\.jsonl:\\d+: \\S+: .+$`));
});

for (const name of names) {
  const cmd = commandFor(name);
  const file = `${DIR}/${name}.jsonl`;
  test(`bad data: ${name} (${cmd.kind === "convert" ? `convert --from ${cmd.from}` : "validate"})`, () => {
    const want = expectedLine(name);
    if (cmd.kind === "validate") {
      const r = runRrhf(["validate", ...(cmd.strict ? ["--strict"] : []), file]);
      assert.equal(r.code, 1, r.stderr);
      // Exactly one problem, printed as its own line; then the summary line.
      const problems = r.stderr.split("\n").filter((l) => l.startsWith(`${DIR}/`));
      assert.deepEqual(problems, [want], r.stderr);
      assert.match(r.stderr, new RegExp(`rrhf: error: ${file.replace(/\./g, "\\.")}: 1 problem found`));
    } else {
      const out = tempDir();
      const r = runRrhf(["convert", "--from", cmd.from, file, "--out", join(out, "out.jsonl")]);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.stderr.split("\n").includes(`rrhf: error: ${want}`), r.stderr);
      assert.equal(r.stdout, "");
      // Neither the output nor a temp file is left behind.
      assert.deepEqual(readdirSync(out), []);
    }
  });
}

test("the library reports the same first error as the CLI (stop-at-first mode)", async () => {
  for (const name of names) {
    const cmd = commandFor(name);
    const path = fixture("bad-data", `${name}.jsonl`);
    const file = `${DIR}/${name}.jsonl`;
    let caught: unknown = null;
    try {
      if (cmd.kind === "convert") {
        await convertFile(cmd.from, path, join(tempDir(), "o.jsonl"), { displayName: file });
      } else {
        await readAllRecords(path, { displayName: file, unknownKeys: cmd.strict ? "error" : "ignore" });
        if (cmd.strict) continue; // all-tied is a validate-only check
      }
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof DataError, `${name}: expected a DataError, got ${String(caught)}`);
    assert.equal(caught.message, expectedLine(name), name);
  }
});

test("readJsonLines yields one error per bad line and keeps going", async () => {
  const seen: string[] = [];
  for await (const entry of readJsonLines(fixture("bad-data", "not-json.jsonl"), "f")) {
    seen.push(entry.error === undefined ? `ok ${entry.line}` : entry.error.message);
  }
  assert.deepEqual(seen, ["ok 1", 'f:2: -: not valid JSON (line starts with "{query: \\"q\\"}")']);
});
