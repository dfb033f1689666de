import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fixture, runRrhf, tempDir } from "../helpers.js";

test("rrhf convert --from hh writes the exact expected JSONL and exits 0", () => {
  const out = join(tempDir(), "hh.rrhf.jsonl");
  const r = runRrhf(["convert", "--from", "hh", "tests/fixtures/data/hh.jsonl", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `converted 2 records from tests/fixtures/data/hh.jsonl (hh) to ${out}\n`);
  assert.equal(readFileSync(out, "utf8"), readFileSync(fixture("data", "hh.expected.jsonl"), "utf8"));
});

test("rrhf convert --from pairs, then rrhf validate accepts the output", () => {
  const out = join(tempDir(), "pairs.rrhf.jsonl");
  const r = runRrhf(["convert", "--from", "pairs", "tests/fixtures/data/pairs.jsonl", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, "utf8"), readFileSync(fixture("data", "pairs.expected.jsonl"), "utf8"));
  const v = runRrhf(["validate", "--json", out]);
  assert.equal(v.code, 0, v.stderr);
  const summary = JSON.parse(v.stdout) as { queries: number; valid: boolean };
  assert.equal(summary.valid, true);
  assert.equal(summary.queries, 3);
});

test("convert: usage errors exit 2 (unknown format, missing --from or --out)", () => {
  const out = join(tempDir(), "o.jsonl");
  const unknown = runRrhf(["convert", "--from", "csv", "tests/fixtures/data/pairs.jsonl", "--out", out]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.split("\n")[0], "error: --from must be one of pairs, hh, ultrafeedback, chat-pairs, ranked");
  assert.equal(runRrhf(["convert", "tests/fixtures/data/pairs.jsonl", "--out", out]).code, 2);
  assert.equal(runRrhf(["convert", "--from", "hh", "tests/fixtures/data/hh.jsonl"]).code, 2);
  assert.equal(existsSync(out), false);
});

test("convert: a missing input or output directory is a user error (exit 1)", () => {
  const dir = tempDir();
  const missingIn = runRrhf(["convert", "--from", "hh", "no-such.jsonl", "--out", join(dir, "o.jsonl")]);
  assert.equal(missingIn.code, 1);
  assert.match(missingIn.stderr, /^rrhf: error: no-such\.jsonl: no such file$/m);
  const missingDir = runRrhf(["convert", "--from", "hh", "tests/fixtures/data/hh.jsonl", "--out", join(dir, "x", "o.jsonl")]);
  assert.equal(missingDir.code, 1);
  assert.match(missingDir.stderr, /output directory .* does not exist/);
});
