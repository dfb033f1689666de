import assert from "node:assert/strict";
import { test } from "node:test";
import { add, Graph, mean, mul, reshape, scale, sub, sum } from "../../src/autodiff/index.js";
import { assertClose, gradCheck, rand } from "./gradcheck.js";

test("add broadcasts a bias over rows and a column over columns", () => {
  const g = new Graph({ grad: false });
  const x = g.constant([1, 2, 3, 4, 5, 6], [2, 3]);
  const bias = g.constant([10, 20, 30], [3]);
  const col = g.constant([100, 200], [2, 1]);
  assert.deepEqual([...add(g, x, bias).data], [11, 22, 33, 14, 25, 36]);
  assert.deepEqual([...add(g, x, col).data], [101, 102, 103, 204, 205, 206]);
  const outer = mul(g, col, bias); // [2, 1] * [3] -> [2, 3]
  assert.deepEqual(outer.shape, [2, 3]);
  assert.deepEqual([...outer.data], [1000, 2000, 3000, 2000, 4000, 6000]);
  g.release();
});

test("add rejects shapes that do not broadcast", () => {
  const g = new Graph();
  assert.throws(() => add(g, g.zeros([2, 3]), g.zeros([2])), /cannot broadcast \[2, 3\] with \[2\]/);
  g.release();
});

test("add/sub/mul gradients un-broadcast (odd shapes)", () => {
  const a = { data: rand(2 * 3 * 5, 1), shape: [2, 3, 5] };
  const b = { data: rand(5, 2), shape: [5] };
  const c = { data: rand(3, 3), shape: [1, 3, 1] };
  gradCheck((g, [x, y]) => add(g, x, y), [a, b]);
  gradCheck((g, [x, y]) => sub(g, x, y), [a, c]);
  gradCheck((g, [x, y]) => mul(g, x, y), [a, b]);
  gradCheck((g, [x, y]) => mul(g, x, y), [c, a]);
  // The same tensor on both sides: gradients from both uses add up.
  gradCheck((g, [x]) => mul(g, x, x), [{ data: rand(7, 4), shape: [7] }]);
});

test("scale, sum, mean and reshape gradients", () => {
  const a = { data: rand(12, 5), shape: [3, 4] };
  gradCheck((g, [x]) => scale(g, x, -2.5), [a]);
  gradCheck((g, [x]) => sum(g, mul(g, x, x)), [a]);
  gradCheck((g, [x]) => mean(g, x), [a]);
  gradCheck((g, [x]) => mul(g, reshape(g, x, [2, -1]), reshape(g, x, [2, 6])), [a]);
  const g = new Graph({ grad: false });
  const x = g.constant([1, 2, 3, 4], [2, 2]);
  assert.equal(sum(g, x).item(), 10);
  assert.equal(mean(g, x).item(), 2.5);
  assert.deepEqual(sum(g, x).shape, []);
  assert.throws(() => reshape(g, x, [3, -1]), /cannot view/);
  assertClose(reshape(g, x, [4]).data, [1, 2, 3, 4]);
  g.release();
});
