/**
 * Must-show: resume equivalence. N steps straight and k steps + resume +
 * (N - k) steps give bit-identical weights (same backend and thread count):
 * the straight run writes checkpoint-k; a second output folder that holds
 * only that checkpoint resumes from it and must end with the same bytes in
 * model.safetensors. The settings cross epoch boundaries with a partial
 * gradient accumulation, warmup and a cosine schedule, so a wrong data
 * position, schedule step or optimizer state would show.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { describeBackends } from "../../src/kernels/select.js";
import { resolveTrainConfig, type TrainConfigInput } from "../../src/train/config.js";
import { train } from "../../src/train/loop.js";
import { formatMetric } from "../../src/train/metrics-log.js";
import { LrSchedule } from "../../src/train/schedule.js";
import { fixture, tempDir } from "../helpers.js";

function config(out: string, extra: TrainConfigInput = {}) {
  return resolveTrainConfig({
    overrides: {
      model: fixture("models", "gpt2-tiny"),
      data: fixture("train", "tiny-train.jsonl"),
      output_dir: out,
      backend: "ref",
      // 8 queries / 3 per batch = 3 batches per epoch; accumulation 2 -> 2 steps per epoch (the 2nd has 1 micro-batch).
      per_device_train_batch_size: 3,
      gradient_accumulation_steps: 2,
      max_steps: 6,
      save_steps: 3,
      logging_steps: 2,
      learning_rate: 3e-3,
      lr_scheduler_type: "cosine",
      warmup_steps: 1,
      weight_decay: 0.01,
      ...extra,
    },
  });
}

const weights = (dir: string): Buffer => readFileSync(join(dir, "model.safetensors"));

test("N steps straight == k steps + resume + N-k steps, bit for bit", async () => {
  const straight = tempDir();
  const a = await train(config(straight));
  assert.equal(a.globalStep, 6);
  assert.ok(existsSync(join(straight, "checkpoint-3")) && existsSync(join(straight, "checkpoint-6")));
  assert.notDeepEqual(weights(join(straight, "checkpoint-3")), weights(straight), "steps 4-6 changed nothing: the test could not fail");

  const resumed = tempDir();
  cpSync(join(straight, "checkpoint-3"), join(resumed, "checkpoint-3"), { recursive: true });
  const b = await train(config(resumed, { resume_from_checkpoint: "latest" }));
  assert.equal(b.resumedFrom, join(resumed, "checkpoint-3"));
  assert.equal(b.globalStep, 6);
  assert.ok(weights(resumed).equals(weights(straight)), "final weights differ from the uninterrupted run");
  assert.ok(weights(join(resumed, "checkpoint-6")).equals(weights(join(straight, "checkpoint-6"))));
  const state = (dir: string) =>
    JSON.parse(readFileSync(join(dir, "checkpoint-6", "trainer_state.json"), "utf8")) as Record<string, unknown>;
  for (const key of ["global_step", "epoch", "data_position", "num_input_tokens_seen"]) {
    assert.deepEqual(state(resumed)[key], state(straight)[key], `trainer_state ${key}`);
  }
  // The logged training metrics of steps 4-6 agree too (all but the timing).
  const lines = (dir: string) =>
    readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const { tokens_per_second: _t, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return rest;
      })
      .filter((e) => (e.step as number) > 3);
  assert.deepEqual(lines(resumed), lines(straight));
});

test("a resume reuses the checkpoint's settings: defaults < checkpoint < config file < flags", async () => {
  const out = tempDir();
  await train(config(out, { max_steps: 3 }));
  const file = join(tempDir(), "more.yaml");
  writeFileSync(file, "logging_steps: 5\nsave_steps: 7\n");
  const resumed = resolveTrainConfig({ configFile: file, overrides: { output_dir: out, resume_from_checkpoint: "latest", save_steps: 9 } });
  assert.equal(resumed.model, fixture("models", "gpt2-tiny"), "model from the checkpoint");
  assert.equal(resumed.learning_rate, 3e-3, "learning_rate from the checkpoint, not the default");
  assert.equal(resumed.lr_scheduler_type, "cosine");
  assert.equal(resumed.max_steps, 3);
  assert.equal(resumed.logging_steps, 5, "the config file beats the checkpoint");
  assert.equal(resumed.save_steps, 9, "a flag beats the config file");
  assert.equal(resumed.resume_from_checkpoint, "latest");
  const saved = JSON.parse(readFileSync(join(out, "checkpoint-3", "training_args.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual(saved, { ...config(out, { max_steps: 3 }) }, "training_args.json holds the resolved settings");
  // A new number of epochs is not hidden by the checkpoint's max_steps.
  const epochs = resolveTrainConfig({ overrides: { output_dir: out, resume_from_checkpoint: "latest", num_train_epochs: 4 } });
  assert.deepEqual([epochs.num_train_epochs, epochs.max_steps], [4, -1]);
  assert.throws(
    () => resolveTrainConfig({ overrides: { resume_from_checkpoint: "latest" } }),
    /latest looks in the output folder: give --out/,
  );
});

test("a resume that changes a setting fixed for the run is refused, naming it; a new total is allowed", async () => {
  const out = tempDir();
  await train(config(out, { max_steps: 3 }));
  const resume = (extra: TrainConfigInput) =>
    train(resolveTrainConfig({ overrides: { output_dir: out, resume_from_checkpoint: "latest", ...extra } }));
  await assert.rejects(
    resume({ seed: 7 }),
    (e: unknown) => e instanceof UserError && /seed: checkpoint 42, now 7 \(the data order/.test(e.message),
  );
  await assert.rejects(
    resume({ learning_rate: 1e-3, optim: "sgd" }),
    (e: unknown) =>
      e instanceof UserError &&
      /settings fixed for a run changed:\n {2}optim: checkpoint adamw, now sgd .*\n {2}learning_rate: checkpoint 0\.003, now 0\.001 /.test(
        e.message,
      ),
  );
  await assert.rejects(resume({ max_steps: 2 }), /it is at step 3, past the run's 2 steps/);
  await assert.rejects(train(config(out, { max_steps: 3 })), /already holds checkpoints/);
});

test("constant schedule: 2 steps + resume to 4 gives the weights of 4 straight steps, bit for bit", async () => {
  const constant: TrainConfigInput = { lr_scheduler_type: "constant", warmup_steps: 0, save_steps: 500 };
  const straight = tempDir();
  await train(config(straight, { ...constant, max_steps: 4 }));
  const resumed = tempDir();
  const first = await train(config(resumed, { ...constant, max_steps: 2 }));
  assert.deepEqual(first.checkpoints, [join(resumed, "checkpoint-2")], "the last step writes a checkpoint");
  const stderr: string[] = [];
  const io = { stdout: () => {}, stderr: (s: string) => void stderr.push(s) };
  const second = await train(
    resolveTrainConfig({ overrides: { output_dir: resumed, resume_from_checkpoint: "latest", max_steps: 4 } }),
    io,
  );
  assert.equal(second.globalStep, 4);
  assert.doesNotMatch(stderr.join(""), /warning/, "a constant schedule does not depend on the total: nothing to warn about");
  assert.ok(!weights(join(resumed, "checkpoint-2")).equals(weights(resumed)), "steps 3-4 changed nothing: the test could not fail");
  assert.ok(weights(resumed).equals(weights(straight)), "2 + resume to 4 differs from 4 straight steps");
});

test("cosine schedule: extending the run recomputes the schedule for the new total, with a warning", async () => {
  const straight = tempDir();
  await train(config(straight, { max_steps: 6, save_steps: 0, logging_steps: 1 }));
  const out = tempDir();
  await train(config(out, { max_steps: 3, logging_steps: 1 }));
  const stderr: string[] = [];
  const io = { stdout: () => {}, stderr: (s: string) => void stderr.push(s) };
  await train(resolveTrainConfig({ overrides: { output_dir: out, resume_from_checkpoint: "latest", max_steps: 6 } }), io);
  const expected = LrSchedule.fromTrainingArgs({ lr_scheduler_type: "cosine", learning_rate: 3e-3, warmup_steps: 1, warmup_ratio: 0 }, 6);
  const old = LrSchedule.fromTrainingArgs({ lr_scheduler_type: "cosine", learning_rate: 3e-3, warmup_steps: 1, warmup_ratio: 0 }, 3);
  assert.equal(
    stderr.filter((line) => line.includes("warning")).join(""),
    `rrhf: warning: the run now has 6 steps, the checkpoint's had 3: the cosine learning-rate schedule is recomputed for 6 steps; ` +
      `the learning rate of step 4 is ${formatMetric(expected.lrAt(3))} (${formatMetric(old.lrAt(3))} under the checkpoint's schedule)\n`,
  );
  const lrs = (dir: string) =>
    readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; learning_rate: number });
  const after = lrs(out).filter((e) => e.step > 3);
  assert.deepEqual(
    after.map((e) => e.learning_rate),
    [3, 4, 5].map((s) => expected.lrAt(s)),
  );
  assert.deepEqual(
    after.map((e) => e.learning_rate),
    lrs(straight)
      .filter((e) => e.step > 3)
      .map((e) => e.learning_rate),
    "steps 4-6 use the 6-step schedule",
  );
});

test("--overwrite-output-dir starts a new run over old checkpoints, removing them first", async () => {
  const out = tempDir();
  await train(config(out, { max_steps: 3 }));
  assert.ok(existsSync(join(out, "checkpoint-3")));
  await train(config(out, { max_steps: 2, save_steps: 0, overwrite_output_dir: true }));
  assert.equal(existsSync(join(out, "checkpoint-3")), false, "the earlier run's checkpoint is gone");
  assert.ok(existsSync(join(out, "model.safetensors")));
});

// The same equivalence on the other backends (the tiny fixture's products stay below the threading cut-off).
for (const backend of ["wasm", "native"] as const) {
  const info = describeBackends().find((b) => b.name === backend);
  test(`resume is bit for bit on the ${backend} backend too`, {
    skip: info?.available ? false : `${backend}: ${info?.reason ?? "unavailable"}`,
  }, async () => {
    const straight = tempDir();
    await train(config(straight, { backend }));
    const resumed = tempDir();
    cpSync(join(straight, "checkpoint-3"), join(resumed, "checkpoint-3"), { recursive: true });
    await train(config(resumed, { backend, resume_from_checkpoint: "latest" }));
    assert.notDeepEqual(weights(join(straight, "checkpoint-3")), weights(straight));
    assert.ok(weights(resumed).equals(weights(straight)), `${backend}: final weights differ from the uninterrupted run`);
  });
}
