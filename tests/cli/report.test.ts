/**
 * `rrhf report RUN_DIR` and the report `rrhf train` writes: a finished run
 * has report.html with its curves and its settings (from the newest
 * checkpoint); the report is refreshed at each checkpoint; a run still
 * writing metrics.jsonl (a torn last line) can be reported; a folder that is
 * not a run is refused.
 */
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { train } from "../../src/train/loop.js";
import { tinyRunConfig } from "../train/tiny-run.js";
import { runRrhfInProcess, tempDir } from "../helpers.js";
import { base } from "./train-base.js";

/** The chart data block of a report page. */
function chartIds(html: string): string[] {
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, "no chart data in the page");
  return (JSON.parse(m[1]) as { charts: { id: string }[] }).charts.map((c) => c.id);
}

test("rrhf train writes report.html with its curves and settings; rrhf report rebuilds it mid-run", async () => {
  const out = join(tempDir(), "run");
  const r = await runRrhfInProcess(base(out, "--max-steps", "4", "--logging-steps", "2", "--save-steps", "2"));
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(join(out, "report.html"), "utf8");
  assert.deepEqual(chartIds(html), ["loss", "ranking-accuracy", "margin", "learning-rate", "grad-norm"]);
  assert.match(html, /Settings <span class="meta">\(checkpoint-4\/training_args\.json\)<\/span>/);
  assert.match(html, /<span class="k">learning_rate<\/span><span class="v">0\.003<\/span>/);

  // A run still writing: its last line is torn.
  appendFileSync(join(out, "metrics.jsonl"), `{"step": 6, "loss": 1.`);
  const before = statSync(join(out, "report.html")).mtimeMs;
  const again = await runRrhfInProcess(["report", out]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `wrote ${join(out, "report.html")}\n`);
  assert.ok(statSync(join(out, "report.html")).mtimeMs >= before);
  assert.match(readFileSync(join(out, "report.html"), "utf8"), /last logged step 4/);
});

test("train() calls onCheckpointSaved after each checkpoint, with metrics.jsonl up to date", async () => {
  const out = join(tempDir(), "run");
  const seen: [string, number][] = [];
  await train(tinyRunConfig(out, { max_steps: 4, logging_steps: 2, save_steps: 2, model_max_length: 64 }), {
    stdout: () => {},
    stderr: () => {},
    onCheckpointSaved: (dir) => seen.push([dir, readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").length]),
  });
  assert.deepEqual(seen, [
    [join(out, "checkpoint-2"), 1],
    [join(out, "checkpoint-4"), 2],
  ]);
});

test("rrhf report refuses a folder that is missing or holds no run, and checks its flags", async () => {
  const empty = tempDir();
  const r = await runRrhfInProcess(["report", empty]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /holds no metrics\.jsonl, round-N\/eval\.json.*is it a run's output folder\?/);
  assert.equal(existsSync(join(empty, "report.html")), false);
  const missing = await runRrhfInProcess(["report", join(empty, "nope")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope is not a folder/);
  const bad = await runRrhfInProcess(["report", empty, "--samples-per-file", "0"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--samples-per-file must be/);
});
