/**
 * The checkpoint op on its own: the same values and gradients as running
 * the function directly (one output and several), only outputs a gradient
 * reached are back-propagated, and nothing is checkpointed without grad.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Graph } from "../../src/autodiff/graph.js";
import { checkpoint, type CheckpointFn } from "../../src/autodiff/ops/checkpoint.js";
import { mul, add } from "../../src/autodiff/ops/elementwise.js";
import { matmul } from "../../src/autodiff/ops/matmul.js";
import { gelu } from "../../src/autodiff/ops/activations.js";
import { parameter, type Tensor } from "../../src/tensor/tensor.js";

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 13.7 + i * 0.91));

/** y = gelu(x @ W) * x, z = y + u: two outputs, two inputs, one parameter. */
function setup() {
  const w = parameter(values(9, 1), [3, 3], new Float32Array(9), "w");
  const fn: CheckpointFn = (g, [x, u]) => {
    const y = mul(g, gelu(g, matmul(g, x, w)), x);
    return [y, add(g, y, u)];
  };
  return { w, fn };
}

/** Runs fn directly or checkpointed; returns outputs, input gradients and w's gradient for upstream grads dY, dZ. */
function run(useCheckpoint: boolean, reach: { y: boolean; z: boolean }) {
  const { w, fn } = setup();
  const g = new Graph();
  try {
    const x = g.constant(values(6, 2), [2, 3], { requiresGrad: true });
    const u = g.constant(values(6, 3), [2, 3], { requiresGrad: true });
    const [y, z] = useCheckpoint ? checkpoint(g, [x, u], fn) : fn(g, [x, u]);
    // Upstream: a scalar mixing whichever outputs are "reached".
    const parts: Tensor[] = [];
    if (reach.y) parts.push(mul(g, y, g.constant(values(6, 4), [2, 3])));
    if (reach.z) parts.push(mul(g, z, g.constant(values(6, 5), [2, 3])));
    const top = parts.length === 2 ? add(g, parts[0], parts[1]) : parts[0];
    g.backward(top, new Float32Array(6).fill(1));
    const grad = (t: Tensor) => Float32Array.from(t.grad ?? new Float32Array(t.size));
    return {
      y: Float32Array.from(y.data),
      z: Float32Array.from(z.data),
      dx: grad(x),
      du: grad(u),
      dw: Float32Array.from(w.grad ?? []),
      nodes: g.nodeCount,
    };
  } finally {
    g.release();
  }
}

for (const reach of [
  { y: true, z: true },
  { y: true, z: false },
  { y: false, z: true },
]) {
  test(`checkpoint == direct, bit for bit (reached: y ${reach.y}, z ${reach.z})`, () => {
    const direct = run(false, reach);
    const ckpt = run(true, reach);
    assert.ok(
      direct.dw.some((v) => v !== 0),
      "no gradient: the test could not fail",
    );
    for (const key of ["y", "z", "dx", "du", "dw"] as const) assert.deepEqual(ckpt[key], direct[key], key);
    // The checkpointed tape holds the packed node and two output copies, not the function's ops.
    assert.ok(ckpt.nodes < direct.nodes, `${ckpt.nodes} nodes checkpointed, ${direct.nodes} direct`);
  });
}

test("a single output: one node on the tape; the gradient matches", () => {
  const { w, fn } = setup();
  const g = new Graph();
  try {
    const x = g.constant(values(6, 2), [2, 3], { requiresGrad: true });
    const u = g.constant(values(6, 3), [2, 3]);
    const [z] = checkpoint(g, [x, u], (cg, ins) => [fn(cg, ins)[1]]);
    assert.equal(g.nodeCount, 1);
    g.backward(z, values(6, 6));
    const dxCkpt = Float32Array.from(x.grad ?? []);
    const dwCkpt = Float32Array.from(w.grad ?? []);
    g.release();
    w.grad?.fill(0);
    const x2 = g.constant(values(6, 2), [2, 3], { requiresGrad: true });
    const z2 = fn(g, [x2, g.constant(values(6, 3), [2, 3])])[1];
    g.backward(z2, values(6, 6));
    assert.deepEqual(dxCkpt, Float32Array.from(x2.grad ?? []));
    assert.deepEqual(dwCkpt, Float32Array.from(w.grad ?? []));
  } finally {
    g.release();
  }
});

test("without grad (or with no input needing it) the function just runs on the graph", () => {
  const { fn } = setup();
  const g = new Graph({ grad: false });
  try {
    const x = g.constant(values(6, 2), [2, 3]);
    const u = g.constant(values(6, 3), [2, 3]);
    const [y] = checkpoint(g, [x, u], fn);
    assert.equal(g.nodeCount, 0);
    assert.equal(y.requiresGrad, false);
  } finally {
    g.release();
  }
  const g2 = new Graph();
  try {
    // Inputs need no grad but w does: the ops are recorded directly (no recompute needed).
    const [y] = checkpoint(g2, [g2.constant(values(6, 2), [2, 3]), g2.constant(values(6, 3), [2, 3])], fn);
    assert.ok(y.requiresGrad);
    assert.ok(g2.nodeCount > 1);
  } finally {
    g2.release();
  }
});
