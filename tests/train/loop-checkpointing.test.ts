/**
 * `rrhf train --gradient-checkpointing` trains exactly as without it: a few
 * optimiser steps (with gradient accumulation) end in the same bytes of
 * model.safetensors, in the default packed-shared-prefix layout and the
 * plain one, and the run no longer warns that the option is ignored.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type TrainConfigInput } from "../../src/train/config.js";
import { train } from "../../src/train/loop.js";
import { fixture, tempDir } from "../helpers.js";
import { tinyRunConfig } from "./tiny-run.js";

function config(out: string, extra: TrainConfigInput) {
  return tinyRunConfig(out, {
    per_device_train_batch_size: 3,
    gradient_accumulation_steps: 2,
    max_steps: 3,
    save_steps: 100,
    logging_steps: 1,
    ...extra,
  });
}

const weights = (dir: string): Buffer => readFileSync(join(dir, "model.safetensors"));

for (const layout of ["packed-shared-prefix", "plain"] as const) {
  test(`${layout}: the same final weights with and without gradient checkpointing`, async () => {
    const plainOut = tempDir();
    await train(config(plainOut, { layout }));
    const ckptOut = tempDir();
    const stderr: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => void stderr.push(s), progress: "none" as const };
    const result = await train(config(ckptOut, { layout, gradient_checkpointing: true }), io);
    assert.equal(result.globalStep, 3);
    assert.ok(
      !weights(plainOut).equals(readFileSync(fixture("models", "gpt2-tiny", "model.safetensors"))),
      "training changed nothing: the test could not fail",
    );
    assert.ok(weights(ckptOut).equals(weights(plainOut)), "final weights differ with gradient checkpointing");
    assert.ok(!stderr.join("").includes("gradient_checkpointing"), `unexpected warning: ${stderr.join("")}`);
  });
}
