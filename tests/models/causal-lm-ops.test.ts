/**
 * Finite-difference gradient checks for the two custom ops of the
 * shared-prefix layout (the layout parity tests cover them only end to end).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Graph } from "../../src/autodiff/index.js";
import { concatRows, prependPrefix } from "../../src/models/causal-lm-ops.js";
import { gradCheck, rand } from "../autodiff/gradcheck.js";

const B = 3,
  H = 2,
  P = 2,
  T = 3,
  D = 2;

test("prependPrefix: a shared [1, H, P, D] cache before each row, values and gradients", () => {
  const cache = { data: rand(H * P * D, 201), shape: [1, H, P, D] };
  const x = { data: rand(B * H * T * D, 202), shape: [B, H, T, D] };
  const g = new Graph({ grad: false });
  const out = prependPrefix(g, g.input(cache.data, cache.shape), g.input(x.data, x.shape));
  assert.deepEqual(out.shape, [B, H, P + T, D]);
  // Row 2, head 1: the cache's head 1 then x's row 2 head 1.
  const o = (2 * H + 1) * (P + T) * D;
  assert.deepEqual(Array.from(out.data.subarray(o, o + P * D)), Array.from(cache.data.subarray(P * D, 2 * P * D)));
  assert.deepEqual(
    Array.from(out.data.subarray(o + P * D, o + (P + T) * D)),
    Array.from(x.data.subarray((2 * H + 1) * T * D, (2 * H + 2) * T * D)),
  );
  g.release();
  gradCheck((gg, [c, xx]) => prependPrefix(gg, c, xx), [cache, x]);
});

test("prependPrefix: a per-row [B, H, P, D] cache, gradients", () => {
  const cache = { data: rand(B * H * P * D, 203), shape: [B, H, P, D] };
  const x = { data: rand(B * H * T * D, 204), shape: [B, H, T, D] };
  gradCheck((gg, [c, xx]) => prependPrefix(gg, c, xx), [cache, x]);
});

test("concatRows: stacks parts and hands each its rows' gradient (a part used twice accumulates)", () => {
  const a = { data: rand(2 * 3, 205), shape: [2, 3] };
  const b = { data: rand(1 * 3, 206), shape: [1, 3] };
  gradCheck((gg, [aa, bb]) => concatRows(gg, [aa, bb, aa]), [a, b]);
});
