import assert from "node:assert/strict";
import { test } from "node:test";
import {
  add,
  BufferPool,
  causalAttention,
  embedding,
  gelu,
  Graph,
  layerNorm,
  linear,
  lmHeadLogProbs,
  mergeHeads,
  parameter,
  rmsNorm,
  split,
  splitHeads,
  sum,
  type Tensor,
} from "../../src/autodiff/index.js";
import type { Backend } from "../../src/kernels/backend.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { NOTHING_SAVED } from "../../src/autodiff/graph.js";
import { rand } from "./gradcheck.js";

/** Wraps the ref backend, counting alloc calls and live buffers. */
function countingBackend(): Backend & { allocs: number; live: number; sgemms: number } {
  const b = {
    name: "counting",
    allocs: 0,
    live: 0,
    sgemms: 0,
    alloc(n: number) {
      b.allocs++;
      b.live++;
      return new Float32Array(n);
    },
    release() {
      b.live--;
    },
    sgemm(...args: Parameters<Backend["sgemm"]>) {
      b.sgemms++;
      refBackend.sgemm(...args);
    },
  };
  return b;
}

/** A tiny GPT-2-like block stack exercising most ops. */
function tinyModel() {
  const V = 13,
    C = 8,
    H = 2;
  const p = (n: number, shape: number[], seed: number, name: string) => parameter(rand(n, seed, 0.5), shape, new Float32Array(n), name);
  const wte = p(V * C, [V, C], 1, "wte");
  const lnW = p(C, [C], 2, "ln.weight");
  const lnB = p(C, [C], 3, "ln.bias");
  const qkvW = p(C * 3 * C, [C, 3 * C], 4, "c_attn.weight");
  const mlpW = p(4 * C * C, [4 * C, C], 5, "mlp.weight");
  const mlpDown = p(4 * C * C, [C, 4 * C], 6, "mlp.down");
  const normW = p(C, [C], 7, "norm.weight");
  const projW = p(C * C, [C, C], 8, "c_proj.weight");
  const projB = p(C, [C], 9, "c_proj.bias");
  const params = [wte, lnW, lnB, qkvW, mlpW, mlpDown, normW, projW, projB];
  const forward = (g: Graph, ids: Int32Array, B: number, T: number, labels: Int32Array, lengths?: number[]): Tensor => {
    const x = embedding(g, wte, ids, [B, T]);
    const hN = layerNorm(g, x, lnW, lnB);
    const [q, k, v] = split(g, linear(g, hN, qkvW, null, "in_out"), [C, C, C]);
    // Grouped KV: 2 query heads share 1 KV head (k, v keep only their first half).
    const kv1 = (t: Tensor) => split(g, t, [C / H, C / H])[0];
    const att = causalAttention(g, splitHeads(g, q, H), splitHeads(g, kv1(k), 1), splitHeads(g, kv1(v), 1), {
      keyLengths: lengths ?? Array.from({ length: B }, () => T),
    });
    const x2 = add(g, x, linear(g, mergeHeads(g, att), projW, projB));
    const m = linear(g, gelu(g, linear(g, x2, mlpW)), mlpDown);
    const x3 = rmsNorm(g, add(g, x2, m), normW);
    return lmHeadLogProbs(g, x3, wte, labels, { chunkRows: 3 });
  };
  return { params, forward, V };
}

