import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { rrhfLossBackward } from "../../src/rrhf/loss.js";
import { NonFiniteLogpError } from "../../src/rrhf/scores.js";
import { lossOf, makeBatch } from "./batch.js";

const good = () =>
  makeBatch([
    { query: 0, score: 1, logps: [-1, -2] },
    { query: 0, score: 0, logps: [-0.5] },
  ]);

test("NaN or ±Infinity at a scored position throws NonFiniteLogpError (a UserError) naming it", () => {
  for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]) {
    const batch = good();
    batch.tokenLogps[1] = bad; // row 0, its token 1
    assert.throws(
      () => lossOf(batch),
      (e: unknown) =>
        e instanceof NonFiniteLogpError &&
        e instanceof UserError &&
        e.row === 0 &&
        e.position === 1 &&
        e.message.includes(`the log-prob of token 1 of row 0 is ${bad}`),
    );
  }
});

test("the loss reads only the ragged entries its offsets name: padding never reaches it", () => {
  // The padded length is a number (official mode's |y|), not positions holding values.
  const batch = good();
  assert.equal(batch.tokenLogps.length, 3);
  assert.ok(Number.isFinite(lossOf(batch).loss));
  assert.ok(Number.isFinite(lossOf({ ...batch, paddedLength: 40 }, { compat: "official" }).loss));
});

test("a non-finite reward is a user error naming the row", () => {
  const batch = good();
  batch.scores[1] = Number.NaN;
  assert.throws(
    () => lossOf(batch),
    (e: unknown) => e instanceof UserError && /reward of row 1 \(query 0\) is NaN/.test(e.message),
  );
});

test("an empty batch and bad options are user errors", () => {
  const empty = {
    tokenLogps: new Float32Array(0),
    queryRowStart: Int32Array.of(0),
    responseTokenStart: Int32Array.of(0),
    scores: new Float64Array(0),
    paddedLength: 0,
  };
  assert.throws(
    () => lossOf(empty),
    (e: unknown) => e instanceof UserError && /no rows/.test(e.message),
  );
  assert.throws(() => lossOf(good(), { length_penalty: Number.NaN }), /RRHF loss: length_penalty must be a finite number, got NaN/);
  assert.throws(() => lossOf(good(), { rrhf_weight: -1 }), /RRHF loss: rrhf_weight must be >= 0, got -1/);
  // "none" was the paper mode's old name; one vocabulary now.
  const bogus = JSON.parse('{"compat":"none"}') as { compat: "official" };
  assert.throws(() => lossOf(good(), bogus), /RRHF loss: compat must be one of paper, official, got "none"/);
});

test("an extreme length penalty that overflows is reported, not returned as a loss", () => {
  // Row 1 has 2 scored tokens: 2^-2000 underflows to 0 (p = −Infinity) and 2^2000 overflows (p = −0).
  const batch = makeBatch([
    { query: 0, score: 1, logps: [-1] },
    { query: 0, score: 0, logps: [-1, -1] },
  ]);
  for (const lengthPenalty of [-2000, 2000]) {
    assert.throws(
      () => lossOf(batch, { length_penalty: lengthPenalty }),
      (e: unknown) => e instanceof UserError && e.message.includes(`makes 2^${lengthPenalty} = `),
    );
  }
});

test("offsets that disagree with the arrays are programming errors (RangeError)", () => {
  const b = good();
  assert.throws(() => lossOf({ ...b, scores: new Float64Array(3) }), RangeError);
  assert.throws(() => lossOf({ ...b, tokenLogps: new Float32Array(7) }), RangeError);
  assert.throws(
    () => lossOf({ ...b, responseTokenStart: Int32Array.from([0, 2, 1]), tokenLogps: new Float32Array(1) }),
    /decreases at row 1/,
  );
  assert.throws(() => lossOf({ ...b, queryRowStart: Int32Array.from([0, 1]) }), /queryRowStart must run from 0 to 2/);
  const out = lossOf(b);
  assert.throws(() => rrhfLossBackward(new Float32Array(5), b, out), RangeError);
});
