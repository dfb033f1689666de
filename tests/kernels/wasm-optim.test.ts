/**
 * The WASM optimizer and clipping kernels (assembly/optim.ts, split over the
 * pool by kernels/wasm/optim-ops.ts) against their reference twins in
 * kernels/ref/optim.ts. They compute in f64 in the reference's order and
 * round each stored value to f32, so AdamW and scaling must match bit for
 * bit; the sum of squares (partial sums per fixed block) to 1e-12 relative,
 * and exactly across thread counts. SGD and Adafactor's kernels
 * (assembly/optim.ts, assembly/adafactor.ts) must equal theirs exactly, on 1
 * and 2 threads, with buffers aligned, unaligned or outside the memory.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { adamwUpdateRef, scaleInPlaceRef, sumSquaresRef, type AdamWStep } from "../../src/kernels/ref/optim.js";
import { createWasmBackend, wasmAvailability, type WasmBackend } from "../../src/kernels/wasm/index.js";
import { AdamW } from "../../src/train/optim/adamw.js";
import { clipGradNorm } from "../../src/train/optim/clip.js";
import { checkAdafactorKernels, checkSgdKernel } from "./sgd-adafactor-cases.js";
import { place, PLACEMENTS, seededValues } from "./wasm-ops-helpers.js";

const available = wasmAvailability();
const backends: WasmBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));
function wasm(threads: number): WasmBackend {
  // The optimizer kernels split arrays of 2^15 elements and more over the threads.
  const be = createWasmBackend({ threads });
  backends.push(be);
  return be;
}

const STEP: AdamWStep = {
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  stepSize: 1e-3 / (1 - 0.9 ** 3),
  bc2Sqrt: Math.sqrt(1 - 0.999 ** 3),
  decay: 1 - 1e-3 * 0.1,
};

function moments(n: number) {
  return { p: seededValues(n, 1), g: seededValues(n, 2, -4, 4), m: seededValues(n, 3, -0.1, 0.1), v: seededValues(n, 4, 0, 0.01) };
}

describe("wasm optimizer kernels", { skip: available.ok ? false : available.reason }, () => {
  it("adamwUpdate equals the reference bit for bit: odd lengths, sub-ranges, decay or none, every placement", () => {
    const be = wasm(1);
    for (const n of [1, 2, 3, 1037]) {
      for (const decay of [1, STEP.decay]) {
        for (const where of PLACEMENTS) {
          const ref = moments(n);
          const [p, g, m, v] = [ref.p, ref.g, ref.m, ref.v].map((a) => place(be, a, where));
          const start = n > 8 ? 5 : 0;
          const end = n > 8 ? n - 3 : n;
          for (let step = 0; step < 3; step++) {
            adamwUpdateRef(ref.p, ref.g, ref.m, ref.v, start, end, { ...STEP, decay });
            be.adamwUpdate(p, g, m, v, start, end, { ...STEP, decay });
          }
          assert.deepEqual([p, m, v], [ref.p, ref.m, ref.v], `n ${n} decay ${decay} ${where}`);
        }
      }
    }
  });

  it("on 2 threads (split into tasks): AdamW and scaling equal the reference, the sum of squares equals 1 thread's", async () => {
    const one = wasm(1);
    const two = wasm(2);
    await two.ready();
    const n = 300_007;
    const ref = moments(n);
    const [p, g, m, v] = [ref.p, ref.g, ref.m, ref.v].map((a) => place(two, a, "wasm"));
    adamwUpdateRef(ref.p, ref.g, ref.m, ref.v, 3, n - 1, STEP);
    two.adamwUpdate(p, g, m, v, 3, n - 1, STEP);
    assert.deepEqual([p, m, v], [ref.p, ref.m, ref.v]);
    assert.ok(two.tasksRun().reduce((a, b) => a + b, 0) > 1, "the update ran as several tasks");

    const x = seededValues(n, 9, -3, 3);
    const sum2 = two.sumSquares(place(two, x, "wasm+1"));
    assert.equal(one.sumSquares(place(one, x, "wasm")), sum2);
    const want = sumSquaresRef(x);
    assert.ok(Math.abs(sum2 - want) <= 1e-12 * want, `${sum2} vs ${want}`);

    const a = Float32Array.from(x);
    const b = place(two, x, "wasm");
    scaleInPlaceRef(a, 0.7);
    two.scaleInPlace(b, 0.7);
    assert.deepEqual(b, a);
  });

  it("sumSquares and scaleInPlace match the reference on small, empty and outside buffers", () => {
    const be = wasm(1);
    for (const n of [0, 1, 3, 4, 5, 1001]) {
      for (const where of PLACEMENTS) {
        const x = seededValues(n, n + 9, -3, 3);
        const want = sumSquaresRef(x);
        const got = be.sumSquares(place(be, x, where));
        assert.ok(Math.abs(got - want) <= 1e-12 * want, `n ${n} ${where}: ${got} vs ${want}`);
        const a = Float32Array.from(x);
        const b = place(be, x, where);
        scaleInPlaceRef(a, 0.3);
        be.scaleInPlace(b, 0.3);
        assert.deepEqual(b, a, `scale n ${n} ${where}`);
      }
    }
  });

  it("refuses ranges past the buffers or backwards, before touching memory", () => {
    const be = wasm(1);
    const a = be.alloc(8);
    const short = be.alloc(4);
    assert.throws(() => be.adamwUpdate(a, a, a, short, 0, 8, STEP), RangeError);
    assert.throws(() => be.adamwUpdate(a, a, a, a, 6, 2, STEP), RangeError);
    assert.throws(() => be.adamwUpdate(a, a, a, a, -1, 2, STEP), RangeError);
  });

  it("AdamW keeps its moments in the backend's memory and, with clipping, trains as the reference loops do", () => {
    const be = wasm(2);
    const n = 70_001; // split into tasks on 2 threads
    const segments = [
      { name: "w", offset: 0, length: 70_000, shape: [700, 100] },
      { name: "b", offset: 70_000, length: 1, shape: [1] },
    ];
    const run = (kernels: WasmBackend | undefined) => {
      const before = be.arena.usedBytes;
      const opt = new AdamW(segments, { weight_decay: 0.1, kernels });
      if (kernels) assert.ok(be.arena.usedBytes - before >= 2 * n * 4, "moments allocated in the arena");
      const p = kernels ? place(be, seededValues(n, 11), "wasm") : seededValues(n, 11);
      for (let step = 0; step < 4; step++) {
        const g = kernels ? place(be, seededValues(n, 20 + step, -5, 5), "wasm") : seededValues(n, 20 + step, -5, 5);
        assert.ok(clipGradNorm(g, 1, kernels) > 1);
        opt.step(p, g, 1e-2);
      }
      return p;
    };
    const fast = run(be);
    const ref = run(undefined);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(fast[i] - ref[i]) <= 1e-6 * (1 + Math.abs(ref[i])), `p[${i}]`);
  });

  for (const threads of [1, 2]) {
    for (const where of PLACEMENTS) {
      it(`sgdUpdate and the Adafactor kernels equal the reference exactly: ${threads} thread(s), buffers ${where}`, async () => {
        const be = wasm(threads);
        await be.ready();
        const before = be.tasksRun().reduce((a, b) => a + b, 0);
        checkSgdKernel(be, (v) => place(be, v, where));
        checkAdafactorKernels(be, (v) => place(be, v, where));
        if (threads === 2 && where !== "plain") assert.ok(be.tasksRun().reduce((a, b) => a + b, 0) - before > 1, "split into tasks");
      });
    }
  }

  it("the SGD and Adafactor kernels refuse tensors and ranges past their buffers", () => {
    const be = wasm(1);
    const a = be.alloc(12);
    const v = new Float64Array(4);
    assert.throws(() => be.sgdUpdate(a, a, be.alloc(4), 0, 12, { lr: 1, weightDecay: 0, momentum: 0.9, first: true }), RangeError);
    assert.throws(() => be.adafactorApply(a, a, { offset: 1, batch: 1, rows: 3, cols: 4 }, v, v, 1, 1), RangeError);
    assert.throws(() => be.adafactorStats(a, { offset: 0, batch: 1, rows: 5, cols: 2 }, 0, v, v), RangeError);
    assert.throws(() => be.adafactorSumSquares(a, { offset: 0, batch: 2, rows: 3, cols: 2 }, v, v), RangeError);
  });
});