test("a second identical step allocates no new backend buffers", () => {
  const be = countingBackend();
  const pool = new BufferPool(be);
  const model = tinyModel();
  const B = 2,
    T = 5;
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7) % model.V);
  const labels = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? -100 : (i * 3) % model.V));
  const g = new Graph({ pool, backend: be });
  const step = () => {
    const logp = model.forward(g, ids, B, T, labels, [T, T - 2]);
    g.backward(logp, new Float32Array(B * T).fill(-0.1));
    g.release();
  };
  step();
  const afterFirst = be.allocs;
  assert.ok(afterFirst > 0);
  assert.ok(be.sgemms > 0, "the graph's backend runs the matmuls");
  assert.equal(pool.stats().inUse, 0, "every buffer is back in the pool after release");
  step();
  step();
  assert.equal(be.allocs, afterFirst, "steps 2 and 3 reuse step 1's buffers");
  // No-grad inference with the same shapes also runs from the pool.
  const ng = new Graph({ pool, backend: be, grad: false });
  model.forward(ng, ids, B, T, labels);
  assert.equal(ng.nodeCount, 0, "no-grad mode records nothing");
  ng.release();
  assert.equal(be.allocs, afterFirst);
  assert.equal(pool.stats().inUse, 0);
  pool.trim();
  assert.equal(be.live, 0, "trim hands every buffer back to the backend");
});

test("gradients accumulate across micro-batches and match one combined pass", () => {
  const model = tinyModel();
  const B = 1,
    T = 4;
  const idsA = Int32Array.from([1, 2, 3, 4]);
  const idsB = Int32Array.from([5, 6, 7, 8]);
  const labels = Int32Array.from([-100, 2, 3, 4]);
  const run = (ids: Int32Array) => {
    const g = new Graph();
    g.backward(sum(g, model.forward(g, ids, B, T, labels)));
    g.release();
  };
  run(idsA);
  run(idsB);
  const accumulated = model.params.map((p) => Float32Array.from(p.grad ?? []));
  for (const p of model.params) p.grad?.fill(0);
  const g = new Graph();
  const both = model.forward(g, Int32Array.from([...idsA, ...idsB]), 2, T, Int32Array.from([...labels, ...labels]));
  g.backward(sum(g, both));
  g.release();
  model.params.forEach((p, i) => {
    const grad = p.grad ?? new Float32Array(0);
    assert.ok(
      grad.some((v) => v !== 0),
      `${p.name} received a gradient`,
    );
    for (let j = 0; j < grad.length; j++) assert.ok(Math.abs(grad[j] - accumulated[i][j]) < 1e-5, `${p.name}[${j}]`);
  });
});

test("backward: scalar seed, upstream gradient, and clear errors", () => {
  const g = new Graph();
  const x = g.constant([1, 2, 3], [3], { requiresGrad: true });
  const c = g.constant([1, 1, 1], [3]);
  assert.throws(() => g.backward(add(g, c, c)), /does not depend on anything that requires grad/);
  const y = add(g, x, c);
  assert.throws(() => g.backward(y), /not a scalar; pass its upstream gradient/);
  assert.throws(() => g.backward(y, [1, 2]), /upstream gradient has 2 values/);
  g.backward(y, [1, 2, 3]);
  assert.deepEqual([...(x.grad ?? [])], [1, 2, 3]);
  assert.throws(() => g.backward(y, [1, 2, 3]), /already called/);
  g.release();
  assert.ok(y.released);
  assert.throws(() => add(g, y, y), /use of released tensor/);
  const ng = new Graph({ grad: false });
  const z = ng.constant([1], [1], { requiresGrad: true });
  assert.equal(z.requiresGrad, false, "no-grad mode: inputs never require grad");
  assert.throws(() => ng.backward(z), /no-grad mode/);
  ng.release();
});

test("a graph runs on the backend it is given, and on the reference backend by default", () => {
  const be = countingBackend();
  const g = new Graph({ backend: be });
  assert.equal(g.backend, be);
  linear(g, g.constant([1, 2], [1, 2]), g.constant([1, 2, 3, 4], [2, 2]));
  assert.equal(be.sgemms, 1);
  assert.ok(be.allocs > 0, "buffers come from the given backend's pool");
  g.release();
  assert.equal(new Graph().backend, refBackend);
});

