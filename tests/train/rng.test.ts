import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { DataOrder } from "../../src/train/data-order.js";
import { Rng } from "../../src/train/rng.js";

test("the same seed gives the same sequence; another seed or stream differs", () => {
  const a = Rng.fromSeed(42);
  const b = Rng.fromSeed(42);
  const seqA = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(
    Array.from({ length: 8 }, () => b.nextUint32()),
    seqA,
  );
  const c = Rng.fromSeed(43);
  assert.notDeepEqual(
    Array.from({ length: 8 }, () => c.nextUint32()),
    seqA,
  );
  const d = Rng.fromSeed(42, 1);
  assert.notDeepEqual(
    Array.from({ length: 8 }, () => d.nextUint32()),
    seqA,
  );
});

test("a saved state continues the exact sequence, also through JSON", () => {
  const rng = Rng.fromSeed(7);
  for (let i = 0; i < 5; i++) rng.nextFloat();
  const saved = JSON.parse(JSON.stringify(rng.getState())) as ReturnType<Rng["getState"]>;
  const expected = [rng.nextFloat(), rng.nextInt(10), rng.nextNormal()];
  const resumed = Rng.fromState(saved);
  assert.deepEqual([resumed.nextFloat(), resumed.nextInt(10), resumed.nextNormal()], expected);
});

test("malformed states and seeds are rejected", () => {
  assert.throws(() => Rng.fromState({ algorithm: "xoshiro128**", s: [0, 0, 0, 0] }), UserError);
  assert.throws(() => Rng.fromState({ algorithm: "xoshiro128**", s: [1, 2, 3] as unknown as [number, number, number, number] }), UserError);
  assert.throws(() => Rng.fromSeed(-1), /seed must be a non-negative integer/);
  assert.throws(() => Rng.fromSeed(1.5), UserError);
});

test("values stay in range and look uniform", () => {
  const rng = Rng.fromSeed(1);
  const counts = new Array<number>(5).fill(0);
  let sum = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const f = rng.nextFloat();
    assert.ok(f >= 0 && f < 1);
    sum += f;
    counts[rng.nextInt(5)]++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.02, `mean ${sum / n}`);
  for (const c of counts) assert.ok(Math.abs(c - n / 5) < n / 25, `counts ${counts.join(",")}`);
});

test("shuffle is a permutation and depends on the seed", () => {
  const a = Rng.fromSeed(3).shuffle(Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
  const b = Rng.fromSeed(4).shuffle(Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(a, b);
});

test("data order: every epoch visits every example once, in an epoch-specific order", () => {
  const order = new DataOrder({ numExamples: 10, batchSize: 4, seed: 42 });
  assert.equal(order.batchesPerEpoch, 3);
  const epochs: number[][] = [[], []];
  const sizes: number[] = [];
  for (let i = 0; i < 6; i++) {
    const b = order.nextBatch();
    epochs[b.epoch].push(...b.indices);
    sizes.push(b.indices.length);
  }
  assert.deepEqual(sizes, [4, 4, 2, 4, 4, 2]); // the last batch of an epoch is short, never mixed
  for (const e of epochs)
    assert.deepEqual(
      [...e].sort((x, y) => x - y),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.deepEqual(order.getPosition(), { epoch: 2, batch_in_epoch: 0 });
});

test("data order resumes exactly from a saved position", () => {
  const straight = new DataOrder({ numExamples: 7, batchSize: 2, seed: 5 });
  const all = Array.from({ length: 9 }, () => straight.nextBatch());
  const first = new DataOrder({ numExamples: 7, batchSize: 2, seed: 5 });
  for (let i = 0; i < 5; i++) first.nextBatch();
  const pos = JSON.parse(JSON.stringify(first.getPosition())) as ReturnType<DataOrder["getPosition"]>;
  assert.deepEqual(pos, { epoch: 1, batch_in_epoch: 1 });
  const resumed = new DataOrder({ numExamples: 7, batchSize: 2, seed: 5, position: pos });
  assert.equal(resumed.epochProgress(), 1.25);
  assert.deepEqual(
    Array.from({ length: 4 }, () => resumed.nextBatch()),
    all.slice(5),
  );
});

test("data order without shuffle keeps file order; positions are validated", () => {
  const order = new DataOrder({ numExamples: 5, batchSize: 2, seed: 1, shuffle: false });
  assert.deepEqual(order.nextBatch().indices, [0, 1]);
  assert.throws(() => order.setPosition({ epoch: 0, batch_in_epoch: 4 }), /did the data or the batch size change/);
  assert.throws(() => new DataOrder({ numExamples: 0, batchSize: 2, seed: 1 }), /no examples/);
});

test("nextStep groups micro-batches for accumulation and stops at the epoch's end", () => {
  const order = new DataOrder({ numExamples: 10, batchSize: 2, seed: 9 }); // 5 batches per epoch
  const sizes = Array.from({ length: 4 }, () => order.nextStep(2).length);
  assert.deepEqual(sizes, [2, 2, 1, 2]); // ceil(5 / 2) = 3 steps per epoch
  assert.deepEqual(order.getPosition(), { epoch: 1, batch_in_epoch: 2 });
});
