import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../../src/errors.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import {
  findLatestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  removeStaleCheckpointTemps,
  resolveResumeCheckpoint,
} from "../../src/train/checkpoint-dir.js";
import { checkpointProblem, loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint.js";
import { AdamW } from "../../src/train/optim/index.js";
import { Rng } from "../../src/train/rng.js";
import { repoRoot, tempDir } from "../helpers.js";
import { saveToyCheckpoint, toyRun, toySchedule, toySegments, toyTrainerState } from "./checkpoint-toy.js";

test("a saved checkpoint loads back exactly, and no temp folder remains", async () => {
  const out = tempDir();
  const dir = await saveToyCheckpoint(out, 3);
  assert.equal(dir, join(out, "checkpoint-3"));
  assert.deepEqual(readdirSync(out), ["checkpoint-3"]);
  assert.deepEqual(readdirSync(dir).sort(), [
    "config.json",
    "model.safetensors",
    "optimizer.safetensors",
    "rng_state.json",
    "scheduler.json",
    "trainer_state.json",
    "training_args.json",
  ]);
  const ck = loadCheckpoint(dir);
  const { opt, rng } = toyRun(3);
  assert.equal(ck.optimizerName, "adamw");
  assert.deepEqual(ck.optimizerState, opt.state());
  assert.deepEqual(ck.rng, { data: rng.getState() });
  assert.deepEqual(ck.schedule, toySchedule.state(3));
  assert.deepEqual(ck.trainerState, toyTrainerState(3));
  assert.deepEqual(ck.trainingArgs, { learning_rate: 1e-3, seed: 42 });
});

test("N steps straight equal k steps + checkpoint + resume + (N-k) steps, bit for bit", async () => {
  const out = tempDir();
  const straight = toyRun(6).params;
  const dir = await saveToyCheckpoint(out, 3);

  const ck = loadCheckpoint(resolveResumeCheckpoint(out, "latest"));
  const weights = readSafetensors(join(dir, "model.safetensors"));
  const params = new Float32Array(9);
  for (const s of toySegments) params.set(weights.get(s.name)!.data, s.offset);
  const opt = new AdamW(toySegments, { weight_decay: 0.1 });
  opt.loadState(ck.optimizerState);
  const rng = Rng.fromState(ck.rng.data);
  assert.deepEqual(ck.schedule, toySchedule.state(3));
  for (let s = ck.trainerState.global_step; s < 6; s++) {
    const grads = new Float32Array(params.length).map(() => rng.nextNormal());
    opt.step(params, grads, toySchedule.lrAt(s));
  }
  assert.deepEqual(params, straight);
});

test("NaN weights are never saved; nothing is left behind", async () => {
  const out = tempDir();
  const { opt } = toyRun(1);
  const params = new Float32Array([1, Number.NaN, 0, 0, 0, 0, 0, 0, 0]);
  await assert.rejects(
    saveCheckpoint({
      outputDir: out,
      writeModel: () => undefined,
      params,
      optimizerName: opt.name,
      optimizerState: opt.state(),
      schedule: toySchedule.state(1),
      rng: {},
      trainerState: toyTrainerState(1),
    }),
    (err: unknown) => err instanceof UserError && /parameter 1 is NaN/.test(err.message),
  );
  assert.deepEqual(readdirSync(out), []);
});

test("a failing model writer leaves no checkpoint and no temp folder", async () => {
  const out = tempDir();
  const { opt, params } = toyRun(1);
  await assert.rejects(
    saveCheckpoint({
      outputDir: out,
      writeModel: () => {
        throw new Error("disk full");
      },
      params,
      optimizerName: opt.name,
      optimizerState: opt.state(),
      schedule: toySchedule.state(1),
      rng: {},
      trainerState: toyTrainerState(1),
    }),
    /disk full/,
  );
  assert.deepEqual(readdirSync(out), []);
});

test("findLatestCheckpoint skips folders without the completion marker or with damaged files", async () => {
  const out = tempDir();
  await saveToyCheckpoint(out, 2);
  await saveToyCheckpoint(out, 4);
  mkdirSync(join(out, "checkpoint-9")); // no trainer_state.json: never completed
  writeFileSync(join(out, "checkpoint-9", "model.safetensors"), "x");
  assert.equal(findLatestCheckpoint(out), join(out, "checkpoint-4"));
  truncateSync(join(out, "checkpoint-4", "optimizer.safetensors"), 10); // damaged after the fact
  assert.match(checkpointProblem(join(out, "checkpoint-4")) ?? "", /optimizer.safetensors \(size 10/);
  assert.equal(findLatestCheckpoint(out), join(out, "checkpoint-2"));
  assert.throws(() => resolveResumeCheckpoint(out, join(out, "checkpoint-9")), /trainer_state.json: missing/);
  assert.throws(() => resolveResumeCheckpoint(tempDir(), "latest"), /no complete checkpoint/);
  assert.throws(() => resolveResumeCheckpoint(out, join(out, "nope")), /does not exist/);
});

test("saving the same step again replaces the folder whole", async () => {
  const out = tempDir();
  await saveToyCheckpoint(out, 2);
  await saveToyCheckpoint(out, 2);
  assert.deepEqual(readdirSync(out), ["checkpoint-2"]);
  assert.equal(loadCheckpoint(join(out, "checkpoint-2")).trainerState.global_step, 2);
});

test("pruneCheckpoints keeps the newest save_total_limit, oldest go first, the resumed one stays", async () => {
  const out = tempDir();
  for (const s of [1, 2, 3, 10]) await saveToyCheckpoint(out, s); // 10 sorts after 3 numerically
  assert.deepEqual(pruneCheckpoints(out, null), []);
  const removed = pruneCheckpoints(out, 2, [join(out, "checkpoint-1")]);
  assert.deepEqual(removed, [join(out, "checkpoint-2"), join(out, "checkpoint-3")]);
  assert.deepEqual(
    listCheckpoints(out).map((c) => c.step),
    [1, 10],
  );
  assert.deepEqual(readdirSync(out).sort(), ["checkpoint-1", "checkpoint-10"]);
});

/** Waits (bounded) until `file` exists; the bound only guards against a hung child. */
async function waitForFile(file: string, child: { exitCode: number | null }): Promise<void> {
  for (let i = 0; i < 3000 && !existsSync(file); i++) {
    if (child.exitCode !== null) assert.fail(`child exited early with ${child.exitCode}`);
    await sleep(20);
  }
  assert.ok(existsSync(file), "the child never reached the pause point");
}

test("SIGKILL in the middle of a save leaves no checkpoint-N; resume uses the previous one", async () => {
  const out = tempDir();
  const script = join(repoRoot, "dist", "tests", "train", "checkpoint-child.js");
  const first = spawn(process.execPath, [script, out, "2"], { stdio: "ignore" });
  const firstCode = await new Promise<number | null>((res) => first.on("exit", (code) => res(code)));
  assert.equal(firstCode, 0);

  const signal = join(out, "paused.json");
  const child = spawn(process.execPath, [script, out, "4", signal], { stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_code, sig) => res(sig)));
  await waitForFile(signal, child);
  const pid = child.pid!;
  child.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL");

  // The half-written save is visible only as a hidden temp folder.
  const tmp = `.checkpoint-4.tmp-${pid}`;
  assert.ok(readdirSync(out).includes(tmp));
  assert.ok(existsSync(join(out, tmp, "optimizer.safetensors")));
  assert.ok(!existsSync(join(out, "checkpoint-4")));
  assert.equal(findLatestCheckpoint(out), join(out, "checkpoint-2"));

  assert.deepEqual(removeStaleCheckpointTemps(out), [join(out, tmp)]);
  const ck = loadCheckpoint(resolveResumeCheckpoint(out, "latest"));
  assert.equal(ck.trainerState.global_step, 2);
  await saveToyCheckpoint(out, 4); // the resumed run saves step 4 normally
  assert.deepEqual(
    listCheckpoints(out).map((c) => c.step),
    [2, 4],
  );
  assert.deepEqual(JSON.parse(readFileSync(signal, "utf8")), { pid });
});

test("stale-temp cleanup leaves a live process's temp folder alone", () => {
  const out = tempDir();
  mkdirSync(join(out, `.checkpoint-3.tmp-${process.pid}`));
  mkdirSync(join(out, ".checkpoint-3.tmp-1")); // pid 1 is always alive
  assert.deepEqual(removeStaleCheckpointTemps(out), []);
  assert.equal(readdirSync(out).length, 2);
});
