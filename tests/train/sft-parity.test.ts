/**
 * Must-show: SFT parity with PyTorch. tests/reference/make_sft_golden.py
 * tokenises tests/fixtures/train/tiny-sft.jsonl on its own (gpt2-tiny's
 * character vocabulary) and runs two AdamW updates of gpt2-tiny under
 * Hugging Face's causal-LM loss (shifted cross-entropy, mean over the
 * batch's label tokens) with gradient accumulation over two micro-batches,
 * in float64. Our encoding of every record must give the same ids and
 * scored positions, and `trainStep` with `objective: "sft"` (the function
 * the loop calls) the same losses, gradient norms and parameters after both
 * steps (rtol 1e-4 plus the small absolute part of parity-golden.ts; the
 * updates too, as in loop-parity.test.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { readSafetensors } from "../../src/io/safetensors.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { NonFiniteGuard } from "../../src/train/nonfinite-guard.js";
import { createOptimizer, segmentsFromSpecs } from "../../src/train/optim/index.js";
import { collateExamples } from "../../src/train/run-data.js";
import { LrSchedule } from "../../src/train/schedule.js";
import { loadSftData } from "../../src/train/sft-data.js";
import { trainStep, type StepContext } from "../../src/train/step.js";
import { fixture } from "../helpers.js";
import { assertClose } from "../models/parity-golden.js";

const VERSION = 1;
const SCRIPT = "/usr/bin/python3 tests/reference/make_sft_golden.py";

interface Golden {
  version: number;
  total_steps: number;
  encoded: { input_ids: number[]; labels: number[] }[];
  setting: {
    learning_rate: number;
    max_grad_norm: number;
    weight_decay: number;
    adam_beta1: number;
    adam_beta2: number;
    adam_epsilon: number;
    steps: number[][][];
    log: { loss: number; grad_norm: number; learning_rate: number }[];
  };
}

const golden = JSON.parse(readFileSync(fixture("golden", "sft-gpt2-tiny.json"), "utf8")) as Golden;
const SETTINGS = { compat: "paper", model_max_length: 64, only_use_provide: false, only_use_sample: false } as const;

/**
 * AdamW divides by sqrt(v) + eps, so float32 noise on a gradient that is
 * mathematically zero (GPT-2's key bias) becomes an update of up to ~1e-2 lr
 * per step (see loop-parity.test.ts); real updates are ~lr, 100x more.
 */
const ADAM_NOISE = 1e-2;

/** |actual - expected| <= 1e-4 |expected| + max(1e-4 max|expected|, floor), entry by entry. */
function assertWithin(actual: Float32Array, expected: Float32Array, floor: number, what: string): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const atol = Math.max(1e-4 * scale, floor);
  actual.forEach((a, i) => {
    const e = expected[i];
    if (!(Math.abs(a - e) <= 1e-4 * Math.abs(e) + atol))
      assert.fail(`${what}: entry ${i} is ${a}, expected ${e} (tolerance 1e-4 rel + ${atol} abs)`);
  });
}

async function data() {
  const tok = await loadTokenizer(fixture("models", "gpt2-tiny"));
  return loadSftData(fixture("train", "tiny-sft.jsonl"), tok, SETTINGS);
}

test("SFT records encode to the ids and scored positions of the independent PyTorch tokenisation", async () => {
  assert.equal(golden.version, VERSION, `sft-gpt2-tiny.json is version ${golden.version}; re-run ${SCRIPT}`);
  const d = await data();
  assert.equal(d.examples.length, golden.encoded.length);
  d.examples.forEach((ex, i) => {
    const want = golden.encoded[i];
    const [response] = ex.responses;
    assert.deepEqual([...ex.query_ids, ...response.response_ids], want.input_ids, `record ${i + 1}: ids`);
    const scored = want.labels.filter((l) => l !== -100);
    assert.deepEqual(response.response_ids, scored, `record ${i + 1}: the scored tokens`);
  });
});

test("two SFT AdamW steps of trainStep (gradient accumulation 2) equal PyTorch with HF's causal-LM loss", async () => {
  const s = golden.setting;
  const d = await data();
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: refBackend, trainable: true });
  const before = Float32Array.from(model.params.data);
  const ctx: StepContext = {
    model,
    optimizer: createOptimizer("adamw", segmentsFromSpecs(model.params.specs()), {
      weight_decay: s.weight_decay,
      adam_beta1: s.adam_beta1,
      adam_beta2: s.adam_beta2,
      adam_epsilon: s.adam_epsilon,
    }),
    schedule: new LrSchedule({
      lr_scheduler_type: "linear",
      learning_rate: s.learning_rate,
      warmupSteps: 0,
      totalSteps: golden.total_steps,
    }),
    guard: new NonFiniteGuard(1),
    lossOptions: {},
    maxGradNorm: s.max_grad_norm,
    objective: "sft",
  };
  s.steps.forEach((microBatches, step) => {
    const micro = microBatches.map((idx) => collateExamples(d, idx, SETTINGS));
    const out = trainStep(ctx, micro, step);
    assert.ok(out.applied, `step ${step + 1} was skipped`);
    const want = s.log[step];
    assertClose(
      [out.metrics.loss, out.metrics.grad_norm, out.metrics.learning_rate],
      [want.loss, want.grad_norm, want.learning_rate],
      `step ${step + 1} loss/grad_norm/lr`,
    );
    assert.equal(out.metrics.ranking_accuracy, null, "SFT has no ranking");
  });
  const after = readSafetensors(fixture("golden", "sft-gpt2-tiny.safetensors"));
  for (const name of model.params.names()) {
    const expected = after.get(name);
    assert.ok(expected, `golden lacks ${name}`);
    const got = model.params.view(name);
    assertWithin(got, expected.data, ADAM_NOISE * s.learning_rate * s.steps.length, `${name} after ${s.steps.length} steps`);
    const off = model.params.offset(name);
    const delta = Float32Array.from(got, (v, i) => v - before[off + i]);
    const wantDelta = Float32Array.from(expected.data, (v, i) => v - before[off + i]);
    assertWithin(delta, wantDelta, ADAM_NOISE * s.learning_rate * s.steps.length, `${name} update`);
    assert.ok(
      wantDelta.some((v) => v !== 0),
      `${name}: the golden update is zero`,
    );
  }
});
