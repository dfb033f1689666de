import assert from "node:assert/strict";
import { test } from "node:test";
import { close, lossOf, lossWithGradOf, makeBatch, type RowSpec } from "./batch.js";

// The spec's worked example: one query, six responses.
const SPEC_P = [-1.834, -1.5368, -2.0713, -1.2388, -2.1106, -0.4438];
const SPEC_R = [-0.6064, -0.5854, -0.5791, -0.728, -2.1777, -2.543];

/** Row i gets i+1 tokens around p_i (offsets summing to 0), so the mean over its tokens is p_i. */
function rowsWithScores(p: number[], r: number[]): RowSpec[] {
  return p.map((pi, i) => {
    const n = i + 1;
    const logps = Array.from({ length: n }, (_, t) => pi + (t - (n - 1) / 2) * 0.125);
    return { query: 0, score: r[i], logps, prefix: 1 + (i % 3) };
  });
}

test("spec worked example: per-token logps that give p exactly yield L_rank = 9.07", () => {
  const batch = makeBatch(rowsWithScores(SPEC_P, SPEC_R), { precision: "f64" });
  const out = lossOf(batch);
  SPEC_P.forEach((p, i) => {
    close(out.policyScores[i], p, 1e-12, `p[${i}]`);
  });
  // By hand, the active pairs (worse i, better j) with p_i > p_j are
  // (0,2) .2373, (1,2) .5345, (3,0) .5952, (3,1) .2980, (3,2) .8325,
  // (5,0) 1.3902, (5,1) 1.0930, (5,2) 1.6275, (5,3) .7950, (5,4) 1.6668: sum 9.0700.
  close(out.rankLoss, 9.07, 1e-9, "L_rank");
  assert.equal(out.rankLoss.toFixed(2), "9.07");
  // Only pairs that involve row 0 (a misread of the official `[0]` index) would give .2373 or 1.9854.
});

test("spec worked example: 9.0703 comes from unrounded p that round to the spec's values", () => {
  // In the sum above p_2 has coefficient −4, p_3 +2, p_5 +5 (others −1, total 0), so
  // nudging p_2 by −0.00001, p_3 by +0.00003 and p_5 by +0.00004 (each within the
  // ±0.00005 rounding interval) adds 0.00004 + 0.00006 + 0.0002 = 0.0003: 9.0703.
  const unrounded = [-1.834, -1.5368, -2.07131, -1.23877, -2.1106, -0.44376];
  unrounded.forEach((p, i) => {
    assert.equal(p.toFixed(4), SPEC_P[i].toFixed(4));
  });
  const out = lossOf(makeBatch(rowsWithScores(unrounded, SPEC_R), { precision: "f64" }));
  close(out.rankLoss, 9.0703, 1e-9, "L_rank");
  assert.equal(out.rankLoss.toFixed(4), "9.0703");
});

test("spec worked example in float32 (as a model produces logps) still gives 9.07", () => {
  const out = lossOf(makeBatch(rowsWithScores(SPEC_P, SPEC_R)));
  close(out.rankLoss, 9.07, 1e-5, "L_rank");
  // SFT target = row 2 (largest reward −0.5791), mean logp −2.0713.
  assert.equal(out.bestRow[0], 2);
  close(out.sftLoss, 2.0713, 1e-6, "L_sft");
  close(out.loss, 9.07 + 2.0713, 1e-5, "L");
});

test("k = 2: rank, SFT, weight, and the gradient, all by hand", () => {
  const batch = makeBatch(
    [
      { query: 0, score: 1, logps: [-1, -3] }, // p0 = −4/2 = −2 (better)
      { query: 0, score: 0, logps: [-0.5, -0.5, -0.5, -0.5] }, // p1 = −2/4 = −0.5 (worse)
    ],
    { precision: "f64" },
  );
  const out = lossOf(batch);
  // Pair (1, 0): r1 < r0 and p1 − p0 = 1.5 > 0 → L_rank = 1.5; L_sft = −(−4/2) = 2; L = 3.5.
  close(out.rankLoss, 1.5);
  close(out.sftLoss, 2);
  close(out.loss, 3.5);
  // rrhfWeight 2: L = 2·1.5 + 2 = 5.
  const { result, dTokenLogps } = lossWithGradOf(batch, { rrhf_weight: 2 });
  close(result.loss, 5);
  // dL/dlogp (ragged: row 0's 2 tokens, then row 1's 4): row 0: w·(−1)/2 − 1/2 = −1.5; row 1: w·(+1)/4 = 0.5.
  assert.equal(result.tokens, 6);
  assert.deepEqual(Array.from(dTokenLogps), [-1.5, -1.5, 0.5, 0.5, 0.5, 0.5]);
});

test("ties: equal rewards contribute no pair, and the SFT target is the first best row", () => {
  const out = lossOf(
    makeBatch([
      { query: 0, score: 1, logps: [-3] }, // p0 = −3
      { query: 0, score: 1, logps: [-1] }, // p1 = −1, same reward as row 0
      { query: 0, score: 0, logps: [-2] }, // p2 = −2
    ]),
  );
  // (0,1) tie → nothing (counting it either way would add max(0, −1+3) = 2).
  // (2,0): −2 − (−3) = 1 → 1. (2,1): −2 − (−1) = −1 → 0. L_rank = 1.
  close(out.rankLoss, 1);
  // First best row is row 0: L_sft = 3 (row 1 would give 1).
  assert.equal(out.bestRow[0], 0);
  close(out.sftLoss, 3);
  close(out.loss, 4);
});

