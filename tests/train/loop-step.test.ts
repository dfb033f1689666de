/**
 * The NaN policy at the step level, on a real model: a non-finite loss or
 * gradient skips the update (parameters and optimizer untouched, the skip
 * counted), a finite step afterwards applies normally, and too many in a
 * row stop training with a UserError. Plus the data side: truncation that
 * empties responses is counted and reported, not trained on.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { NonFiniteGuard } from "../../src/train/nonfinite-guard.js";
import { createOptimizer, segmentsFromSpecs } from "../../src/train/optim/index.js";
import { collateExamples, dataWarnings, loadEncodedData } from "../../src/train/run-data.js";
import { LrSchedule } from "../../src/train/schedule.js";
import { trainStep, type StepContext } from "../../src/train/step.js";
import { fixture, tempDir } from "../helpers.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { poolFor } from "../../src/autodiff/context.js";
import type { Backend } from "../../src/kernels/backend.js";

const SETTINGS = { compat: "paper", model_max_length: 64, only_use_provide: false, only_use_sample: false } as const;

async function setup(
  maxConsecutive: number,
  backend: Backend = refBackend,
): Promise<{ ctx: StepContext; batch: ReturnType<typeof collateExamples> }> {
  const dir = fixture("models", "gpt2-tiny");
  const model = loadCausalLM(dir, { backend, trainable: true });
  const data = await loadEncodedData(fixture("train", "tiny-train.jsonl"), await loadTokenizer(dir), SETTINGS);
  const ctx: StepContext = {
    model,
    optimizer: createOptimizer("adamw", segmentsFromSpecs(model.params.specs()), {
      weight_decay: 0,
      adam_beta1: 0.9,
      adam_beta2: 0.999,
      adam_epsilon: 1e-8,
    }),
    schedule: new LrSchedule({ lr_scheduler_type: "constant", learning_rate: 1e-3, warmupSteps: 0, totalSteps: 10 }),
    guard: new NonFiniteGuard(maxConsecutive),
    lossOptions: {},
    maxGradNorm: 1,
  };
  return { ctx, batch: collateExamples(data, [0, 1], SETTINGS) };
}

test("a NaN weight makes the step non-finite: skipped, counted, nothing updated; the next finite step applies", async () => {
  const { ctx, batch } = await setup(3);
  const wpe = ctx.model.params.view("transformer.wpe.weight");
  const saved = wpe[0];
  wpe[0] = Number.NaN; // position 0 feeds every later position: every log-prob is NaN
  const before = Float32Array.from(ctx.model.params.data);
  const skipped = trainStep(ctx, [batch], 0);
  assert.equal(skipped.applied, false);
  if (!skipped.applied) assert.match(skipped.reason, /step 1: non-finite loss=NaN.*1 in a row, 1 in total/);
  assert.equal(ctx.optimizer.stepCount, 0);
  assert.ok(
    ctx.model.params.data.every((v, i) => Object.is(v, before[i])),
    "parameters changed on a skipped step",
  );
  assert.ok(
    ctx.model.grads?.data.every((v) => v === 0),
    "gradients of a skipped step were left in the arena",
  );
  wpe[0] = saved;
  const applied = trainStep(ctx, [batch], 1);
  assert.equal(applied.applied, true);
  assert.equal(ctx.optimizer.stepCount, 1);
  assert.equal(ctx.guard.total, 1);
  assert.equal(ctx.guard.consecutive, 0);
  assert.ok(
    ctx.model.params.data.some((v, i) => v !== before[i]),
    "a finite step left the parameters unchanged",
  );
});

test("forced non-finite steps in a row stop training with a UserError naming the count", async () => {
  const { ctx, batch } = await setup(2);
  assert.equal(trainStep(ctx, [batch], 0, true).applied, false);
  assert.throws(
    () => trainStep(ctx, [batch], 1, true),
    (err: unknown) => err instanceof UserError && /training stopped: 2 steps in a row/.test(err.message),
  );
  assert.equal(ctx.optimizer.stepCount, 0);
});

test("responses emptied by truncation are counted and reported; a data set left empty is refused with the counts", async () => {
  const tok = await loadTokenizer(fixture("tokenizers", "llama"));
  const file = join(tempDir(), "d.jsonl");
  writeFileSync(file, `${JSON.stringify({ query: "Hi", responses: ["a", "b"], scores: [1, 0] })}\n`);
  // Budget 1: the BOS alone fills it, so no response keeps a token.
  await assert.rejects(
    loadEncodedData(file, tok, { ...SETTINGS, model_max_length: 1 }),
    /emptied every response.*2 responses emptied and dropped/,
  );
  const kept = await loadEncodedData(file, tok, { ...SETTINGS, model_max_length: 3 });
  assert.equal(kept.droppedQueries, 0);
  assert.equal(kept.examples[0].responses.length, 2);
  assert.ok(dataWarnings(kept, 3).every((w) => !/left out/.test(w) && /0 responses emptied/.test(w)));
});

test("queries that lost every response are named in a warning with the counts", () => {
  const report = { records: 3, responses: 6, queriesCut: 1, responsesCut: 0, responsesEmptied: 2, overLength: 0, emptiedIn: ["d.jsonl:2"] };
  const warnings = dataWarnings(
    { file: "d.jsonl", examples: [], lines: [], records: 3, droppedQueries: 1, droppedAt: ["d.jsonl:2"], report, padTokenId: 0 },
    8,
  );
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /^d\.jsonl: truncation to 8 tokens: 1 of 3 queries cut, .*2 responses emptied and dropped/);
  assert.equal(warnings[1], "d.jsonl: 1 of 3 queries lost every response to truncation and are left out (d.jsonl:2)");
});

test("steps of one shape take every buffer from the pool after the first, releasing none", async () => {
  const { ctx, batch } = await setup(3);
  const pool = poolFor(ctx.model.backend);
  trainStep(ctx, [batch], 0);
  const afterFirst = pool.stats();
  for (let step = 1; step < 4; step++) assert.equal(trainStep(ctx, [batch], step).applied, true);
  assert.equal(pool.stats().backendAllocs, afterFirst.backendAllocs);
  assert.equal(pool.stats().free, afterFirst.free, "nothing given back to the backend either");
});

test("where the backend can discard, the gradient arena goes back after each update and training is unchanged", async () => {
  const discarded: Float32Array[] = [];
  const discarding: Backend = { ...refBackend, discard: (buf) => void discarded.push(buf.fill(0)) };
  const plain = await setup(3);
  const lean = await setup(3, discarding);
  const grads = lean.ctx.model.grads?.data ?? new Float32Array(0);
  for (let step = 0; step < 2; step++) {
    assert.equal(trainStep(plain.ctx, [plain.batch], step).applied, true);
    grads.fill(7); // whatever is written between steps must not reach the next one
    assert.equal(trainStep(lean.ctx, [lean.batch], step).applied, true);
    assert.ok(discarded.at(-1) === grads && grads.every((v) => v === 0), "the arena was discarded after the update");
  }
  assert.ok(
    plain.ctx.model.grads?.data.some((v) => v !== 0),
    "without discard the gradients stay after the step",
  );
  assert.deepEqual(lean.ctx.model.params.data, plain.ctx.model.params.data);
});
