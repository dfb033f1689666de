/**
 * `train(config, { signal })`: an aborted signal stops the run after the
 * step in progress with a checkpoint (even with save_steps 0) and no final
 * model; the steps not logged yet travel in the checkpoint, so the resumed
 * run logs what an uninterrupted one logs. Also the CLI's shell quoting of
 * the resume command.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { shellQuote } from "../../src/cli/interrupt.js";
import { resolveTrainConfig, type TrainConfigInput } from "../../src/train/config.js";
import { train } from "../../src/train/loop.js";
import { tempDir } from "../helpers.js";
import { tinyRunConfig } from "./tiny-run.js";

function config(out: string, extra: TrainConfigInput = {}) {
  return tinyRunConfig(out, { model_max_length: 64, max_steps: 6, logging_steps: 4, save_steps: 0, ...extra });
}

const lines = (dir: string) =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => {
      const { tokens_per_second: _t, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });

test("an aborted signal stops after the step in progress, with a checkpoint; the resumed run logs as an uninterrupted one", async () => {
  const straight = tempDir();
  await train(config(straight));
  const out = tempDir();
  const controller = new AbortController();
  // The hook runs inside step 3: the abort lands while a step is in progress.
  const hooks = {
    forceNonFinite: (step: number): boolean => {
      if (step === 3) controller.abort();
      return false;
    },
  };
  const stopped = await train(config(out), { stdout: () => {}, stderr: () => {}, signal: controller.signal, hooks });
  assert.deepEqual(stopped.interrupted, { step: 3, checkpoint: join(out, "checkpoint-3") });
  assert.equal(stopped.globalStep, 3);
  assert.ok(!existsSync(join(out, "config.json")), "an interrupted run wrote a final model");
  assert.equal(
    existsSync(join(out, "metrics.jsonl")) ? readFileSync(join(out, "metrics.jsonl"), "utf8") : "",
    "",
    "steps 1-3 were logged before step 4",
  );
  const state = JSON.parse(readFileSync(join(out, "checkpoint-3", "trainer_state.json"), "utf8")) as { unlogged_steps: unknown[] };
  assert.equal(state.unlogged_steps.length, 3);

  const resumed = await train(resolveTrainConfig({ overrides: { output_dir: out, resume_from_checkpoint: "latest" } }));
  assert.equal(resumed.interrupted, null);
  assert.ok(readFileSync(join(out, "model.safetensors")).equals(readFileSync(join(straight, "model.safetensors"))));
  assert.deepEqual(lines(out), lines(straight), "the step-4 line averages steps 1-4 in both runs");
});

test("a signal aborted before the first step saves nothing", async () => {
  const out = tempDir();
  const result = await train(config(out), { stdout: () => {}, stderr: () => {}, signal: AbortSignal.abort() });
  assert.deepEqual(result.interrupted, { step: 0, checkpoint: null });
  assert.ok(!existsSync(join(out, "checkpoint-0")) && !existsSync(join(out, "config.json")));
});

test("the resume command quotes paths for a POSIX shell", () => {
  assert.equal(shellQuote("runs/demo/checkpoint-7"), "runs/demo/checkpoint-7");
  assert.equal(shellQuote("my runs/it's"), `'my runs/it'\\''s'`);
});
