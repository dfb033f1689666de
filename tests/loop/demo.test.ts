/**
 * `rrhf demo` end to end with its shipped defaults: the greedy reward of the
 * shipped model rises clearly, the run folder holds every round and
 * report.html, and the before/after tables are printed.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runRrhfInProcess, tempDir } from "../helpers.js";

test("rrhf demo: the shipped model learns to add (greedy reward rises by at least 0.4) and the report is written", async () => {
  const out = join(tempDir("rrhf-demo-"), "demo");
  const r = await runRrhfInProcess(["demo", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as { rounds: { reward_mean: number }[] };
  const first = summary.rounds[0].reward_mean;
  const last = summary.rounds[summary.rounds.length - 1].reward_mean;
  assert.equal(summary.rounds.length, 4, "round 0 (the start model) and 3 rounds");
  assert.ok(last - first >= 0.4, `reward ${first} -> ${last}`);
  assert.match(r.stdout, /^reward_mean \(greedy answers correct\)\s+0\.\d{3}\s+0\.\d{3}$/m);
  assert.match(r.stdout, /^What is 2 \+ 5\?  expected 7  before: \d+  after: \d+$/m);
  const html = readFileSync(join(out, "report.html"), "utf8");
  assert.match(html, /rrhf demo/);
  assert.ok(existsSync(join(out, "round-3", "model", "config.json")));
});
