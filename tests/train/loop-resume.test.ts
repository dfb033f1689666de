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
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { describeBackends } from "../../src/kernels/select.js";
import { resolveTrainConfig, type TrainConfigInput } from "../../src/train/config.js";
import { train } from "../../src/train/loop.js";
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
  const state = (dir: string) => JSON.parse(readFileSync(join(dir, "checkpoint-6", "trainer_state.json"), "utf8")) as Record<string, unknown>;
  for (const key of ["global_step", "epoch", "data_position", "num_input_tokens_seen"]) {
    assert.deepEqual(state(resumed)[key], state(straight)[key], `trainer_state ${key}`);
  }
  // The logged training metrics of steps 4-6 agree too (all but the timing).
  const lines = (dir: string) =>
    readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => {
      const { tokens_per_second: _t, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    }).filter((e) => (e.step as number) > 3);
  assert.deepEqual(lines(resumed), lines(straight));
});

test("a resume with another seed or step count is refused with the reason", async () => {
  const out = tempDir();
  await train(config(out, { max_steps: 3 }));
  await assert.rejects(train(config(out, { max_steps: 3, seed: 7, resume_from_checkpoint: "latest" })), (e: unknown) => e instanceof UserError && /seed/.test(e.message));
  await assert.rejects(train(config(out, { max_steps: 9, resume_from_checkpoint: "latest" })), (e: unknown) => e instanceof UserError && /totalSteps: checkpoint 3, now 9/.test(e.message));
  await assert.rejects(train(config(out, { max_steps: 3 })), /already holds checkpoints/);
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
  test(`resume is bit for bit on the ${backend} backend too`, { skip: info?.available ? false : `${backend}: ${info?.reason ?? "unavailable"}` }, async () => {
    const straight = tempDir();
    await train(config(straight, { backend }));
    const resumed = tempDir();
    cpSync(join(straight, "checkpoint-3"), join(resumed, "checkpoint-3"), { recursive: true });
    await train(config(resumed, { backend, resume_from_checkpoint: "latest" }));
    assert.notDeepEqual(weights(join(straight, "checkpoint-3")), weights(straight));
    assert.ok(weights(resumed).equals(weights(straight)), `${backend}: final weights differ from the uninterrupted run`);
  });
}
