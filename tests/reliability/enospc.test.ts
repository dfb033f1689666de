/** A full disk (ENOSPC, simulated by an injected byte writer) during a save: clear error, earlier work intact. */
import assert from "node:assert/strict";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { writeAllSync, type WriteBytes } from "../../src/io/atomic.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { loadModelFolder } from "../../src/models/hf/folder.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint.js";
import { saveFinalModel } from "../../src/train/run-save.js";
import { fixture, tempDir } from "../helpers.js";
import { saveToyCheckpoint, toyRun, toySchedule, toySegments, toyTrainerState } from "../train/checkpoint-toy.js";

/** A writer that accepts `budget` bytes, writes part of the next chunk, then fails as a full disk does. */
function diskFullAfter(budget: number): WriteBytes {
  let written = 0;
  return (fd, bytes) => {
    if (written + bytes.length <= budget) {
      writeAllSync(fd, bytes);
      written += bytes.length;
      return;
    }
    writeAllSync(fd, bytes.subarray(0, budget - written));
    written = budget;
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write", errno: -28 });
  };
}

/** Every file under `dir` with its bytes, for before/after comparison. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(join(e.parentPath, e.name).slice(dir.length), readFileSync(join(e.parentPath, e.name)));
  }
  return out;
}

function failingToySave(outDir: string, step: number, writeBytes: WriteBytes): Promise<string> {
  const { params, opt, rng } = toyRun(step);
  return saveCheckpoint({
    outputDir: outDir,
    writeModel: (dir) => {
      writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "toy" }));
      const tensors = toySegments.map((s) => ({ name: s.name, shape: [...s.shape], data: params.subarray(s.offset, s.offset + s.length) }));
      writeSafetensors(join(dir, "model.safetensors"), tensors);
    },
    params,
    optimizerName: opt.name,
    optimizerState: opt.state(),
    schedule: toySchedule.state(step),
    rng: { data: rng.getState() },
    trainerState: toyTrainerState(step),
    trainingArgs: { learning_rate: 1e-3, seed: 42 },
    writeBytes,
  });
}

const enospcMessage = (what: RegExp) => (err: unknown) =>
  err instanceof UserError && what.test(err.message) && /cannot write: no space left on the device.*\(ENOSPC\)/.test(err.message);

for (const budget of [0, 100, 400, 700]) {
  test(`checkpoint save: disk full after ${budget} bytes of optimizer/state files -> UserError, earlier checkpoints intact`, async () => {
    const out = tempDir();
    await saveToyCheckpoint(out, 2);
    await saveToyCheckpoint(out, 3);
    const before = snapshot(out);
    // A new step, and a re-save of an existing step (which replaces a folder): neither may harm what is there.
    for (const step of [4, 3]) {
      await assert.rejects(
        failingToySave(out, step, diskFullAfter(budget)),
        enospcMessage(new RegExp(`checkpoint-${step} \\(not saved\\)`)),
      );
      assert.deepEqual(snapshot(out), before, "the output folder changed");
    }
    assert.deepEqual(readdirSync(out).sort(), ["checkpoint-2", "checkpoint-3"]);
    assert.equal(loadCheckpoint(join(out, "checkpoint-3")).trainerState.global_step, 3);
  });
}

test("final model save: disk full mid model.safetensors -> UserError, the previous final model and checkpoints intact", async () => {
  const out = tempDir();
  const hf = loadModelFolder(fixture("models", "gpt2-tiny"));
  await saveToyCheckpoint(out, 1);
  saveFinalModel(out, hf);
  const before = snapshot(out);
  for (const budget of [0, 8, 5000]) {
    assert.throws(() => saveFinalModel(out, hf, diskFullAfter(budget)), enospcMessage(/final model not saved/));
    assert.deepEqual(snapshot(out), before, `budget ${budget}: the output folder changed`);
  }
  // What is there still loads.
  const copy = join(tempDir(), "m");
  cpSync(out, copy, { recursive: true });
  assert.deepEqual(loadModelFolder(copy).params.names(), hf.params.names());
});
