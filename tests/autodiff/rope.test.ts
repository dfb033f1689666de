import assert from "node:assert/strict";
import { test } from "node:test";
import { createRopeTable, Graph, rope, ropeInvFreq } from "../../src/autodiff/index.js";
import { assertClose, gradCheck, rand } from "./gradcheck.js";

test("default inverse frequencies are theta^(-2i/D)", () => {
  const inv = ropeInvFreq({ headDim: 8, theta: 10000 });
  assertClose(inv, [1, 10000 ** -0.25, 10000 ** -0.5, 10000 ** -0.75], 0, 1e-6);
});

test("llama3 rope_scaling: long wavelengths divided by factor, short kept, middle band blended", () => {
  const scaling = {
    rope_type: "llama3" as const,
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 64,
  };
  const D = 16;
  const base = ropeInvFreq({ headDim: D, theta: 10000 });
  const scaled = ropeInvFreq({ headDim: D, theta: 10000, scaling });
  // Band edges: wavelength < 64/4 = 16 kept; > 64/1 = 64 divided by 8; in between blended.
  let kept = 0,
    divided = 0,
    blended = 0;
  for (let i = 0; i < D / 2; i++) {
    const wl = (2 * Math.PI) / base[i];
    if (wl < 16) {
      kept++;
      assertClose([scaled[i]], [base[i]], 0, 1e-6);
    } else if (wl > 64) {
      divided++;
      assertClose([scaled[i]], [base[i] / 8], 0, 1e-6);
    } else {
      blended++;
      const smooth = (64 / wl - 1) / (4 - 1);
      assertClose([scaled[i]], [(1 - smooth) * (base[i] / 8) + smooth * base[i]], 0, 1e-6);
      assert.ok(scaled[i] < base[i] && scaled[i] > base[i] / 8);
    }
  }
  assert.ok(kept > 0 && divided > 0 && blended > 0, `all three bands exercised (${kept}, ${divided}, ${blended})`);
  assert.throws(() => ropeInvFreq({ headDim: 6, theta: 1e4, scaling: { ...scaling, high_freq_factor: 1 } }), /invalid llama3 rope_scaling/);
});

test("rope rotates pairs (i, i + D/2) and preserves norms; position 0 is the identity", () => {
  const table = createRopeTable({ headDim: 4, theta: 10000, maxPositions: 8 });
  const g = new Graph({ grad: false });
  const x = g.constant([1, 2, 3, 4, 1, 2, 3, 4], [1, 1, 2, 4]);
  const y = rope(g, x, table, { pastLength: 2 });
  // Position 2, pair (0, 2): angle 2 * 1; pair (1, 3): angle 2 * 0.01.
  assertClose([y.data[0], y.data[2]], [1 * Math.cos(2) - 3 * Math.sin(2), 3 * Math.cos(2) + 1 * Math.sin(2)], 1e-6, 1e-5);
  assertClose([y.data[1], y.data[3]], [2 * Math.cos(0.02) - 4 * Math.sin(0.02), 4 * Math.cos(0.02) + 2 * Math.sin(0.02)], 1e-6, 1e-5);
  const norm = (a: ArrayLike<number>, o: number) => Math.hypot(a[o], a[o + 1], a[o + 2], a[o + 3]);
  assert.ok(Math.abs(norm(y.data, 4) - norm(x.data, 4)) < 1e-5);
  const y0 = rope(g, x, table);
  assertClose(y0.data.subarray(0, 4), [1, 2, 3, 4]);
  g.release();
});

test("rope: q.k depends only on the relative position; explicit positions equal the past offset", () => {
  const table = createRopeTable({
    headDim: 6,
    theta: 500000,
    maxPositions: 32,
    scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
  });
  const g = new Graph({ grad: false });
  const q = g.input(rand(6, 90), [1, 1, 1, 6]);
  const k = g.input(rand(6, 91), [1, 1, 1, 6]);
  const dot = (pq: number, pk: number) => {
    const a = rope(g, q, table, { pastLength: pq }).data;
    const b = rope(g, k, table, { pastLength: pk }).data;
    return a.reduce((s, v, i) => s + v * b[i], 0);
  };
  assert.ok(Math.abs(dot(5, 2) - dot(20, 17)) < 1e-5);
  const x = g.input(rand(2 * 3 * 6, 92), [2, 1, 3, 6]);
  const viaPast = rope(g, x, table, { pastLength: 4 });
  const viaPositions = rope(g, x, table, { positions: Int32Array.from([4, 5, 6, 4, 5, 6]) });
  assert.deepEqual([...viaPast.data], [...viaPositions.data]);
  assert.throws(() => rope(g, x, table, { pastLength: 30 }), /outside table/);
  g.release();
});

test("rope gradients check (past offset and explicit positions)", () => {
  const table = createRopeTable({ headDim: 4, theta: 10000, maxPositions: 16 });
  const x = { data: rand(2 * 2 * 3 * 4, 93), shape: [2, 2, 3, 4] };
  gradCheck((g, [xx]) => rope(g, xx, table, { pastLength: 3 }), [x]);
  gradCheck((g, [xx]) => rope(g, xx, table, { positions: Int32Array.from([0, 1, 2, 7, 8, 9]) }), [x]);
});
