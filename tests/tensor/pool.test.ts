import assert from "node:assert/strict";
import { test } from "node:test";
import { refBackend } from "../../src/kernels/ref/index.js";
import { BufferPool, sizeClass } from "../../src/tensor/pool.js";
import { broadcastShapes, broadcastStrides, numel, rowsCols } from "../../src/tensor/shape.js";
import { parameter, Tensor } from "../../src/tensor/tensor.js";

test("size classes waste at most 25% and are monotonic", () => {
  assert.equal(sizeClass(1), 16);
  assert.equal(sizeClass(1024), 1024);
  assert.equal(sizeClass(1025), 1280);
  assert.equal(sizeClass(1280), 1280);
  assert.equal(sizeClass(1281), 1536);
  let prev = 0;
  for (let n = 1; n < 5000; n += 7) {
    const c = sizeClass(n);
    assert.ok(c >= n && c >= prev && (n <= 16 || c <= n * 1.25 + 1), `class of ${n} is ${c}`);
    prev = c;
  }
});

test("pool reuses released buffers of the same class and counts allocations", () => {
  const pool = new BufferPool(refBackend);
  const a = pool.acquire(1000);
  assert.equal(a.length, 1000);
  a.fill(7);
  pool.release(a);
  const b = pool.acquireZeroed(1010); // same class (1024): same memory, zeroed
  assert.equal(b.length, 1010);
  assert.equal(b.buffer, a.buffer);
  assert.ok(b.every((v) => v === 0));
  assert.deepEqual(pool.stats(), { backendAllocs: 1, backendFloats: 1024, inUse: 1, free: 0 });
  const c = pool.acquire(1000); // b still in use: a fresh buffer
  assert.notEqual(c.buffer, b.buffer);
  assert.equal(pool.stats().backendAllocs, 2);
  pool.release(b);
  assert.throws(() => pool.release(b), /released twice/);
  assert.throws(() => pool.release(new Float32Array(4)), /not from this pool/);
});

test("shapes: numel, broadcasting, strides, rows/cols", () => {
  assert.equal(numel([]), 1);
  assert.equal(numel([2, 0, 3]), 0);
  assert.deepEqual(broadcastShapes([2, 1, 4], [3, 1]), [2, 3, 4]);
  assert.throws(() => broadcastShapes([2, 3], [4]), /cannot broadcast/);
  assert.deepEqual(broadcastStrides([3, 1], [2, 3, 4]), [0, 1, 0]);
  assert.deepEqual(broadcastStrides([2, 3, 4], [2, 3, 4]), [12, 4, 1]);
  assert.deepEqual(rowsCols([2, 3, 5]), { N: 6, C: 5 });
});

test("tensors check their sizes; parameters wrap arena views", () => {
  assert.throws(() => new Tensor({ shape: [2, 3], data: new Float32Array(5), requiresGrad: false, kind: "input" }), /needs 6/);
  const arena = new Float32Array(10);
  const grads = new Float32Array(10);
  const w = parameter(arena.subarray(2, 8), [2, 3], grads.subarray(2, 8), "w");
  assert.equal(w.kind, "parameter");
  assert.ok(w.requiresGrad);
  w.data[0] = 5;
  assert.equal(arena[2], 5, "a view, not a copy");
  assert.throws(() => parameter(arena, [3, 3]), /has 10 values/);
  assert.equal(w.dim(-1), 3);
  assert.throws(() => w.dim(2), /out of range/);
});
