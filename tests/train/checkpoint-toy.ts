/** A toy "run" whose state can be checkpointed: shared by the checkpoint tests and their child process. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { saveCheckpoint, type TrainerState } from "../../src/train/checkpoint.js";
import { AdamW, type ParamSegment } from "../../src/train/optim/index.js";
import { Rng } from "../../src/train/rng.js";
import { LrSchedule } from "../../src/train/schedule.js";

export const toySegments: ParamSegment[] = [
  { name: "w", offset: 0, length: 6, shape: [2, 3] },
  { name: "b", offset: 6, length: 3, shape: [3] },
];

export function toyTrainerState(step: number): TrainerState {
  return {
    global_step: step,
    epoch: step / 4,
    max_steps: 8,
    num_train_epochs: 2,
    logging_steps: 1,
    save_steps: 1,
    eval_steps: null,
    train_batch_size: 1,
    num_input_tokens_seen: 10 * step,
    data_position: { epoch: Math.floor(step / 4), batch_in_epoch: step % 4 },
    skipped_nonfinite_steps: 0,
    log_history: [{ step, loss: 1 / (step + 1), learning_rate: 1e-3 }],
  };
}

export const toySchedule = new LrSchedule({ lr_scheduler_type: "linear", learning_rate: 1e-3, warmupSteps: 1, totalSteps: 8 });

/** Runs `step` deterministic AdamW updates of the toy params; returns params, optimizer and rng. */
export function toyRun(step: number): { params: Float32Array; opt: AdamW; rng: Rng } {
  const params = new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.01, 0.02, 0.03]);
  const opt = new AdamW(toySegments, { weight_decay: 0.1 });
  const rng = Rng.fromSeed(42);
  for (let s = 0; s < step; s++) {
    const grads = new Float32Array(params.length).map(() => rng.nextNormal());
    opt.step(params, grads, toySchedule.lrAt(s));
  }
  return { params, opt, rng };
}

export function saveToyCheckpoint(outDir: string, step: number, onPartlyWritten?: (tempDir: string) => void): Promise<string> {
  const { params, opt, rng } = toyRun(step);
  return saveCheckpoint({
    outputDir: outDir,
    writeModel: (dir) => {
      writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "toy" }));
      writeSafetensors(
        join(dir, "model.safetensors"),
        toySegments.map((s) => ({ name: s.name, shape: [...s.shape], data: params.subarray(s.offset, s.offset + s.length) })),
      );
    },
    params,
    optimizerName: opt.name,
    optimizerState: opt.state(),
    schedule: toySchedule.state(step),
    rng: { data: rng.getState() },
    trainerState: toyTrainerState(step),
    trainingArgs: { learning_rate: 1e-3, seed: 42 },
    onPartlyWritten,
  });
}
