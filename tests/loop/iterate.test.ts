/**
 * `rrhf iterate` on the gpt2-tiny fixture with a rule scorer (how many of the vowels a response holds):
 * two rounds raise the mean reward of greedy generations; a run killed (SIGKILL) between stages and
 * resumed ends with the same files as one that was not.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { EVAL_RESULT_KEYS } from "../../src/eval/evaluate.js";
import { iterate, type IterateSummary } from "../../src/loop/iterate.js";
import { ITERATE_SETTINGS } from "../../src/loop/settings.js";
import { pickSettings, settingsMarkdownRows } from "../../src/settings/index.js";
import { fixture, repoRoot, runRrhfInProcess, tempDir } from "../helpers.js";

const MODEL = fixture("models", "gpt2-tiny");
const PROMPTS = fixture("score", "prompts.jsonl");
const SCORER = "rule:keyword:a,e,i,o,u";
const SETTINGS = {
  rounds: 2,
  max_new_tokens: 8,
  num_return_sequences: 8,
  max_steps: 10,
  learning_rate: 0.01,
  logging_steps: 5,
  save_steps: 4,
  backend: "ref",
};
const FLAGS = ["--rounds", "2", "--max-new-tokens", "8", "-k", "8", "--max-steps", "10", "--learning-rate", "0.01"];
const FLAGS_TAIL = ["--logging-steps", "5", "--save-steps", "4", "--backend", "ref"];

/** The files a finished run leaves that must not depend on interruptions. */
function outcome(out: string): Record<string, string> {
  const files: Record<string, string> = { "summary.json": readFileSync(join(out, "summary.json"), "utf8") };
  for (const n of [1, 2]) {
    for (const f of ["samples.jsonl", "scored.jsonl", "eval.json"])
      files[`round-${n}/${f}`] = readFileSync(join(out, `round-${n}`, f), "utf8");
  }
  return files;
}

let uninterrupted: { out: string; stdout: string } | null = null;
async function uninterruptedRun(): Promise<{ out: string; stdout: string }> {
  if (uninterrupted === null) {
    const out = join(tempDir(), "run");
    const r = await runRrhfInProcess([
      "iterate",
      "--model",
      MODEL,
      "--prompts",
      PROMPTS,
      "--scorer",
      SCORER,
      ...FLAGS,
      ...FLAGS_TAIL,
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    uninterrupted = { out, stdout: r.stdout };
  }
  return uninterrupted;
}

test("rrhf iterate: two rounds raise the mean reward of greedy generations; every round's files, eval.json keys and the summary", async () => {
  const { out, stdout } = await uninterruptedRun();
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as IterateSummary;
  assert.deepEqual(
    summary.rounds.map((r) => r.round),
    [0, 1, 2],
  );
  const start = summary.rounds[0].reward_mean ?? Number.NaN;
  const last = summary.rounds[2].reward_mean ?? Number.NaN;
  assert.ok(last >= start + 1, `reward_mean ${start} -> ${last}: expected a gain of at least 1 vowel`);
  assert.equal(summary.rounds[0].kl, 0); // the start model against itself
  assert.ok((summary.rounds[2].kl ?? 0) > 0);
  for (const n of [1, 2]) {
    const dir = join(out, `round-${n}`);
    for (const f of ["samples.jsonl", "scored.jsonl", "metrics.jsonl", "model/config.json", "model/model.safetensors", "eval.json"]) {
      assert.ok(existsSync(join(dir, f)), `${dir}/${f}`);
    }
    const scored = readFileSync(join(dir, "scored.jsonl"), "utf8").trim().split("\n");
    assert.equal(scored.length, 3);
    const record = JSON.parse(scored[0]) as { responses: string[]; scores: number[] };
    assert.equal(record.responses.length, 8);
    assert.equal(record.scores.length, 8);
    const evalJson = JSON.parse(readFileSync(join(dir, "eval.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(evalJson).sort(), [...EVAL_RESULT_KEYS].sort());
  }
  const table = stdout.trim().split("\n");
  assert.match(table[0], /^round\s+reward_mean\s+reward_median\s+kl$/);
  assert.equal(table.length, 4);
  assert.match(table[3], /^2\s+\d+\.\d{4}\s+\d+\.\d{4}\s+\d+\.\d{4}$/);
});

/** Runs iterate in a child process that SIGKILLs itself right after `stage` of `round` completes (stage "checkpoint": half-way through writing checkpoint-8 of that round). */
function runKilledAfter(out: string, round: number, stage: string): void {
  const script = join(tempDir(), "killed.mjs");
  const lib = pathToFileURL(join(repoRoot, "dist", "src", "loop", "iterate.js")).href;
  writeFileSync(
    script,
    `import { iterate } from ${JSON.stringify(lib)};
await iterate({ model: ${JSON.stringify(MODEL)}, prompts: ${JSON.stringify(PROMPTS)}, scorer: ${JSON.stringify(SCORER)}, out: ${JSON.stringify(out)},
  settings: ${JSON.stringify(SETTINGS)},
  afterStage: (round, stage) => { if (round === ${round} && stage === ${JSON.stringify(stage)}) process.kill(process.pid, "SIGKILL"); },
  trainHooks: { onCheckpointPartlyWritten: (dir) => { if (${JSON.stringify(stage)} === "checkpoint" && dir.includes("round-${round}") && dir.includes(".checkpoint-8.tmp-")) process.kill(process.pid, "SIGKILL"); } } });
`,
  );
  const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
  assert.equal(r.signal, "SIGKILL", r.stderr);
}

test("rrhf iterate killed (SIGKILL) three times (between stages, inside a checkpoint save) and rerun ends with the same samples, scores, evals and summary", async () => {
  const out = join(tempDir(), "killed");
  runKilledAfter(out, 1, "sample");
  assert.ok(existsSync(join(out, "round-1", "samples.jsonl")));
  assert.ok(!existsSync(join(out, "round-1", "scored.jsonl")));
  runKilledAfter(out, 1, "checkpoint");
  assert.ok(existsSync(join(out, "round-1", "model", "checkpoint-4")));
  assert.ok(!existsSync(join(out, "round-1", "model", "config.json")));
  runKilledAfter(out, 2, "train");
  assert.ok(existsSync(join(out, "round-2", "model", "config.json")));
  assert.ok(!existsSync(join(out, "round-2", "eval.json")));
  const resumed = await iterate({ model: MODEL, prompts: PROMPTS, scorer: SCORER, out, settings: SETTINGS });
  assert.equal(resumed.rounds.length, 3);
  const reference = await uninterruptedRun();
  assert.deepEqual(outcome(out), outcome(reference.out));
});

test("rrhf iterate refuses to resume an output folder with other settings", async () => {
  const { out } = await uninterruptedRun();
  const r = await runRrhfInProcess([
    "iterate",
    "--model",
    MODEL,
    "--prompts",
    PROMPTS,
    "--scorer",
    SCORER,
    ...FLAGS,
    "--out",
    out,
    "--backend",
    "ref",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /holds an iterate run with other inputs or settings/);
});

test("the README's iterate flag table is the help texts of the settings iterate adds or changes", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const own = pickSettings(ITERATE_SETTINGS, [
    "rounds",
    "eval_prompts",
    "num_return_sequences",
    "prompts_per_batch",
    "batch_size",
    "eval_batch_size",
  ]);
  for (const row of settingsMarkdownRows(own)) assert.ok(readme.includes(`${row}\n`), `README lacks the row\n${row}`);
});
