/**
 * `rrhf score` end to end: records without scores get them, other keys
 * kept; a run killed midway resumes where it stopped (whole lines only, a
 * torn last line dropped) and scores only the rest; an output of other
 * data is refused.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fixture, repoRoot, runRrhf, tempDir } from "../helpers.js";

const PROMPTS = fixture("score", "prompts.jsonl");

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("rrhf score", () => {
  test("fills scores with a rule, keeping every other key", () => {
    const out = join(tempDir(), "scored.jsonl");
    const r = runRrhf(["score", "--in", PROMPTS, "--out", out, "--scorer", "rule:exact"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /scored 3 records \(7 responses\) with rule:exact/);
    const got = lines(out);
    assert.deepEqual(
      got.map((g) => g.scores),
      [
        [1, 0, 0],
        [1, 0],
        [1, 0],
      ],
    );
    assert.deepEqual(got[0], { ...lines(PROMPTS)[0], scores: [1, 0, 0] });
    assert.equal(existsSync(`${out}.partial`), false);
  });

  test("with a reward model, the same scores whatever the batch size", () => {
    const dir = tempDir();
    const run = (n: string): unknown[] => {
      const out = join(dir, `b${n}.jsonl`);
      const r = runRrhf([
        "score",
        "--in",
        PROMPTS,
        "--out",
        out,
        "--scorer",
        `model:${fixture("reward-models", "gpt2-rm")}`,
        "--batch-size",
        n,
        "--backend",
        "ref",
      ]);
      assert.equal(r.code, 0, r.stderr);
      return lines(out).map((l) => l.scores);
    };
    const one = run("1");
    assert.deepEqual(run("3"), one);
  });

  test("bad input is a clear error naming the line", () => {
    const dir = tempDir();
    const input = join(dir, "in.jsonl");
    writeFileSync(input, '{"query": "a", "responses": ["x"]}\n{"query": "b", "responses": []}\n');
    const r = runRrhf(["score", "--in", input, "--out", join(dir, "out.jsonl"), "--scorer", "rule:length"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /in\.jsonl:2: responses: needs at least 1 responses/);
  });

  test("a killed run resumes: the kept lines stay, only the rest is scored", async () => {
    const dir = tempDir();
    const input = join(dir, "in.jsonl");
    const records = Array.from({ length: 6 }, (_, i) => ({ query: `q${i}`, responses: ["a", "bb"], id: i }));
    writeFileSync(input, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const log = join(dir, "seen.log");
    const judge = join(dir, "judge.mjs");
    // Slow on purpose, so the run can be killed between two prompts; logs every query it scores.
    writeFileSync(
      judge,
      `import { appendFileSync } from "node:fs";
import { createInterface } from "node:readline";
createInterface({ input: process.stdin }).on("line", (line) => {
  const req = JSON.parse(line);
  appendFileSync(${JSON.stringify(log)}, req.query + "\\n");
  setTimeout(() => console.log(JSON.stringify({ scores: req.responses.map((r) => r.length * 10) })), 150);
});
`,
    );
    const out = join(dir, "out.jsonl");
    const args = [
      "score",
      "--in",
      input,
      "--out",
      out,
      "--scorer",
      `cmd:${JSON.stringify(process.execPath)} ${JSON.stringify(judge)}`,
      "--batch-size",
      "1",
    ];
    const child = spawn(process.execPath, [join(repoRoot, "dist", "src", "cli", "bin.js"), ...args], { stdio: "ignore" });
    const exited = new Promise<void>((done) => child.on("exit", () => done()));
    const partial = `${out}.partial`;
    const scoredSoFar = (): number => (existsSync(partial) ? readFileSync(partial, "utf8").split("\n").length - 1 : 0);
    const deadline = Date.now() + 20000;
    while (scoredSoFar() < 2 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    child.kill("SIGKILL");
    await exited;
    const kept = scoredSoFar();
    assert.ok(kept >= 2 && kept < 6, `killed after ${kept} records`);
    assert.equal(existsSync(out), false, "no output before the run completes");
    // A torn last line (as a crash mid-write would leave) is dropped on resume.
    appendFileSync(partial, '{"query": "q');
    writeFileSync(log, "");

    const r = runRrhf(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`scored ${6 - kept} records .*${kept} kept from an earlier run`));
    assert.deepEqual(
      readFileSync(log, "utf8").trim().split("\n"),
      records.slice(kept).map((rec) => rec.query),
    );
    assert.deepEqual(
      lines(out),
      records.map((rec) => ({ ...rec, scores: [10, 20] })),
    );
    assert.equal(existsSync(partial), false);

    // A rerun over a finished output scores nothing more.
    const again = runRrhf(args);
    assert.match(again.stdout, /scored 0 records .*6 kept/);
  });

  test("an output of other data is refused, not overwritten", () => {
    const dir = tempDir();
    const out = join(dir, "out.jsonl");
    writeFileSync(out, '{"query": "other", "responses": ["z"], "scores": [1]}\n');
    const r = runRrhf(["score", "--in", PROMPTS, "--out", out, "--scorer", "rule:length"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 1 is not .*prompts\.jsonl's record 1: an output of other data/);
    assert.equal(readFileSync(out, "utf8"), '{"query": "other", "responses": ["z"], "scores": [1]}\n');
    assert.equal(existsSync(`${out}.partial`), false);
    writeFileSync(out, "not json\n");
    assert.match(runRrhf(["score", "--in", PROMPTS, "--out", out, "--scorer", "rule:length"]).stderr, /line 1 is not a JSON record/);
  });
});
