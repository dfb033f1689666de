/**
 * Must-show: the training step of `rrhf train` (trainStep, the function the
 * loop calls) against PyTorch. tests/reference/make_train_golden.py runs the
 * golden batch of gpt2-tiny through one torch.optim.SGD step and two
 * torch.optim.AdamW steps (gradient accumulation over two micro-batches,
 * clip_grad_norm_, HF's linear schedule) in float64; the parameters after
 * the steps must match at rtol 1e-4 (see parity-golden.ts for the small
 * absolute part), and so must the updates themselves (after - before), so
 * a step that did nothing or the wrong thing cannot pass on the parameters'
 * size alone.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { readSafetensors } from "../../src/io/safetensors.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { NonFiniteGuard } from "../../src/train/nonfinite-guard.js";
import { createOptimizer, segmentsFromSpecs, type OptimizerName } from "../../src/train/optim/index.js";
import { LrSchedule } from "../../src/train/schedule.js";
import type { QueryBatch } from "../../src/tokenize/batch.js";
import { trainStep } from "../../src/train/step.js";
import { fixture } from "../helpers.js";
import { assertClose, goldenQueryBatch, loadGolden } from "../models/parity-golden.js";
import { refBackend } from "../../src/kernels/ref/index.js";

const VERSION = 1;
const SCRIPT = "/usr/bin/python3 tests/reference/make_train_golden.py";

interface Setting {
  optim: OptimizerName;
  learning_rate: number;
  max_grad_norm: number;
  weight_decay: number;
  adam_beta1?: number;
  adam_beta2?: number;
  adam_epsilon?: number;
  micro_batches: number[][];
  steps: number;
  log: { loss: number; grad_norm: number; learning_rate: number }[];
}
interface Meta {
  version: number;
  total_steps: number;
  sgd: Setting;
  adamw: Setting;
}

const meta = JSON.parse(readFileSync(fixture("train", "gpt2-tiny-steps.json"), "utf8")) as Meta;
const after = readSafetensors(fixture("train", "gpt2-tiny-steps.safetensors"));

/** The rows of the golden batch whose query is in `queries`, as a micro-batch (the golden's padded length kept). */
function microBatch(queries: number[]): QueryBatch {
  const b = loadGolden("gpt2-tiny").batch;
  const keep = b.row_query.map((q) => (queries.includes(q) ? q : -1));
  const renumber = new Map([...new Set(keep.filter((q) => q >= 0))].map((q, i) => [q, i]));
  return goldenQueryBatch({ ...b, row_query: keep.map((q) => (q < 0 ? -1 : (renumber.get(q) ?? -1))) });
}

/**
 * AdamW divides by sqrt(v) + eps, so float32 rounding noise (~1e-9) on a
 * gradient that is mathematically zero (GPT-2's key bias: adding a constant
 * to every key score changes no softmax) becomes an update of about
 * lr * noise / eps. Entries may differ from the golden update by this share
 * of lr on top of rtol 1e-4; real updates are of the order of lr, 100x more.
 */
const ADAM_NOISE = 1e-2;

/** |actual - expected| <= 1e-4 |expected| + max(1e-4 max|expected|, floor), entry by entry. */
function assertUpdateClose(actual: Float32Array, expected: Float32Array, floor: number, what: string): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const atol = Math.max(1e-4 * scale, floor);
  actual.forEach((a, i) => {
    const e = expected[i];
    if (!(Math.abs(a - e) <= 1e-4 * Math.abs(e) + atol))
      assert.fail(`${what}: entry ${i} is ${a}, expected ${e} (tolerance 1e-4 rel + ${atol.toExponential(2)} abs)`);
  });
}

function runAndCompare(key: "sgd" | "adamw"): void {
  assert.equal(meta.version, VERSION, `gpt2-tiny-steps.json is version ${meta.version}; re-run ${SCRIPT}`);
  const s = meta[key];
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  const before = Float32Array.from(model.params.data);
  const ctx = {
    model,
    optimizer: createOptimizer(s.optim, segmentsFromSpecs(model.params.specs()), {
      weight_decay: s.weight_decay,
      adam_beta1: s.adam_beta1 ?? 0.9,
      adam_beta2: s.adam_beta2 ?? 0.999,
      adam_epsilon: s.adam_epsilon ?? 1e-8,
    }),
    schedule: new LrSchedule({ lr_scheduler_type: "linear", learning_rate: s.learning_rate, warmupSteps: 0, totalSteps: meta.total_steps }),
    guard: new NonFiniteGuard(1),
    lossOptions: {},
    maxGradNorm: s.max_grad_norm,
  };
  const micro = s.micro_batches.map(microBatch);
  for (let step = 0; step < s.steps; step++) {
    const out = trainStep(ctx, micro, step);
    assert.ok(out.applied, `${key} step ${step + 1} was skipped`);
    const want = s.log[step];
    assertClose(
      [out.metrics.loss, out.metrics.grad_norm, out.metrics.learning_rate],
      [want.loss, want.grad_norm, want.learning_rate],
      `${key} step ${step + 1} loss/grad_norm/lr`,
    );
  }
  assert.equal(ctx.optimizer.stepCount, s.steps);
  for (const name of model.params.names()) {
    const expected = after.get(`${key}.${name}`);
    assert.ok(expected, `golden lacks ${key}.${name}`);
    const got = model.params.view(name);
    assertClose(got, expected.data, `${key} ${name} after ${s.steps} step(s)`);
    const off = model.params.offset(name);
    const delta = Float32Array.from(got, (v, i) => v - before[off + i]);
    const wantDelta = Float32Array.from(expected.data, (v, i) => v - before[off + i]);
    assert.ok(
      wantDelta.some((v) => v !== 0),
      `${key} ${name}: the golden update is zero`,
    );
    assertUpdateClose(delta, wantDelta, key === "adamw" ? ADAM_NOISE * s.learning_rate : 0, `${key} ${name} update`);
  }
}

test("one SGD step of trainStep equals torch.optim.SGD (clip_grad_norm_, weight decay, linear schedule)", () => {
  runAndCompare("sgd");
});

test("two AdamW steps with gradient accumulation equal torch.optim.AdamW", () => {
  runAndCompare("adamw");
});
