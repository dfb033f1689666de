/**
 * `rrhf train` end to end with the real binary on the gpt2-tiny fixture
 * (its folder carries a character tokenizer): help, exit codes, outputs,
 * the NaN policy, the truncation report, and the Must-show crash test: a
 * run SIGKILLed in the middle of a checkpoint save leaves no folder that
 * looks complete, and `--resume-from-checkpoint latest` then continues from
 * the last complete checkpoint to the same weights as an uninterrupted run.
 * Runs that need a test hook (a NaN loss, a pause inside a save) are the
 * library `train()` in tests/train/train-child.ts, given the same settings.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { loadModelFolder } from "../../src/models/hf/folder.js";
import { flagOf } from "../../src/settings/index.js";
import { TRAIN_SETTINGS } from "../../src/train/config.js";
import { fixture, repoRoot, runRrhf, tempDir, type CliResult } from "../helpers.js";
import { base, CHILD, DATA, MODEL } from "./train-base.js";

const EVAL = fixture("train", "tiny-eval.jsonl");
/** The settings `base` gives as flags. */
const BASE_SETTINGS = { model: MODEL, data: DATA, backend: "ref", learning_rate: 3e-3, model_max_length: 64 };

/** The library run of `base(out, ...)`'s settings in tests/train/train-child.ts, with test hooks given as `extra` arguments. */
function runChild(settings: Record<string, unknown>, ...extra: string[]): CliResult {
  const r = spawnSync(process.execPath, [CHILD, JSON.stringify({ ...BASE_SETTINGS, ...settings }), ...extra], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const weights = (dir: string): Buffer => readFileSync(join(dir, "model.safetensors"));
const metrics = (dir: string): Record<string, number | null>[] =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number | null>);

test("rrhf train --help lists every setting's flag and --config", () => {
  const r = runRrhf(["train", "--help"]);
  assert.equal(r.code, 0);
  for (const [name, spec] of Object.entries(TRAIN_SETTINGS))
    assert.ok(r.stdout.includes(flagOf(name, spec)), `--help lacks ${flagOf(name, spec)}`);
  assert.match(r.stdout, /--config <file>/);
});

test("bad flags exit 2, a missing required setting exits 1 with its name", () => {
  assert.equal(runRrhf([...base(tempDir()), "--max-steps", "two"]).code, 2);
  assert.equal(runRrhf([...base(tempDir()), "--optim", "lion"]).code, 2);
  const r = runRrhf(["train", "--data", DATA, "--out", tempDir()]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model: required/);
});

test("a run prints header, metric lines and summary, writes metrics.jsonl and an HF-loadable model into --out", () => {
  const out = tempDir();
  const r = runRrhf([
    ...base(out, "--max-steps", "6", "--logging-steps", "3", "--save-steps", "3", "--save-total-limit", "1", "--eval-data", EVAL),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^rrhf train: .*gpt2-tiny \(gpt2, 29\.6k parameters\), backend ref/);
  assert.match(r.stdout, /steps {7}6 /);
  assert.match(
    r.stdout,
    /^step=3 epoch=0\.375 loss=\S+ rank_loss=\S+ sft_loss=\S+ margin=\S+ grad_norm=\S+ ranking_accuracy=\S+ learning_rate=\S+ tokens_per_second=\S+ skipped_nonfinite_steps=0$/m,
  );
  assert.match(
    r.stdout,
    /^step=6 epoch=0\.75 eval_loss=\S+ eval_rank_loss=\S+ eval_sft_loss=\S+ eval_ranking_accuracy=\S+ eval_margin=\S+ eval_queries=3$/m,
  );
  assert.match(
    r.stdout,
    /^done: 6 steps, loss \S+, ranking_accuracy \S+, eval_loss \S+, eval_ranking_accuracy \S+, 0 skipped, model saved to /m,
  );
  const logged = metrics(out);
  assert.deepEqual(
    logged.map((e) => [e.step, "loss" in e ? "train" : "eval"]),
    [
      [3, "train"],
      [3, "eval"],
      [6, "train"],
      [6, "eval"],
    ],
  );
  // save_total_limit 1 pruned checkpoint-3.
  assert.deepEqual(
    readdirSync(out).filter((n) => n.startsWith("checkpoint-")),
    ["checkpoint-6"],
  );
  const trained = loadModelFolder(out);
  const start = loadModelFolder(MODEL);
  assert.ok(existsSync(join(out, "tokenizer.json")));
  assert.ok(trained.params.sameLayout(start.params));
  assert.ok(
    trained.params.data.some((v, i) => v !== start.params.data[i]),
    "the saved model equals the starting one",
  );
  assert.ok(weights(out).equals(weights(join(out, "checkpoint-6"))));
});

test("settings can come from a YAML config file; flags override it", () => {
  const dir = tempDir();
  const out = join(dir, "run");
  const file = join(dir, "run.yaml");
  writeFileSync(
    file,
    `model: ${MODEL}\ndata: ${DATA}\noutput_dir: ${out}\nbackend: ref\nmax_steps: 2\nlogging_steps: 1\nsave_steps: 0\nlearning_rate: 1.0e-3\n`,
  );
  const r = runRrhf(["train", "--config", file, "--max-steps", "3"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /lr 0\.001 linear/);
  assert.deepEqual(
    metrics(out).map((e) => e.step),
    [1, 2, 3],
  );
  // A bad flag is a usage error at parse time (exit 2); the same value in the file is a user error (exit 1).
  const bad = runRrhf(["train", "--config", file, "--max-steps", "3", "--learning-rate", "-1"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --learning-rate must be > 0$/m);
  writeFileSync(file, `model: ${MODEL}\ndata: ${DATA}\noutput_dir: ${out}\nlearning_rate: -1\n`);
  const badFile = runRrhf(["train", "--config", file]);
  assert.equal(badFile.code, 1);
  assert.match(badFile.stderr, /run\.yaml: learning_rate: must be > 0$/m);
});

test("a NaN step is skipped and counted; several in a row stop the run with exit 1 and no NaN checkpoint", () => {
  const out = tempDir();
  const ok = runChild({ output_dir: out, max_steps: 4, logging_steps: 2, save_steps: 0 }, "--nan-steps", "2");
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /warning: step 2: non-finite loss=NaN, grad_norm=NaN; step skipped \(1 in a row, 1 in total\)/);
  assert.deepEqual(
    metrics(out).map((e) => [e.step, e.skipped_nonfinite_steps]),
    [
      [2, 1],
      [4, 1],
    ],
  );
  assert.match(ok.stdout, /done: 4 steps, .*1 skipped/);

  const stop = tempDir();
  const r = runChild({ output_dir: stop, max_steps: 8, save_steps: 2, max_consecutive_nonfinite_steps: 3 }, "--nan-steps", "3,4,5");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: training stopped: 3 steps in a row had a non-finite loss or gradient \(last: step 5/);
  assert.deepEqual(
    readdirSync(stop)
      .filter((n) => n.startsWith("checkpoint-"))
      .sort(),
    ["checkpoint-2", "checkpoint-4"],
  );
  assert.ok(!existsSync(join(stop, "config.json")), "a stopped run must not write a final model");
});

test("a model whose weights hold a NaN: its steps are skipped, it is never saved, and the run stops with exit 1", () => {
  const model = tempDir();
  const tensors = readSafetensors(join(MODEL, "model.safetensors"));
  const wpe = tensors.get("transformer.wpe.weight");
  assert.ok(wpe);
  wpe.data[5] = Number.NaN;
  writeSafetensors(
    join(model, "model.safetensors"),
    [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
  );
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(MODEL, f), join(model, f));
  const args = (out: string, ...more: string[]) => [
    "train",
    "--model",
    model,
    "--data",
    DATA,
    "--out",
    out,
    "--backend",
    "ref",
    "--max-steps",
    "5",
    ...more,
  ];
  const stopped = tempDir();
  const r = runRrhf(args(stopped, "--save-steps", "0", "--max-consecutive-nonfinite-steps", "2"));
  assert.equal(r.code, 1);
  assert.match(r.stdout, /warning: step 1: non-finite loss=NaN/);
  assert.match(r.stderr, /rrhf: error: training stopped: 2 steps in a row/);
  const saving = tempDir();
  const s = runRrhf(args(saving, "--save-steps", "1", "--max-consecutive-nonfinite-steps", "5"));
  assert.equal(s.code, 1);
  assert.match(s.stderr, /rrhf: error: refusing to save checkpoint-1: parameter \d+ is NaN \(NaN\/inf weights are never saved\)/);
  for (const out of [stopped, saving])
    assert.deepEqual(
      readdirSync(out).filter((n) => n !== "metrics.jsonl"),
      [],
      `${out} holds saved files`,
    );
});

test("responses emptied by truncation are reported before training: nothing trains on them", () => {
  const model = tempDir();
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(fixture("models", "llama-tiny", f), join(model, f));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(fixture("tokenizers", "llama", f), join(model, f));
  const out = tempDir();
  const r = runRrhf(["train", "--model", model, "--data", DATA, "--out", out, "--model-max-length", "1"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /truncation emptied every response of every query \(truncation to 1 tokens: .* 21 responses emptied and dropped/);
  assert.ok(!existsSync(join(out, "metrics.jsonl")), "training started anyway");
});

test("SIGKILL in the middle of a checkpoint save, then --resume-from-checkpoint latest, ends with the uninterrupted run's weights", async () => {
  const steps = ["--max-steps", "6", "--save-steps", "2", "--logging-steps", "2", "--per-device-train-batch-size", "2"];
  const straight = tempDir();
  assert.equal(runRrhf(base(straight, ...steps)).code, 0);

  const crashed = tempDir();
  mkdirSync(crashed, { recursive: true });
  cpSync(join(straight, "checkpoint-2"), join(crashed, "checkpoint-2"), { recursive: true });
  const pauseFile = join(tempDir(), "paused");
  const settings = { ...BASE_SETTINGS, output_dir: crashed, max_steps: 6, save_steps: 2, logging_steps: 2, per_device_train_batch_size: 2 };
  const child = spawn(
    process.execPath,
    [CHILD, JSON.stringify({ ...settings, resume_from_checkpoint: "latest" }), "--pause-file", pauseFile],
    {
      cwd: repoRoot,
      stdio: "ignore",
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  // The save of checkpoint-4 writes the pause file half-way and blocks; wait for it (or for an early exit).
  for (let i = 0; i < 600 && !existsSync(pauseFile) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(pauseFile), "the save never reached the pause point");
  child.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL");
  const left = readdirSync(crashed);
  assert.ok(left.includes(`.checkpoint-4.tmp-${child.pid}`), `no half-written temp folder: ${left.join(", ")}`);
  assert.ok(!left.includes("checkpoint-4"), "a half-written checkpoint looks complete");
  assert.ok(!left.includes("config.json"));

  const resumed = runRrhf(base(crashed, ...steps, "--resume-from-checkpoint", "latest"));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resumed {5}from .*checkpoint-2 at step 2/);
  assert.ok(!readdirSync(crashed).some((n) => n.startsWith(".checkpoint-")), "the crashed save's temp folder was left behind");
  assert.ok(weights(crashed).equals(weights(straight)), "weights after crash + resume differ from the uninterrupted run");
  // The copied checkpoint brought no metrics.jsonl; the killed run's line of step 4 was dropped and re-logged once.
  assert.deepEqual(
    metrics(crashed).map((e) => e.step),
    [4, 6],
  );
});

test("--strict: truncation that empties a response stops the run naming the record, before any step", () => {
  const model = tempDir();
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(fixture("models", "llama-tiny", f), join(model, f));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(fixture("tokenizers", "llama", f), join(model, f));
  const args = (out: string, ...more: string[]) => [
    "train",
    "--model",
    model,
    "--data",
    DATA,
    "--out",
    out,
    "--model-max-length",
    "1",
    ...more,
  ];
  const out = tempDir();
  const strict = runRrhf(args(out, "--strict"));
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /rrhf: error: .*tiny-train\.jsonl:1: responses\[0\] keeps no tokens after truncation to 1 tokens/);
  assert.ok(!existsSync(join(out, "metrics.jsonl")), "training started anyway");
  // Without --strict the same data is counted instead (and, all of it emptied, refused as a whole).
  const lenient = runRrhf(args(tempDir()));
  assert.equal(lenient.code, 1);
  assert.doesNotMatch(lenient.stderr, /keeps no tokens/);
  assert.match(lenient.stderr, /21 responses emptied and dropped/);
});
