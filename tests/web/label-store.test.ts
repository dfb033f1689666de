import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import { rankingProblem, scoresFromRanking, tiersOf } from "../../src/web/label/ranking.js";
import { LabelStore, sidecarPath } from "../../src/web/label/store.js";
import { tempDir } from "../helpers.js";
import { writeLabelFile } from "./label-helpers.js";

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("rank -> score mapping", () => {
  it("scores each response by how many are ranked strictly below it", () => {
    assert.deepEqual(scoresFromRanking({ order: [2, 0, 1], ties: [false, false, false] }), [1, 0, 2]);
    assert.deepEqual(scoresFromRanking({ order: [3, 2, 1, 0], ties: [false, false, false, false] }), [0, 1, 2, 3]);
    // A > B = C > D
    assert.deepEqual(scoresFromRanking({ order: [0, 1, 2, 3], ties: [false, false, true, false] }), [3, 1, 1, 0]);
    assert.deepEqual(scoresFromRanking({ order: [1, 0], ties: [false, true] }), [0, 0]);
    assert.deepEqual(tiersOf({ order: [0, 1, 2, 3], ties: [false, true, false, true] }), [0, 0, 1, 1]);
  });

  it("refuses what is not a ranking of k responses", () => {
    assert.equal(rankingProblem({ order: [1, 0], ties: [false, false] }, 2), null);
    assert.match(String(rankingProblem({ order: [0, 0], ties: [false, false] }, 2)), /each response index 0..1 once/);
    assert.match(String(rankingProblem({ order: [0, 2], ties: [false, false] }, 2)), /once/);
    assert.match(String(rankingProblem({ order: [0, 1.5], ties: [false, false] }, 2)), /once/);
    assert.match(String(rankingProblem({ order: [0, 1, 2], ties: [false, false, false] }, 2)), /array of 2/);
    assert.match(String(rankingProblem({ order: [0, 1], ties: [true, false] }, 2)), /ties\[0\]/);
    assert.match(String(rankingProblem({ order: [0, 1], ties: [false, 1] }, 2)), /booleans/);
    assert.match(String(rankingProblem([0, 1], 2)), /object/);
    assert.match(String(rankingProblem(null, 2)), /object/);
  });
});

describe("LabelStore", () => {
  it("writes a ranking's scores into FILE, keeps other fields and lines, and resumes from the sidecar", () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 3, 3, { withChat: true });
    const before = readFileSync(file, "utf8").split("\n");
    const store = LabelStore.open(file, { policyScoresField: "policy" });
    assert.equal(store.total, 4);
    assert.deepEqual(store.items[0].policyScores, [0, 0.1, 0.2]);
    assert.equal(store.items[3].messages?.[0].content, "Say hi");
    store.setLabel(1, { order: [2, 0, 1], ties: [false, false, true] });
    store.setLabel(3, { order: [1, 0], ties: [false, false] });
    const after = readFileSync(file, "utf8").split("\n");
    assert.equal(after[0], before[0], "an unlabelled line is left byte for byte");
    assert.equal(after[2], before[2]);
    const records = lines(file);
    assert.deepEqual(records[1].scores, [0, 0, 2], "2 best, 0 = 1 below it");
    assert.equal(records[1].id, "rec-1");
    assert.deepEqual(records[3].scores, [0, 1], "a record without scores gets them");
    const reopened = LabelStore.open(file);
    assert.equal(reopened.labelledCount, 2);
    assert.equal(reopened.firstUnlabelled(), 0);
    assert.deepEqual(reopened.rankingOf(1), { order: [2, 0, 1], ties: [false, false, true] });
    reopened.setLabel(0, { order: [0, 1, 2], ties: [false, false, false] });
    assert.equal(LabelStore.open(file).firstUnlabelled(), 2);
  });

  it("clearing a label gives the record its first scores back (none when it had none)", () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 1, 2, { withChat: true });
    const original = readFileSync(file, "utf8");
    const store = LabelStore.open(file);
    store.setLabel(0, { order: [1, 0], ties: [false, false] });
    store.setLabel(1, { order: [1, 0], ties: [false, false] });
    const again = LabelStore.open(file);
    again.clearLabel(0);
    again.clearLabel(1);
    assert.equal(again.labelledCount, 0);
    assert.deepEqual(
      lines(file).map((r) => r.scores),
      [[0, 0], undefined],
    );
    assert.equal(readFileSync(file, "utf8"), original);
  });

  it("re-applies labels the sidecar has and FILE lacks (killed between the two writes)", () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 2, 2);
    const original = readFileSync(file, "utf8");
    LabelStore.open(file).setLabel(1, { order: [1, 0], ties: [false, false] });
    writeFileSync(file, original); // FILE as it was before its write: the sidecar is ahead
    const store = LabelStore.open(file);
    assert.equal(store.labelledCount, 1);
    assert.deepEqual(lines(file)[1].scores, [0, 1]);
  });

  it("refuses a sidecar that does not fit FILE, naming the file and what to do", () => {
    const dir = tempDir();
    const file = join(dir, "d.jsonl");
    writeLabelFile(file, 2, 2);
    LabelStore.open(file).setLabel(0, { order: [1, 0], ties: [false, false] });
    const edited = readFileSync(file, "utf8").replace("q0 r0", "q0 changed");
    writeFileSync(file, edited);
    assert.throws(
      () => LabelStore.open(file),
      (err: unknown) => err instanceof UserError && /changed since it was labelled; move d\.jsonl\.labels\.json away/.test(err.message),
    );
    writeFileSync(sidecarPath(file), "{not json");
    assert.throws(() => LabelStore.open(file), /d\.jsonl\.labels\.json: not valid JSON/);
    writeFileSync(sidecarPath(file), JSON.stringify({ format: "rrhf-labels", labels: { 7: {} } }));
    assert.throws(() => LabelStore.open(file), /labels\.7: no such record/);
    writeFileSync(
      sidecarPath(file),
      JSON.stringify({ format: "rrhf-labels", labels: { 0: { ranking: { order: [0, 0], ties: [false, false] } } } }),
    );
    assert.throws(() => LabelStore.open(file), /labels\.0\.ranking: order must list/);
    writeFileSync(sidecarPath(file), JSON.stringify([1]));
    assert.throws(() => LabelStore.open(file), /not an rrhf labels file/);
  });

  it("refuses files it cannot label, naming the line and field", () => {
    const dir = tempDir();
    const gz = join(dir, "d.jsonl.gz");
    writeFileSync(gz, "");
    assert.throws(() => LabelStore.open(gz), /edits a plain JSONL file in place/);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"query":"q","responses":["a","b"]}\n{"query":"q","responses":["a"]}\n');
    assert.throws(() => LabelStore.open(bad), /bad\.jsonl:2: responses: needs at least 2 responses/);
    const policy = join(dir, "policy.jsonl");
    writeFileSync(policy, '{"query":"q","responses":["a","b"],"p":[1]}\n');
    assert.throws(() => LabelStore.open(policy, { policyScoresField: "p" }), /policy\.jsonl:1: p: policy scores must be 2 finite numbers/);
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "\n\n");
    assert.throws(() => LabelStore.open(empty), /no records to label/);
    assert.equal(existsSync(sidecarPath(bad)), false, "a refused file gets no sidecar");
  });
});
