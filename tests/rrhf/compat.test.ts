import assert from "node:assert/strict";
import { test } from "node:test";

import { OFFICIAL_CODE_RRHF_WEIGHT, OFFICIAL_SCRIPT_RRHF_WEIGHT } from "../../src/rrhf/settings.js";
import { close, lossOf, makeBatch, type TestBatch } from "./batch.js";

// T = 6 for both rows: row 0 has 2 query positions + 2 scored, row 1 has 2 query + 4 scored.
const rows = [
  { query: 0, score: 1, logps: [-3, -3], prefix: 2 }, // sum −6, n 2 (better)
  { query: 0, score: 0, logps: [-1, -1, -1, -1], prefix: 2 }, // sum −4, n 4 (worse)
];

test("default mode normalises by scored tokens and averages SFT over them", () => {
  const out = lossOf(makeBatch(rows));
  // p0 = −6/2 = −3, p1 = −4/4 = −1; pair (1,0): −1 + 3 = 2. L_sft = 6/2 = 3. L = 5.
  assert.deepEqual(Array.from(out.policyScores), [-3, -1]);
  close(out.rankLoss, 2);
  close(out.sftLoss, 3);
  close(out.loss, 5);
});

test("compat: |y_i| is the padded length T for every row", () => {
  const out = lossOf(makeBatch(rows), { compat: "official" });
  // p0 = −6/6 = −1, p1 = −4/6 = −2/3; pair (1,0): −2/3 + 1 = 1/3.
  close(out.policyScores[0], -1);
  close(out.policyScores[1], -2 / 3);
  close(out.rankLoss, 1 / 3);
});

test("compat: SFT is the mean over the whole padded row of the best response", () => {
  const out = lossOf(makeBatch(rows), { compat: "official" });
  // Row 0 over T = 6 positions: (0 + 0 − 3 − 3 + 0 + 0)/6 = −1 → L_sft = 1 (default mode: 3). L = 1/3 + 1.
  close(out.sftLoss, 1);
  close(out.loss, 4 / 3);
  // A longer padding (T = 12) halves both in compat mode: p0 = −0.5, p1 = −1/3, L_rank = 1/6, L_sft = 0.5.
  const padded = lossOf(makeBatch(rows, { T: 12 }), { compat: "official" });
  close(padded.rankLoss, 1 / 6);
  close(padded.sftLoss, 0.5);
  // ... while the default mode ignores padding entirely.
  close(lossOf(makeBatch(rows, { T: 12 })).loss, 5);
});

test("compat with lengthPenalty 2: T^2 divides p, SFT still divides by T", () => {
  const out = lossOf(makeBatch(rows), { compat: "official", length_penalty: 2 });
  // p0 = −6/36 = −1/6, p1 = −4/36 = −1/9; L_rank = −1/9 + 1/6 = 1/18; L_sft = 6/6 = 1.
  close(out.rankLoss, 1 / 18);
  close(out.sftLoss, 1);
  close(out.loss, 1 + 1 / 18);
});

test("compat keeps the official quiet behaviour for a row with no scored token: p = 0", () => {
  const batch = makeBatch([
    { query: 0, score: 1, logps: [-2, -2] }, // T = 3: p0 = −4/3
    { query: 0, score: 0, logps: [] }, // truncated away: p1 = 0
  ]);
  const out = lossOf(batch, { compat: "official" });
  close(out.policyScores[1], 0);
  close(out.rankLoss, 4 / 3); // 0 − (−4/3)
  assert.throws(() => lossOf(batch), /row 1 \(query 0\) has no scored tokens/);
});

test("the official rrhf_weight default is exposed, not applied: compat mode keeps weight 1", () => {
  assert.equal(OFFICIAL_CODE_RRHF_WEIGHT, 100);
  assert.equal(OFFICIAL_SCRIPT_RRHF_WEIGHT, 1);
  const out = lossOf(makeBatch(rows), { compat: "official" });
  assert.equal(out.options.rrhf_weight, 1);
  const heavy = lossOf(makeBatch(rows), { compat: "official", rrhf_weight: OFFICIAL_CODE_RRHF_WEIGHT });
  close(heavy.loss, 100 / 3 + 1);
});

/**
 * The official train.py's loss for one query, re-expressed with plain loops
 * that follow its tensor steps (so compat mode is checked against a second,
 * differently shaped implementation): labels of −100 become 0 before the
 * mask is recomputed, so length = T; logit_label = logp·mask; scores =
 * Σ/T^λ; diff[i][j] = s_j − s_i, rw_diff[i][j] = r_j − r_i; rank =
 * −Σ diff where (rw_diff > 0 and diff < 0); sft = −mean over T of the
 * argmax-reward row (torch.argmax returns the first maximum).
 */
function officialLoss(batch: TestBatch, lengthPenalty: number, rrhfWeight: number): number {
  const k = batch.scores.length;
  const T = batch.paddedLength;
  // Row i over its T padded positions: its response tokens' log-probs, zeros elsewhere (where they sit does not change a sum).
  const logitLabel = Array.from({ length: k }, (_, i) => {
    const row = new Array<number>(T).fill(0);
    for (let k2 = batch.responseTokenStart[i]; k2 < batch.responseTokenStart[i + 1]; k2++)
      row[k2 - batch.responseTokenStart[i]] = batch.tokenLogps[k2];
    return row;
  });
  const s = logitLabel.map((row) => row.reduce((a, b) => a + b, 0) / Math.pow(T, lengthPenalty));
  let rank = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const diff = s[j] - s[i];
      if (batch.scores[j] - batch.scores[i] > 0 && diff < 0) rank -= diff;
    }
  }
  let best = 0;
  for (let i = 1; i < k; i++) if (batch.scores[i] > batch.scores[best]) best = i;
  const sft = -logitLabel[best].reduce((a, b) => a + b, 0) / T;
  return rrhfWeight * rank + sft;
}

test("compat mode equals the official loss on random one-query batches", () => {
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let trial = 0; trial < 50; trial++) {
    const k = 2 + Math.floor(rand() * 5);
    const rowsSpec = Array.from({ length: k }, () => ({
      query: 0,
      score: Math.floor(rand() * 4) / 2, // few values, so reward ties occur
      logps: Array.from({ length: 1 + Math.floor(rand() * 6) }, () => -4 * rand()),
      prefix: 1 + Math.floor(rand() * 4),
    }));
    const batch = makeBatch(rowsSpec, { precision: "f64" });
    const lengthPenalty = [0.5, 1, 1.5][trial % 3];
    const rrhfWeight = [1, 100, 0.25][trial % 3];
    const out = lossOf(batch, { compat: "official", length_penalty: lengthPenalty, rrhf_weight: rrhfWeight });
    close(out.loss, officialLoss(batch, lengthPenalty, rrhfWeight), 1e-9, `trial ${trial}`);
  }
});
