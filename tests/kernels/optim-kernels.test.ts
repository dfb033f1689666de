/**
 * The native SIMD optimizer and clipping kernels against their reference
 * twins in kernels/ref/optim.ts. Same operations in the same order and
 * precision (double arithmetic, float32 stores): AdamW must match exactly,
 * the sum of squares (eight partial sums instead of one) to 1e-12 relative.
 * SGD and Adafactor's kernels (native/src/optim.h) must equal theirs exactly
 * on 1 and 2 threads (sgd-adafactor-cases.ts).
 * Skipped where the native addon is not built.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { adamwUpdateRef, scaleInPlaceRef, sumSquaresRef, type AdamWStep } from "../../src/kernels/ref/optim.js";
import { clipGradNorm } from "../../src/train/optim/clip.js";
import { AdamW } from "../../src/train/optim/adamw.js";
import { checkAdafactorKernels, checkSgdKernel, type SgdAdafactorKernels } from "./sgd-adafactor-cases.js";
import { seededValues } from "./wasm-ops-helpers.js";
import { nativeAddonFor } from "./native-addon-skip.js";

const { skip } = nativeAddonFor("adamwUpdate", "its optimizer kernels");

describe("native optimizer kernels", { skip }, () => {
  const be = () => createNativeBackend({ threads: 1 });

  it("adamwUpdate equals the reference, with and without decay, on a sub-range", () => {
    const n = 1037; // not a multiple of any vector width
    for (const decay of [1, 1 - 1e-3 * 0.1]) {
      const h: AdamWStep = {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        stepSize: 1e-3 / (1 - 0.9 ** 3),
        bc2Sqrt: Math.sqrt(1 - 0.999 ** 3),
        decay,
      };
      const init = () => ({
        p: seededValues(n, 1),
        g: seededValues(n, 2),
        m: seededValues(n, 3, -0.1, 0.1),
        v: seededValues(n, 4, 0, 0.01),
      });
      const ref = init();
      const fast = init();
      for (let step = 0; step < 3; step++) {
        adamwUpdateRef(ref.p, ref.g, ref.m, ref.v, 5, n - 3, h);
        be().adamwUpdate?.(fast.p, fast.g, fast.m, fast.v, 5, n - 3, h);
      }
      assert.deepEqual(fast.p, ref.p);
      assert.deepEqual(fast.m, ref.m);
      assert.deepEqual(fast.v, ref.v);
    }
  });

  it("adamwUpdate refuses a range past the buffers", () => {
    const a = new Float32Array(8);
    const h: AdamWStep = { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 1, bc2Sqrt: 1, decay: 1 };
    assert.throws(() => be().adamwUpdate?.(a, a, a, new Float32Array(4), 0, 8, h), RangeError);
  });

  it("sumSquares and scaleInPlace match the reference", () => {
    for (const n of [0, 1, 7, 8, 1001]) {
      const x = seededValues(n, n + 9, -3, 3);
      const want = sumSquaresRef(x);
      const got = be().sumSquares?.(x) ?? Number.NaN;
      assert.ok(Math.abs(got - want) <= 1e-12 * want, `n ${n}: ${got} vs ${want}`);
      const a = Float32Array.from(x);
      const b = Float32Array.from(x);
      scaleInPlaceRef(a, 0.3);
      be().scaleInPlace?.(b, 0.3);
      assert.deepEqual(b, a);
    }
  });

  it("on 2 threads (arrays large enough to be split): AdamW equals the reference, the norm equals 1 thread's", () => {
    const n = 300_007;
    const h: AdamWStep = { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 1e-3, bc2Sqrt: 0.05, decay: 0.999 };
    const p = seededValues(n, 1);
    const g = seededValues(n, 2);
    const m = seededValues(n, 3, -0.1, 0.1);
    const v = seededValues(n, 4, 0, 0.01);
    const ref = [p, g, m, v].map((a) => Float32Array.from(a));
    adamwUpdateRef(ref[0], ref[1], ref[2], ref[3], 3, n - 1, h);
    const two = createNativeBackend({ threads: 2 });
    two.adamwUpdate?.(p, g, m, v, 3, n - 1, h);
    assert.deepEqual([p, m, v], [ref[0], ref[2], ref[3]]);
    const x = seededValues(n, 9, -3, 3);
    const sum2 = two.sumSquares?.(x) ?? Number.NaN;
    assert.equal(be().sumSquares?.(x), sum2);
    assert.ok(Math.abs(sum2 - sumSquaresRef(x)) <= 1e-12 * sum2);
    const a = Float32Array.from(x);
    scaleInPlaceRef(a, 0.7);
    two.scaleInPlace?.(x, 0.7);
    assert.deepEqual(x, a);
  });

  it("AdamW and clipGradNorm give the same numbers with the native kernels as without", () => {
    const n = 300;
    const segments = [
      { name: "w", offset: 0, length: 200, shape: [10, 20] },
      { name: "b", offset: 200, length: 100, shape: [100] },
    ];
    const run = (withKernels: boolean) => {
      const kernels = withKernels ? be() : undefined;
      const opt = new AdamW(segments, { weight_decay: 0.1, kernels });
      const p = seededValues(n, 11);
      for (let step = 0; step < 4; step++) {
        const g = seededValues(n, 20 + step, -5, 5);
        const norm = clipGradNorm(g, 1, kernels);
        assert.ok(norm > 1);
        opt.step(p, g, 1e-2);
      }
      return p;
    };
    const fast = run(true);
    const ref = run(false);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(fast[i] - ref[i]) <= 1e-6 * (1 + Math.abs(ref[i])), `p[${i}]`);
  });

  for (const threads of [1, 2]) {
    it(`sgdUpdate and the Adafactor kernels equal the reference exactly on ${threads} thread(s)`, (t) => {
      const k = createNativeBackend({ threads });
      if (!k.sgdUpdate) {
        t.skip("the native addon predates its SGD/Adafactor kernels: npm run build:native");
        return;
      }
      checkSgdKernel(k as SgdAdafactorKernels);
      checkAdafactorKernels(k as SgdAdafactorKernels);
    });
  }

  it("the SGD and Adafactor kernels refuse tensors and ranges past their buffers", (t) => {
    const k = be();
    if (!k.adafactorApply || !k.sgdUpdate) {
      t.skip("the native addon predates its SGD/Adafactor kernels");
      return;
    }
    const a = new Float32Array(12);
    const v = new Float64Array(4);
    const h = { lr: 1, weightDecay: 0, momentum: 0.9, first: true };
    assert.throws(() => k.sgdUpdate?.(a, a, new Float32Array(4), 0, 12, h), RangeError);
    assert.throws(() => k.adafactorApply?.(a, a, { offset: 1, batch: 1, rows: 3, cols: 4 }, v, v, 1, 1), RangeError);
    assert.throws(() => k.adafactorStats?.(a, { offset: 0, batch: 1, rows: 5, cols: 2 }, 0, v, v), RangeError);
    assert.throws(() => k.adafactorSumSquares?.(a, { offset: 0, batch: 2, rows: 3, cols: 2 }, v, v), RangeError);
  });
});