test("freeUnsaved: dead intermediates go back to the pool at once, gradients unchanged, reads of them fail", () => {
  const model = tinyModel();
  const B = 2,
    T = 5;
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 5) % model.V);
  const labels = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? -100 : (i * 2) % model.V));
  const dLogp = new Float32Array(B * T).fill(-0.1);
  /** One step's parameter gradients, with or without freeing what the backward pass does not read. */
  const step = (free: boolean) => {
    for (const p of model.params) p.grad?.fill(0);
    const pool = new BufferPool(refBackend);
    const g = new Graph({ pool });
    const mark = g.mark();
    const logp = model.forward(g, ids, B, T, labels);
    const inUse = pool.stats().inUse;
    if (free) g.freeUnsaved(mark, [logp]);
    const freed = inUse - pool.stats().inUse;
    g.backward(logp, dLogp);
    const grads = model.params.map((p) => Float32Array.from(p.grad ?? []));
    g.release();
    return { grads, freed };
  };
  const kept = step(false);
  const freeing = step(true);
  // The qkv projection, its split parts, the residual branches: nothing reads them after the forward.
  assert.ok(freeing.freed >= 4, `freed ${freeing.freed} buffers`);
  assert.deepEqual(freeing.grads, kept.grads, "bit-identical parameter gradients");

  const g = new Graph();
  const w = parameter(rand(12, 40), [3, 4], new Float32Array(12), "w");
  const mark = g.mark();
  const x = g.input(rand(8, 41), [2, 4]);
  const projected = linear(g, x, w); // read by nothing in backward: the add below saves no values
  const summed = add(g, projected, projected);
  const hidden = gelu(g, summed); // gelu's backward reads summed: kept
  g.freeUnsaved(mark, [hidden]);
  assert.equal(projected.released, true);
  assert.equal(summed.released, false);
  assert.equal(hidden.released, false);
  assert.equal(x.released, false, "caller-owned inputs are never freed");
  assert.throws(() => add(g, projected, projected), /released/);
  g.backward(sum(g, hidden));
  assert.ok(w.grad?.some((v) => v !== 0));
  g.release();
});

test("freeInBackward: saved intermediates go back once their last reader ran; the root and the gradients stay", () => {
  const run = (freeInBackward: boolean) => {
    const pool = new BufferPool(refBackend);
    const g = new Graph({ pool, freeInBackward });
    const w = parameter(rand(32, 60), [8, 4], new Float32Array(32), "w");
    const x = g.input(rand(8, 61), [2, 4]);
    const pre = linear(g, x, w);
    const act = gelu(g, pre); // read by the sum's rule (its default saves); gelu's rule reads pre
    const out = sum(g, act);
    const inUse = pool.stats().inUse;
    g.backward(out);
    const result = {
      grad: Float32Array.from(w.grad ?? []),
      released: [pre.released, act.released, out.released, x.released],
      freed: inUse - pool.stats().inUse,
      out: out.data[0],
    };
    g.release();
    return result;
  };
  const kept = run(false);
  const freeing = run(true);
  assert.deepEqual(freeing.grad, kept.grad);
  assert.ok(kept.grad.some((v) => v !== 0));
  assert.deepEqual(kept.released, [false, false, false, false]);
  assert.deepEqual(freeing.released, [true, true, false, false], "pre and act, not the root nor the caller's input");
  assert.equal(freeing.freed, kept.freed + 2);
  assert.equal(freeing.out, kept.out, "the root stays readable");
});

