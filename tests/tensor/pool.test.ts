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
  assert.deepEqual(pool.stats(), { backendAllocs: 1, backendFloats: 1024, inUse: 1, free: 0, discarded: 0 });
  const c = pool.acquire(1000); // b still in use: a fresh buffer
  assert.notEqual(c.buffer, b.buffer);
  assert.equal(pool.stats().backendAllocs, 2);
  pool.release(b);
  assert.throws(() => pool.release(b), /released twice/);
  assert.throws(() => pool.release(new Float32Array(4)), /not from this pool/);
});

test("a request with no free buffer of its class takes the smallest larger one up to twice its size", () => {
  const pool = new BufferPool(refBackend);
  const [big, bigger, huge] = [pool.acquire(1700), pool.acquire(2000), pool.acquire(5000)]; // classes 1792, 2048, 5120
  for (const buf of [huge, bigger, big]) pool.release(buf);
  const a = pool.acquire(1000); // class 1024: 1792 is the smallest free class within 2048
  assert.equal(a.buffer, big.buffer);
  assert.equal(a.length, 1000);
  const b = pool.acquire(1000); // then 2048
  assert.equal(b.buffer, bigger.buffer);
  const c = pool.acquire(1000); // 5120 is more than twice 1024: a new buffer
  assert.notEqual(c.buffer, huge.buffer);
  assert.deepEqual(pool.stats(), { backendAllocs: 4, backendFloats: 1792 + 2048 + 5120 + 1024, inUse: 3, free: 1, discarded: 0 });
  // Batches of varying length: every length reuses what longer ones left, so the pool stops growing.
  const steps = new BufferPool(refBackend);
  const step = (T: number) => {
    const bufs = [T * 8, T * 8, T * 32, T].map((n) => steps.acquire(n));
    for (const buf of bufs) steps.release(buf);
  };
  for (const T of [300, 200, 250, 180, 299, 160, 260]) step(T);
  assert.equal(steps.stats().backendAllocs, 4, "the longest batch's buffers serve every batch at least half as long");
});

test("a batch longer than every earlier one gives back the smaller idle buffers it outgrew, never within a step", () => {
  const released: Float32Array[] = [];
  const backend = { ...refBackend, release: (buf: Float32Array) => void released.push(buf) };
  const pool = new BufferPool(backend);
  const step = (T: number) => {
    pool.beginStep();
    const bufs = [T * 8, T * 8, T].map((n) => pool.acquire(n));
    for (const buf of bufs) pool.release(buf);
    return bufs;
  };
  const short = step(100); // classes 896, 896, 112
  assert.equal(released.length, 0, "the first step allocates and gives back nothing");
  step(90); // fits in the same buffers
  assert.equal(pool.stats().backendAllocs, 3);
  const long = step(300); // 2560 x 2, 320: more than twice the old classes, so new buffers
  assert.equal(pool.stats().backendAllocs, 6);
  // Each new buffer gave back at most its own size in idle smaller ones: the old 896s and the 112.
  assert.deepEqual(new Set(released.map((b) => b.buffer)), new Set(short.map((b) => b.buffer)));
  assert.equal(pool.stats().free, 3);
  step(200); // the long set serves every length at least half as long: nothing new
  assert.equal(pool.stats().backendAllocs, 6);
  assert.ok(long.every((b) => !released.some((r) => r.buffer === b.buffer)));

  // Within one step, a buffer handed back earlier in the step is never given away (the step may need it again).
  const again = new BufferPool(backend);
  released.length = 0;
  again.beginStep();
  const first = again.acquire(1000);
  again.release(first);
  again.acquire(5000);
  assert.equal(released.length, 0);
});

test("release(buf, true) discards large buffers where the backend can, and hands them out after resident ones", () => {
  const discarded: Float32Array[] = [];
  const backend = { ...refBackend, discard: (buf: Float32Array) => void discarded.push(buf.fill(0)) };
  const pool = new BufferPool(backend, { discardMinFloats: 1024 });
  const [small, big, resident] = [512, 1024, 1024].map((n) => pool.acquire(n));
  pool.release(small, true); // below the minimum: kept as it is
  pool.release(big, true);
  pool.release(resident);
  assert.deepEqual(discarded, [big]);
  assert.deepEqual(pool.stats(), { backendAllocs: 3, backendFloats: 512 + 2048, inUse: 0, free: 3, discarded: 1 });
  assert.equal(pool.acquire(1000).buffer, resident.buffer, "a resident buffer first");
  assert.equal(pool.acquire(1000).buffer, big.buffer, "then the discarded one, no longer counted as discarded");
  assert.equal(pool.stats().discarded, 0);
  assert.equal(pool.acquire(500).buffer, small.buffer);

  // Without Backend.discard (WASM, the reference backend), release(buf, true) is a plain release.
  const plain = new BufferPool(refBackend, { discardMinFloats: 16 });
  const buf = plain.acquire(100).fill(3);
  plain.release(buf, true);
  assert.equal(plain.stats().discarded, 0);
  assert.equal(plain.acquire(100)[0], 3);
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
