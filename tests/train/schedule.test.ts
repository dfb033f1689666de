import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { scheduleChangeWarning } from "../../src/train/run-resume.js";
import { UserError } from "../../src/errors.js";
import { trainingPlan } from "../../src/train/plan.js";
import { type LrSchedulerType, LrSchedule, resolveWarmupSteps } from "../../src/train/schedule.js";
import { fixture } from "../helpers.js";

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b);

test("linear with warmup: hand-computed values", () => {
  const s = new LrSchedule({ lr_scheduler_type: "linear", learning_rate: 1, warmupSteps: 2, totalSteps: 10 });
  // warmup 0, 1/2; then (10 - step) / 8
  const expected = [0, 0.5, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8, 0, 0];
  expected.forEach((e, step) => assert.ok(close(s.lrAt(step), e), `step ${step}: ${s.lrAt(step)} vs ${e}`));
});

test("cosine with warmup: hand-computed values", () => {
  const s = new LrSchedule({ lr_scheduler_type: "cosine", learning_rate: 2, warmupSteps: 1, totalSteps: 5 });
  // progress = (step - 1) / 4: 0, 1/4, 1/2, 3/4, 1 -> 0.5 * (1 + cos(pi * p))
  const c = (p: number): number => 2 * 0.5 * (1 + Math.cos(Math.PI * p));
  assert.equal(s.lrAt(0), 0);
  assert.ok(close(s.lrAt(1), 2));
  assert.ok(close(s.lrAt(2), c(0.25)));
  assert.ok(close(s.lrAt(3), 1));
  assert.ok(close(s.lrAt(5), 0));
});

test("constant: no warmup is exactly constant; with warmup we warm up (HF's constant_with_warmup)", () => {
  const plain = new LrSchedule({ lr_scheduler_type: "constant", learning_rate: 3e-4, warmupSteps: 0, totalSteps: 4 });
  assert.deepEqual(
    [0, 1, 2, 3, 9].map((s) => plain.lrAt(s)),
    [3e-4, 3e-4, 3e-4, 3e-4, 3e-4],
  );
  const warm = new LrSchedule({ lr_scheduler_type: "constant", learning_rate: 1, warmupSteps: 4, totalSteps: 10 });
  assert.deepEqual(
    [0, 1, 2, 3, 4, 9].map((s) => warm.lrAt(s)),
    [0, 0.25, 0.5, 0.75, 1, 1],
  );
});

test("warmup from ratio is ceil(ratio * total), like HF (rounds up, also float noise)", () => {
  assert.equal(resolveWarmupSteps(100, 0, 0.03), 3);
  assert.equal(resolveWarmupSteps(50, 0, 0.03), 2); // 1.5 -> 2
  assert.equal(resolveWarmupSteps(100, 0, 0.07), 8); // 0.07 * 100 = 7.000000000000001 -> 8, as math.ceil in Python
  assert.equal(resolveWarmupSteps(1000, 0, 0.03), 30);
  assert.equal(resolveWarmupSteps(10, 3, 0.5), 3); // explicit steps win
  assert.equal(resolveWarmupSteps(10, 0, 0), 0);
});

interface ScheduleGolden {
  lr_scheduler_type: LrSchedulerType;
  learning_rate: number;
  warmup_steps: number;
  warmup_ratio: number;
  total_steps: number;
  resolved_warmup_steps: number;
  lrs: number[];
}

test("schedules equal the Python reference values (tests/reference/make_optim_golden.py)", () => {
  const golden = JSON.parse(readFileSync(fixture("optim", "optim_golden.json"), "utf8")) as { schedules: ScheduleGolden[] };
  assert.ok(golden.schedules.length >= 4);
  for (const g of golden.schedules) {
    const warmup = resolveWarmupSteps(g.total_steps, g.warmup_steps, g.warmup_ratio);
    assert.equal(warmup, g.resolved_warmup_steps);
    const s = new LrSchedule({
      lr_scheduler_type: g.lr_scheduler_type,
      learning_rate: g.learning_rate,
      warmupSteps: warmup,
      totalSteps: g.total_steps,
    });
    g.lrs.forEach((lr, step) => assert.ok(close(s.lrAt(step), lr), `${g.lr_scheduler_type} step ${step}: ${s.lrAt(step)} vs ${lr}`));
  }
});

test("bad schedule settings are user errors; on resume a new total recomputes the schedule with a warning, a new type is refused", () => {
  assert.throws(
    () => new LrSchedule({ lr_scheduler_type: "poly" as LrSchedulerType, learning_rate: 1, warmupSteps: 0, totalSteps: 1 }),
    /unknown lr_scheduler_type "poly"/,
  );
  assert.throws(() => new LrSchedule({ lr_scheduler_type: "linear", learning_rate: 1, warmupSteps: 0, totalSteps: 0 }), UserError);
  const s = new LrSchedule({ lr_scheduler_type: "linear", learning_rate: 1, warmupSteps: 0, totalSteps: 10 });
  assert.equal(scheduleChangeWarning("ck", s.state(3), s, 3), null);
  assert.match(
    scheduleChangeWarning("ck", { ...s.state(3), totalSteps: 5 }, s, 5) ?? "",
    /^the run now has 10 steps, the checkpoint's had 5: the linear learning-rate schedule is recomputed for 10 steps; the learning rate of step 6 is 0\.5 \(0 under the checkpoint's schedule\)$/,
  );
  // A constant schedule does not depend on the total: nothing to warn about.
  const c = new LrSchedule({ lr_scheduler_type: "constant", learning_rate: 1, warmupSteps: 0, totalSteps: 10 });
  assert.equal(scheduleChangeWarning("ck", { ...c.state(3), totalSteps: 5 }, c, 5), null);
  assert.throws(
    () => scheduleChangeWarning("ck", { ...c.state(3), lr_scheduler_type: "cosine" }, c, 3),
    /cannot resume from ck: its lr_scheduler_type was cosine, now constant/,
  );
});

test("training plan counts updates like the HF Trainer", () => {
  const base = { per_device_train_batch_size: 4, gradient_accumulation_steps: 8, num_train_epochs: 3, max_steps: -1 };
  assert.deepEqual(trainingPlan({ ...base, numExamples: 100 }), { batchesPerEpoch: 25, stepsPerEpoch: 4, totalSteps: 12, numEpochs: 3 });
  assert.equal(trainingPlan({ ...base, numExamples: 100, num_train_epochs: 1.5 }).totalSteps, 6);
  assert.deepEqual(trainingPlan({ ...base, numExamples: 100, max_steps: 10 }), {
    batchesPerEpoch: 25,
    stepsPerEpoch: 4,
    totalSteps: 10,
    numEpochs: 3,
  });
  assert.equal(trainingPlan({ ...base, numExamples: 3 }).stepsPerEpoch, 1);
});

test("fromTrainingArgs resolves warmup from the config fields", () => {
  const s = LrSchedule.fromTrainingArgs({ lr_scheduler_type: "cosine", learning_rate: 2e-5, warmup_steps: 0, warmup_ratio: 0.03 }, 200);
  assert.deepEqual(s.options, { lr_scheduler_type: "cosine", learning_rate: 2e-5, warmupSteps: 6, totalSteps: 200 });
});