test("unequal k across queries: each query ranked on its own, batch = mean over queries", () => {
  const batch = makeBatch([
    // Query 7, k = 3, p = [−1, −2, −0.5]:
    // (1,0) −1 → 0; (2,0) 0.5; (2,1) 1.5 → L_rank 2; best row 0: L_sft 1; L 3.
    { query: 7, score: 3, logps: [-1] },
    { query: 7, score: 2, logps: [-2] },
    { query: 7, score: 1, logps: [-0.5] },
    // Query 2, k = 2, p = [−2, −3]: (a,b) −2 + 3 = 1 → L_rank 1; best b: L_sft 3; L 4.
    { query: 2, score: 0, logps: [-2, -2] },
    { query: 2, score: 5, logps: [-3, -3, -3] },
    // Query 9, k = 1: no pair, L_rank 0; L_sft = 0.5; L 0.5.
    { query: 9, score: 0.3, logps: [-0.25, -0.75] },
  ]);
  const out = lossOf(batch);
  assert.deepEqual(Array.from(out.queryRowStart), [0, 3, 5, 6]);
  assert.deepEqual(Array.from(out.queryRankLoss), [2, 1, 0]);
  assert.deepEqual(Array.from(out.querySftLoss), [1, 3, 0.5]);
  assert.deepEqual(Array.from(out.queryLoss), [3, 4, 0.5]);
  assert.deepEqual(Array.from(out.bestRow), [0, 4, 5]);
  close(out.loss, 2.5); // (3 + 4 + 0.5) / 3
  close(out.rankLoss, 1); // (2 + 1 + 0) / 3
  close(out.sftLoss, 1.5); // (1 + 3 + 0.5) / 3
  const weighted = lossOf(batch, { rrhf_weight: 2 });
  close(weighted.loss, 3.5); // 2·1 + 1.5
  // A pair across queries (row 3, r 0, p −2 vs row 2, r 1, p −0.5) must not count: mixing would change L_rank.
});

test("length penalty regimes < 1, = 1, > 1 change p and L_rank, never L_sft", () => {
  const batch = makeBatch([
    { query: 0, score: 1, logps: [-1] }, // sum −1, n 1: p0 = −1 for every λ (1^λ = 1)
    { query: 0, score: 0, logps: [-0.25, -0.25, -0.25, -0.25] }, // sum −1, n 4
  ]);
  // λ = 1: p1 = −1/4 = −0.25, L_rank = −0.25 + 1 = 0.75.
  // λ = 0.5: p1 = −1/√4 = −0.5, L_rank = 0.5.
  // λ = 2: p1 = −1/16 = −0.0625, L_rank = 0.9375.
  // L_sft = −(−1)/1 = 1 in all three (the SFT mean is over tokens, no penalty).
  const cases: Array<[number, number, number]> = [
    [0.5, -0.5, 0.5],
    [1, -0.25, 0.75],
    [2, -0.0625, 0.9375],
  ];
  for (const [lengthPenalty, p1, rank] of cases) {
    const out = lossOf(batch, { length_penalty: lengthPenalty });
    close(out.policyScores[0], -1, 1e-12, `p0 at λ=${lengthPenalty}`);
    close(out.policyScores[1], p1, 1e-12, `p1 at λ=${lengthPenalty}`);
    close(out.rankLoss, rank, 1e-12, `L_rank at λ=${lengthPenalty}`);
    close(out.sftLoss, 1, 1e-12, `L_sft at λ=${lengthPenalty}`);
    close(out.loss, rank + 1, 1e-12, `L at λ=${lengthPenalty}`);
  }
});

test("the worse row scoring exactly like the better one is at the hinge: no loss, zero rank gradient", () => {
  const { result, dTokenLogps } = lossWithGradOf(
    makeBatch([
      { query: 0, score: 1, logps: [-2] },
      { query: 0, score: 0, logps: [-1, -3] }, // p = −2 as well
    ]),
  );
  close(result.rankLoss, 0);
  // Only the SFT gradient remains: −1/1 on the best row's token, 0 on the other row's two.
  assert.deepEqual(Array.from(dTokenLogps), [-1, 0, 0]);
});

test("a query left with no row (all its responses dropped) takes no part: the mean is over queries with rows", () => {
  const b = makeBatch([
    { query: 0, score: 1, logps: [-1] },
    { query: 0, score: 0, logps: [-2] },
  ]);
  const withEmpty = { ...b, queryRowStart: Int32Array.of(0, 0, 2) }; // query 0 has no row, query 1 owns both
  const a = lossOf(b);
  const e = lossOf(withEmpty);
  close(e.loss, a.loss);
  assert.deepEqual(Array.from(e.bestRow), [-1, 0]);
  assert.deepEqual(Array.from(e.queryLoss), [0, a.queryLoss[0]]);
  const { dTokenLogps } = lossWithGradOf(withEmpty);
  assert.deepEqual(Array.from(dTokenLogps), Array.from(lossWithGradOf(b).dTokenLogps));
});
