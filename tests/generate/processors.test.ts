import assert from "node:assert/strict";
import { test } from "node:test";
import { minP, repetitionPenalty, softmax, topK, topP, warp } from "../../src/generate/processors.js";

test("repetition penalty divides positive scores and multiplies negative ones, once per distinct token", () => {
  const row = Float64Array.of(2, -1, 0.5, 4);
  repetitionPenalty(row, [0, 1, 1, 0], 2);
  assert.deepEqual([...row], [1, -2, 0.5, 4]);
  const same = Float64Array.of(2, -1);
  repetitionPenalty(same, [0, 1], 1);
  assert.deepEqual([...same], [2, -1]);
});

test("top_k keeps the k largest scores, and ties with the k-th", () => {
  const row = Float64Array.of(1, 5, 3, 3, 0);
  topK(row, 2);
  assert.deepEqual([...row], [-Infinity, 5, 3, 3, -Infinity]);
  const all = Float64Array.of(1, 2);
  topK(all, 0);
  assert.deepEqual([...all], [1, 2]);
});

test("top_p keeps the smallest nucleus reaching p, and always the most likely token", () => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  const row = Float64Array.from(probs, Math.log);
  topP(row, 0.75); // 0.5 + 0.3 reaches 0.75; 0.05 + 0.15 stays below 0.25
  assert.deepEqual(
    [...row].map((x) => x > -Infinity),
    [true, true, false, false],
  );
  const one = Float64Array.from(probs, Math.log);
  topP(one, 0.01);
  assert.deepEqual(
    [...one].map((x) => x > -Infinity),
    [true, false, false, false],
  );
});

test("min_p drops tokens below p times the top probability", () => {
  const row = Float64Array.from([0.6, 0.3, 0.06, 0.04], Math.log);
  minP(row, 0.09); // threshold 0.054
  assert.deepEqual(
    [...row].map((x) => x > -Infinity),
    [true, true, true, false],
  );
});

test("warpers run in HF's order: temperature before top_p changes the nucleus", () => {
  const row = Float64Array.from([0.5, 0.3, 0.2], Math.log);
  warp(row, { temperature: 0.5, top_k: 0, top_p: 0.6, min_p: null }); // sharpened: 0.66, 0.24, 0.1: only the top reaches 0.6
  assert.deepEqual(
    [...row].map((x) => x > -Infinity),
    [true, false, false],
  );
  assert.equal(softmax(row)[0], 1);
  const unsharpened = Float64Array.from([0.5, 0.3, 0.2], Math.log);
  warp(unsharpened, { temperature: 1, top_k: 0, top_p: 0.6, min_p: null }); // 0.5 alone does not reach 0.6
  assert.deepEqual(
    [...unsharpened].map((x) => x > -Infinity),
    [true, true, false],
  );
});