test("freeInBackward keeps what a recompute reads until the recompute ran", () => {
  const g = new Graph({ pool: new BufferPool(refBackend), freeInBackward: true });
  const w0 = parameter(rand(16, 70), [4, 4], new Float32Array(16), "w0");
  const w = parameter(rand(12, 71), [3, 4], new Float32Array(12), "w");
  const mark = g.mark();
  const x = linear(g, g.input(rand(8, 72), [2, 4]), w0);
  // A copy whose own rule reads nothing, remade from x when the product below needs it.
  const copy = g.output(x.shape, [x]);
  copy.data.set(x.data);
  g.record("copy", copy, [x], (dout) => g.gradOf(x).forEach((_, i, d) => (d[i] += dout[i])), NOTHING_SAVED);
  g.recomputable(copy, [x], (buf) => buf.set(x.data));
  const y = linear(g, copy, w);
  const z = gelu(g, x); // recorded after the product: its rule, the last to read x by `saves`, runs first
  const top = add(g, sum(g, y), sum(g, z));
  g.freeUnsaved(mark, [y, z]);
  assert.equal(copy.released, true, "evicted");
  g.backward(top); // would throw "reads released" if x went back after gelu's rule
  assert.ok(w.grad?.some((v) => v !== 0) && w0.grad?.some((v) => v !== 0));
  g.release();
});

test("recomputable: freeUnsaved evicts what backward can remake, backward refills it once and frees it again", () => {
  /** y = linear(gelu(x @ w1) viewed as [2, 8], w2): gelu's output is saved by the second linear, and recomputable. */
  const run = (free: boolean) => {
    const pool = new BufferPool(refBackend);
    const g = new Graph({ pool });
    const w1 = parameter(rand(32, 50), [8, 4], new Float32Array(32), "w1");
    const w2 = parameter(rand(24, 51), [3, 8], new Float32Array(24), "w2");
    const x = g.input(rand(8, 52), [2, 4]);
    const mark = g.mark();
    const pre = linear(g, x, w1);
    const act = gelu(g, pre);
    const view = g.view(act, [2, 8]); // a view made before the eviction must see the refilled buffer too
    const y = linear(g, view, w2);
    const before = pool.stats().inUse;
    if (free) g.freeUnsaved(mark, [y]);
    const freed = before - pool.stats().inUse;
    const state = { actReleased: act.released, viewReleased: view.released, preReleased: pre.released };
    g.backward(sum(g, y));
    const after = { actReleased: act.released, inUse: pool.stats().inUse };
    const grads = [Float32Array.from(w1.grad ?? []), Float32Array.from(w2.grad ?? [])];
    g.release();
    return { freed, state, after, grads };
  };
  const kept = run(false);
  const freeing = run(true);
  assert.equal(freeing.freed, 1, "gelu's output goes back; its input stays (gelu's backward and the recompute read it)");
  assert.deepEqual(freeing.state, { actReleased: true, viewReleased: true, preReleased: false });
  assert.equal(freeing.after.actReleased, true, "after gelu's own rule ran, the recomputed copy was freed again");
  assert.equal(freeing.after.inUse, kept.after.inUse - 1, "so backward ends holding one buffer fewer");
  assert.deepEqual(freeing.grads, kept.grads, "bit-identical gradients through the recomputed values");
});

test("recomputable: what a recompute reads is kept even when no backward rule reads it", () => {
  const g = new Graph();
  const w = parameter(rand(8, 60), [2, 4], new Float32Array(8), "w");
  const x = g.input(rand(8, 61), [2, 4]);
  const mark = g.mark();
  const base = add(g, x, x); // read by nothing in backward, but mergeHeads' recompute copies from it
  const merged = mergeHeads(g, g.view(base, [1, 2, 2, 2]));
  const y = linear(g, merged, w); // saves merged
  g.freeUnsaved(mark, [y]);
  assert.equal(merged.released, true);
  assert.equal(base.released, false, "kept for the recompute");
  g.backward(sum(g, y));
  const viaRecompute = Float32Array.from(w.grad ?? []);
  g.release();

  const g2 = new Graph();
  const w2 = parameter(Float32Array.from(w.data), [2, 4], new Float32Array(8), "w");
  const x2 = g2.input(Float32Array.from(x.data), [2, 4]);
  const y2 = linear(g2, mergeHeads(g2, g2.view(add(g2, x2, x2), [1, 2, 2, 2])), w2);
  g2.backward(sum(g2, y2));
  assert.deepEqual(viaRecompute, Float32Array.from(w2.grad ?? []));
  g2.release();
});
