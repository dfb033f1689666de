import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { rrhfLoss, rrhfLossBackward } from "../../src/rrhf/loss.js";
import { NonFiniteLogpError } from "../../src/rrhf/scores.js";
import { makeBatch } from "./batch.js";

const good = () =>
  makeBatch([
    { query: 0, score: 1, logps: [-1, -2] },
    { query: 0, score: 0, logps: [-0.5] },
  ]);

test("NaN or ±Infinity at a scored position throws NonFiniteLogpError (a UserError) naming it", () => {
  for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]) {
    const batch = good();
    batch.tokenLogps[2] = bad; // row 0, position 2 (scored)
    assert.throws(
      () => rrhfLoss(batch),
      (e: unknown) =>
        e instanceof NonFiniteLogpError &&
        e instanceof UserError &&
        e.row === 0 &&
        e.position === 2 &&
        e.message.includes(`tokenLogps[row 0, position 2] is ${bad}`),
    );
  }
});

test("non-finite values at unscored positions are ignored in both modes", () => {
  const batch = good();
  assert.ok(Number.isNaN(batch.tokenLogps[0])); // makeBatch fills unscored positions with NaN
  batch.tokenLogps[5] = Number.NEGATIVE_INFINITY; // row 1, position 2: padding
  assert.ok(Number.isFinite(rrhfLoss(batch).loss));
  assert.ok(Number.isFinite(rrhfLoss(batch, { compat: "official" }).loss));
});

test("a non-finite reward is a user error naming the row", () => {
  const batch = good();
  batch.scores[1] = Number.NaN;
  assert.throws(() => rrhfLoss(batch), (e: unknown) => e instanceof UserError && /reward of row 1 \(query 0\) is NaN/.test(e.message));
});

test("an empty batch and bad options are user errors", () => {
  const empty = { tokenLogps: new Float32Array(0), labelMask: new Uint8Array(0), rowQuery: new Int32Array(0), scores: new Float64Array(0) };
  assert.throws(() => rrhfLoss(empty), (e: unknown) => e instanceof UserError && /no rows/.test(e.message));
  assert.throws(() => rrhfLoss(good(), { length_penalty: Number.NaN }), /RRHF loss: length_penalty must be a finite number, got NaN/);
  assert.throws(() => rrhfLoss(good(), { rrhf_weight: -1 }), /RRHF loss: rrhf_weight must be >= 0, got -1/);
  // "none" was the paper mode's old name; one vocabulary now.
  const bogus = JSON.parse('{"compat":"none"}') as { compat: "official" };
  assert.throws(() => rrhfLoss(good(), bogus), /RRHF loss: compat must be one of paper, official, got "none"/);
});

test("an extreme length penalty that overflows is reported, not returned as a loss", () => {
  // Row 1 has 2 scored tokens: 2^-2000 underflows to 0 (p = −Infinity) and 2^2000 overflows (p = −0).
  const batch = makeBatch([
    { query: 0, score: 1, logps: [-1] },
    { query: 0, score: 0, logps: [-1, -1] },
  ]);
  for (const lengthPenalty of [-2000, 2000]) {
    assert.throws(
      () => rrhfLoss(batch, { length_penalty: lengthPenalty }),
      (e: unknown) => e instanceof UserError && e.message.includes(`makes 2^${lengthPenalty} = `),
    );
  }
});

test("shape mismatches and split queries are programming errors (RangeError)", () => {
  const b = good();
  assert.throws(() => rrhfLoss({ ...b, scores: new Float64Array(3) }), RangeError);
  assert.throws(() => rrhfLoss({ ...b, labelMask: new Uint8Array(2) }), RangeError);
  assert.throws(() => rrhfLoss({ ...b, tokenLogps: new Float32Array(7), labelMask: new Uint8Array(7) }), RangeError);
  const split = makeBatch([
    { query: 0, score: 1, logps: [-1] },
    { query: 1, score: 1, logps: [-1] },
    { query: 0, score: 0, logps: [-1] },
  ]);
  assert.throws(() => rrhfLoss(split), /query 0 appears again at row 2/);
  const out = rrhfLoss(b);
  assert.throws(() => rrhfLossBackward(new Float32Array(5), b, out), RangeError);
});
