import assert from "node:assert/strict";
import { test } from "node:test";
import { rankingMetrics } from "../../src/rrhf/metrics.js";
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
