import assert from "node:assert/strict";
import { test } from "node:test";
import { rankingMetrics, RrhfMetricsAccumulator } from "../../src/rrhf/metrics.js";
import { close, lossOf, makeBatch } from "./batch.js";

test("ranking accuracy and margin on a hand case with reward ties and policy ties", () => {
  // Query A, r = [3, 2, 1, 1], p = [−1, −0.5, −2, −3]:
  //   (0,1) r down, p up → wrong; (0,2), (0,3), (1,2), (1,3) → right; (2,3) reward tie.
  //   best = row 0 (p −1), worst = first row with r 1 = row 2 (p −2): margin 1.
  // Query B, r = [0, 0]: one tied pair, no margin.
  // Query C, r = [1, 2], p = [−1, −1]: equal p counts as wrong; margin p_best − p_worst = 0.
  const p = Float64Array.from([-1, -0.5, -2, -3, 1, 2, -1, -1]);
  const r = Float64Array.from([3, 2, 1, 1, 0, 0, 1, 2]);
  const m = rankingMetrics(p, r, Int32Array.from([0, 4, 6, 8]));
  assert.equal(m.queries, 3);
  assert.equal(m.pairs, 6);
  assert.equal(m.correctPairs, 4);
  assert.equal(m.tiedPairs, 2);
  close(m.accuracy ?? NaN, 4 / 6);
  assert.equal(m.marginQueries, 2);
  close(m.marginSum, 1);
  close(m.margin ?? NaN, 0.5);
});

test("no ordered pair: accuracy and margin are null, not NaN", () => {
  const m = rankingMetrics(Float64Array.from([1, 2, 3]), Float64Array.from([5, 5, 0.5]), Int32Array.from([0, 2, 3]));
  assert.equal(m.pairs, 0);
  assert.equal(m.tiedPairs, 1);
  assert.equal(m.accuracy, null);
  assert.equal(m.margin, null);
});

test("metrics from a loss result: the spec example's policy agrees on 5 of 15 pairs", () => {
  const p = [-1.834, -1.5368, -2.0713, -1.2388, -2.1106, -0.4438];
  const r = [-0.6064, -0.5854, -0.5791, -0.728, -2.1777, -2.543];
  const batch = makeBatch(
    p.map((v, i) => ({ query: 0, score: r[i], logps: [v] })),
    { precision: "f64" },
  );
  const out = lossOf(batch);
  const m = rankingMetrics(out.policyScores, batch.scores, out.queryRowStart);
  // 15 pairs, 10 are active in the loss (p in the wrong order) → 5 right.
  assert.equal(m.pairs, 15);
  assert.equal(m.correctPairs, 5);
  // best = row 2 (p −2.0713), worst = row 5 (p −0.4438): margin −1.6275.
  close(m.margin ?? NaN, -1.6275, 1e-12);
});

test("the accumulator pools pairs and margins, averages losses over steps, and resets", () => {
  const acc = new RrhfMetricsAccumulator();
  assert.equal(acc.summary(), null);
  const base = { queries: 1, tiedPairs: 0, accuracy: null, margin: null };
  acc.add({ loss: 2, rankLoss: 1, sftLoss: 1 }, { ...base, pairs: 6, correctPairs: 4, marginSum: 1, marginQueries: 2 });
  acc.add({ loss: 4, rankLoss: 3, sftLoss: 0 }, { ...base, pairs: 2, correctPairs: 2, marginSum: 3, marginQueries: 1 });
  assert.equal(acc.count, 2);
  assert.deepEqual(acc.summary(), {
    loss: 3,
    "loss/rank": 2,
    "loss/sft": 0.5,
    "ranking/accuracy": 0.75, // (4 + 2) / (6 + 2), not the mean of 4/6 and 2/2
    "ranking/margin": 4 / 3, // (1 + 3) / (2 + 1)
    "ranking/pairs": 8,
    steps: 2,
  });
  acc.reset();
  assert.equal(acc.count, 0);
  assert.equal(acc.summary(), null);
});

test("the accumulator over steps from real loss results", () => {
  const acc = new RrhfMetricsAccumulator();
  // Step 1: k = 2, p = [−2, −0.5], r = [1, 0]: wrong order; L_rank 1.5, L_sft 2, L 3.5; margin −2 − (−0.5) = −1.5.
  const b1 = makeBatch([
    { query: 0, score: 1, logps: [-1, -3] },
    { query: 0, score: 0, logps: [-0.5, -0.5, -0.5, -0.5] },
  ]);
  // Step 2: k = 3, p = [−1, −2, −3], r = [2, 1, 0]: all 3 pairs right; L_rank 0, L_sft 1, L 1; margin 2.
  const b2 = makeBatch([
    { query: 0, score: 2, logps: [-1] },
    { query: 0, score: 1, logps: [-2] },
    { query: 0, score: 0, logps: [-3] },
  ]);
  for (const b of [b1, b2]) {
    const out = lossOf(b);
    acc.add(out, rankingMetrics(out.policyScores, b.scores, out.queryRowStart));
  }
  const s = acc.summary();
  assert.ok(s !== null);
  close(s.loss, 2.25); // (3.5 + 1) / 2
  close(s["loss/rank"], 0.75);
  close(s["loss/sft"], 1.5);
  close(s["ranking/accuracy"] ?? NaN, 0.75); // (0 + 3) / (1 + 3)
  close(s["ranking/margin"] ?? NaN, 0.25); // (−1.5 + 2) / 2
  assert.equal(s["ranking/pairs"], 4);
});
