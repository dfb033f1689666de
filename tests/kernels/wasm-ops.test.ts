/**
 * The WASM SIMD pointwise and row kernels against their plain TypeScript
 * references, on lengths that are not multiples of 4, empty and tiny cases,
 * unaligned views and buffers outside WASM memory (copy path).
 *
 * Tolerance: |wasm - ref| <= 1e-5 * (1 + |ref|). The WASM kernels compute in
 * f32 with a polynomial exp (relative error ~2e-7); the references compute in
 * f64 and round once, so a few f32 ulps of difference are expected.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logSumExpRowsRef, scaledSoftmaxRowsRef } from "../../src/kernels/ref/row-softmax.js";
import { geluBackward, geluForward, siluBackward, siluForward } from "../../src/kernels/ref/activations.js";
import { createNativeBackend, loadNativeAddon } from "../../src/kernels/native/index.js";
import { wasmAvailability } from "../../src/kernels/wasm/index.js";
import { assertClose, place, PLACEMENTS, seededValues, singleThreadWasm } from "./wasm-ops-helpers.js";

const TOL = 1e-5;
const available = wasmAvailability();
const be = singleThreadWasm();

const LENGTHS = [0, 1, 3, 4, 5, 7, 16, 33, 1027];

type Fwd = (out: Float32Array, inp: Float32Array, n: number) => void;
type Bwd = (dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number) => void;

function checkPointwise(name: string, refF: Fwd, refB: Bwd, f: Fwd, b: Bwd): void {
  for (const n of LENGTHS) {
    for (const where of PLACEMENTS) {
      // Wide inputs reach the saturated ends of tanh/sigmoid; the extremes are exact cases.
      const x = seededValues(n, 7 + n, -12, 12);
      if (n >= 5) x.set([0, -30, 30, 1e-4, -1e-4]);
      const dout = seededValues(n, 11 + n);
      const dinp0 = seededValues(n, 13 + n);
      const expectOut = new Float32Array(n);
      refF(expectOut, x, n);
      const out = place(be(), new Float32Array(n).fill(NaN), where);
      f(out, place(be(), x, where), n);
      assertClose(out, expectOut, TOL, `${name} forward n=${n} ${where}`);
      const expectD = Float32Array.from(dinp0);
      refB(expectD, x, dout, n);
      const dinp = place(be(), dinp0, where);
      b(dinp, place(be(), x, where), place(be(), dout, where), n);
      assertClose(dinp, expectD, TOL, `${name} backward (accumulating) n=${n} ${where}`);
    }
  }
}

describe("wasm pointwise kernels", { skip: available.ok ? false : available.reason }, () => {
  it("gelu forward/backward match the reference", () => {
    checkPointwise("gelu", geluForward, geluBackward, be().geluForward, be().geluBackward);
  });

  it("silu forward/backward match the reference", () => {
    checkPointwise("silu", siluForward, siluBackward, be().siluForward, be().siluBackward);
  });

  it("write only the n values asked for", () => {
    const out = place(be(), new Float32Array(9).fill(-7), "wasm");
    be().geluForward(out, place(be(), seededValues(9, 3), "wasm"), 5);
    assert.deepEqual([...out.subarray(5)], [-7, -7, -7, -7]);
    assert.ok(out.subarray(0, 5).every((v) => v !== -7));
  });

  it("refuse a buffer shorter than n before touching memory", () => {
    assert.throws(() => be().geluForward(new Float32Array(3), new Float32Array(4), 4), RangeError);
    assert.throws(() => be().siluBackward(new Float32Array(4), new Float32Array(4), new Float32Array(2), 4), RangeError);
  });
});

const ROW_SHAPES: Array<[number, number]> = [
  [0, 5],
  [1, 0],
  [1, 1],
  [2, 3],
  [3, 4],
  [3, 5],
  [2, 257],
  [4, 1031],
  [1, 50257],
];

describe("wasm LM-head row kernels", { skip: available.ok ? false : available.reason }, () => {
  it("logSumExpRows matches the reference (large, small and shifted rows)", () => {
    for (const [N, C] of ROW_SHAPES) {
      for (const where of PLACEMENTS) {
        const x = seededValues(N * C, N * 31 + C, -20, 20);
        if (N > 1) for (let j = 0; j < C; j++) x[C + j] += 500; // far from 0: the max shift matters
        const expect = new Float32Array(N);
        logSumExpRowsRef(expect, x, N, C);
        const lse = place(be(), new Float32Array(N).fill(NaN), where);
        be().logSumExpRows(lse, place(be(), x, where), N, C);
        assertClose(lse, expect, TOL, `logSumExpRows ${N}x${C} ${where}`);
      }
    }
  });

  it("logSumExpRows of an empty row is -Infinity, as the reference", () => {
    const lse = be().alloc(1);
    be().logSumExpRows(lse, be().alloc(1), 1, 0);
    const expect = new Float32Array(1);
    logSumExpRowsRef(expect, new Float32Array(0), 1, 0);
    assert.equal(lse[0], expect[0]);
    assert.equal(lse[0], -Infinity);
  });

  it("scaledSoftmaxRows matches the reference", () => {
    for (const [N, C] of ROW_SHAPES) {
      for (const where of PLACEMENTS) {
        const x = seededValues(N * C, N * 17 + C, -20, 20);
        const lse = new Float32Array(N);
        logSumExpRowsRef(lse, x, N, C);
        const scale = seededValues(N, C + 5, -3, 3);
        const expect = Float32Array.from(x);
        scaledSoftmaxRowsRef(expect, lse, scale, N, C);
        const got = place(be(), x, where);
        be().scaledSoftmaxRows(got, place(be(), lse, where), place(be(), scale, where), N, C);
        assertClose(got, expect, TOL, `scaledSoftmaxRows ${N}x${C} ${where}`);
      }
    }
  });

  it("refuses short buffers", () => {
    assert.throws(() => be().logSumExpRows(new Float32Array(2), new Float32Array(5), 2, 3), RangeError);
    assert.throws(() => be().scaledSoftmaxRows(new Float32Array(6), new Float32Array(1), new Float32Array(2), 2, 3), RangeError);
  });

  it("returns copy-path temporaries: repeating a call does not grow the memory", () => {
    const x = seededValues(3 * 1031, 5);
    const lse = new Float32Array(3);
    be().logSumExpRows(lse, x, 3, 1031);
    const used = be().arena.usedBytes;
    be().logSumExpRows(lse, x, 3, 1031);
    assert.equal(be().arena.usedBytes, used);
  });
});

const native = loadNativeAddon();
describe("native backend op kernels", { skip: !available.ok ? available.reason : native.ok ? false : native.reason }, () => {
  it("has the op kernels on its plain buffers (its own GELU/SiLU forward, the WASM rest)", () => {
    const nb = createNativeBackend({ threads: 1 });
    const { geluForward: f, geluBackward: b, siluForward: sf, siluBackward: sb, logSumExpRows: lse } = nb;
    assert.ok(f && b && sf && sb && lse, "native backend should expose the op kernels");
    checkPointwise("native gelu", geluForward, geluBackward, f, b);
    checkPointwise("native silu", siluForward, siluBackward, sf, sb);
    const x = seededValues(3 * 1031, 9, -20, 20);
    const expect = new Float32Array(3);
    logSumExpRowsRef(expect, x, 3, 1031);
    const got = nb.alloc(3);
    lse(got, x, 3, 1031);
    assertClose(got, expect, TOL, "native logSumExpRows");
  });
});
