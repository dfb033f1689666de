/**
 * `rrhf train` and Ctrl-C, with real child processes: the first SIGINT
 * finishes the step, writes a checkpoint, prints the command that resumes and
 * exits 130, and that command continues to the weights of an uninterrupted
 * run; a second SIGINT ends the process at once, even in the middle of a
 * save. Also: metric lines come exactly every --logging-steps (checkpoints add
 * none).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, runRrhf, tempDir } from "../helpers.js";
import { base, CHILD, DATA, MODEL } from "./train-base.js";

const BIN = join(repoRoot, "dist", "src", "cli", "bin.js");

const weights = (dir: string): Buffer => readFileSync(join(dir, "model.safetensors"));
const loggedSteps = (dir: string): number[] =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { step: number }).step);

interface Running {
  output: () => { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (signal: NodeJS.Signals) => void;
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, args, { cwd: repoRoot });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on("close", (code, signal) => res({ code, signal })),
  );
  return { output: () => ({ stdout, stderr }), exited, kill: (s) => void child.kill(s) };
}

/** Waits (bounded; the bound only guards against a hung child) until `ready()`. */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ready(), `timed out waiting for ${what}`);
}

test("Ctrl-C: the step finishes, a checkpoint is written, the resume command is printed, exit 130; that command ends as an uninterrupted run", async () => {
  const out = tempDir();
  const steps = ["--logging-steps", "1", "--save-steps", "0", "--lr-scheduler-type", "constant"];
  const run = start([BIN, ...base(out, "--max-steps", "100000", ...steps)]);
  await until(() => /^step=1 /m.test(run.output().stdout), "the first step");
  run.kill("SIGINT");
  const { code } = await run.exited;
  const { stdout, stderr } = run.output();
  assert.equal(code, 130, stderr);
  assert.match(stderr, /rrhf: Ctrl-C: finishing the current step, then saving a checkpoint/);
  const m = /^rrhf: interrupted at step (\d+); resume with:\n {2}rrhf train --resume-from-checkpoint (\S+)\n$/m.exec(stderr);
  assert.ok(m, `no resume command in: ${stderr}`);
  const [n, checkpoint] = [Number(m[1]), m[2]];
  assert.equal(checkpoint, join(out, `checkpoint-${n}`));
  assert.ok(existsSync(join(checkpoint, "trainer_state.json")), "the checkpoint was not written (save_steps 0 must not stop it)");
  assert.ok(!existsSync(join(out, "config.json")), "an interrupted run wrote a final model");
  assert.match(stdout, new RegExp(`^interrupted after step ${n} of 100000: checkpoint ${checkpoint}, no final model$`, "m"));

  // The printed command, with a flag that overrides the checkpoint's max_steps.
  const resumed = runRrhf(["train", "--resume-from-checkpoint", checkpoint, "--max-steps", String(n + 2)]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.doesNotMatch(resumed.stderr, /warning/, "a constant schedule needs no warning when the total changes");
  const straight = tempDir();
  assert.equal(runRrhf(base(straight, "--max-steps", String(n + 2), ...steps)).code, 0);
  assert.ok(weights(out).equals(weights(straight)), "Ctrl-C + resume differs from the uninterrupted run");
  assert.deepEqual(loggedSteps(out), loggedSteps(straight));
});

test("a second Ctrl-C ends the process at once, even in the middle of the checkpoint save", async () => {
  const out = tempDir();
  const pause = join(tempDir(), "paused");
  const settings = {
    model: MODEL,
    data: DATA,
    output_dir: out,
    backend: "ref",
    model_max_length: 64,
    max_steps: 100000,
    logging_steps: 1,
    save_steps: 0,
  };
  const run = start([CHILD, JSON.stringify(settings), "--sigint", "--pause-file", pause]);
  await until(() => /^step=1 /m.test(run.output().stdout), "the first step");
  run.kill("SIGINT");
  // The save blocks the thread half-way (the hook), so only the default action of SIGINT can end it now.
  await until(() => existsSync(pause), "the interrupt's checkpoint save");
  run.kill("SIGINT");
  const { code, signal } = await run.exited;
  assert.ok(signal === "SIGINT" || code === 130, `exit ${code}, signal ${signal}`);
  assert.equal(run.output().stderr.match(/first SIGINT/g)?.length, 1);
  assert.doesNotMatch(run.output().stdout, /interrupted/);
  assert.deepEqual(
    readdirSync(out).filter((n) => n.startsWith("checkpoint-")),
    [],
    "a half-written checkpoint looks complete",
  );
});

test("metrics are logged exactly every --logging-steps (and at the last step); checkpoints add no lines", () => {
  const out = tempDir();
  const r = runRrhf(base(out, "--max-steps", "7", "--logging-steps", "3", "--save-steps", "2"));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    [...r.stdout.matchAll(/^step=(\d+) /gm)].map((x) => Number(x[1])),
    [3, 6, 7],
  );
  assert.deepEqual(loggedSteps(out), [3, 6, 7]);
  assert.deepEqual(
    readdirSync(out)
      .filter((n) => n.startsWith("checkpoint-"))
      .sort(),
    ["checkpoint-2", "checkpoint-4", "checkpoint-6", "checkpoint-7"],
  );
  assert.match(r.stdout, /^done: 7 steps, loss \S+, ranking_accuracy \S+, 0 skipped, model saved to /m);
});
