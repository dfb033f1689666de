import assert from "node:assert/strict";
import { test } from "node:test";

import { rrhfLossBackward } from "../../src/rrhf/loss.js";
import type { RrhfLossOptions } from "../../src/rrhf/options.js";
import { lossOf, lossWithGradOf, makeBatch, type RowSpec, type TestBatch } from "./batch.js";

/** Small deterministic PRNG (LCG) so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random multi-query batch (k from 1 to 5, reward ties likely), float64. */
function randomBatch(rand: () => number): TestBatch {
  const queries = 1 + Math.floor(rand() * 3);
  const rows: RowSpec[] = [];
  for (let q = 0; q < queries; q++) {
    const k = 1 + Math.floor(rand() * 5);
    for (let i = 0; i < k; i++) {
      rows.push({
        query: q,
        score: [0, 0.5, 1, 1, 2][Math.floor(rand() * 5)],
        logps: Array.from({ length: 1 + Math.floor(rand() * 6) }, () => -5 * rand()),
        prefix: 1 + Math.floor(rand() * 3),
      });
    }
  }
  return makeBatch(rows, { precision: "f64" });
}

/** Smallest |p_i − p_j| over reward-ordered pairs: the distance to the nearest hinge kink. */
function kinkDistance(batch: TestBatch, p: Float64Array, queryStart: Int32Array): number {
  let min = Infinity;
  for (let q = 0; q + 1 < queryStart.length; q++) {
    for (let i = queryStart[q]; i < queryStart[q + 1]; i++) {
      for (let j = queryStart[q]; j < queryStart[q + 1]; j++) {
        if (batch.scores[i] < batch.scores[j]) min = Math.min(min, Math.abs(p[i] - p[j]));
      }
    }
  }
  return min;
}

const OPTION_SETS: RrhfLossOptions[] = [
  {},
  { length_penalty: 0.6, rrhf_weight: 2.5 },
  { length_penalty: 1.7, rrhf_weight: 0 },
  { compat: "official" },
  { compat: "official", length_penalty: 1.3, rrhf_weight: 100 },
];

test("backward equals central finite differences (float64, random batches away from kinks)", () => {
  const rand = prng(2024);
  const h = 1e-6;
  let checked = 0;
  for (let trial = 0; trial < 60; trial++) {
    const batch = randomBatch(rand);
    const opts = OPTION_SETS[trial % OPTION_SETS.length];
    const out = lossOf(batch, opts);
    // Each probe moves a p by at most h, so inputs this far from a kink stay on one linear piece.
    if (kinkDistance(batch, out.policyScores, out.queryRowStart) < 1e-3) continue;
    const dLoss = 0.75;
    const grad = new Float64Array(batch.tokenLogps.length);
    rrhfLossBackward(grad, batch, out, dLoss);
    const x = batch.tokenLogps;
    for (let idx = 0; idx < x.length; idx++) {
      const orig = x[idx];
      x[idx] = orig + h;
      const up = lossOf(batch, opts).loss;
      x[idx] = orig - h;
      const down = lossOf(batch, opts).loss;
      x[idx] = orig;
      const numeric = (dLoss * (up - down)) / (2 * h);
      const tol = 1e-7 * (1 + Math.abs(numeric));
      assert.ok(
        Math.abs(grad[idx] - numeric) <= tol,
        `trial ${trial} ${JSON.stringify(opts)} position ${idx}: analytic ${grad[idx]} vs numeric ${numeric}`,
      );
      checked++;
    }
  }
  // The kink filter must leave real work to check.
  assert.ok(checked > 500, `only ${checked} positions were checked`);
});

test("the float32 gradient of rrhfLossWithGrad matches the float64 backward", () => {
  const rand = prng(7);
  for (let trial = 0; trial < 10; trial++) {
    const batch = randomBatch(rand);
    const ref = new Float64Array(batch.tokenLogps.length);
    rrhfLossBackward(ref, batch, lossOf(batch));
    const { dTokenLogps } = lossWithGradOf(batch);
    assert.ok(dTokenLogps instanceof Float32Array);
    for (let i = 0; i < ref.length; i++) {
      assert.ok(Math.abs(dTokenLogps[i] - ref[i]) <= 1e-6 * (1 + Math.abs(ref[i])), `position ${i}`);
    }
  }
});

test("backward overwrites stale values in a reused buffer", () => {
  const batch = makeBatch([
    { query: 0, score: 1, logps: [-1] },
    { query: 0, score: 0, logps: [-0.5] },
  ]);
  const buf = new Float32Array(batch.tokenLogps.length).fill(42);
  rrhfLossBackward(buf, batch, lossOf(batch));
  // p1 − p0 = 0.5 > 0: row 1 gets +1, row 0 gets −1 (rank) − 1 (SFT).
  assert.deepEqual(Array.from(buf), [-2, 1]);
});
