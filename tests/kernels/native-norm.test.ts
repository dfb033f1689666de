/**
 * The native SIMD layer norm and RMS norm kernels against their reference
 * twins (kernels/ref/layernorm.ts, ref/rmsnorm.ts): same formulas in double
 * precision, row sums in four partial sums instead of one, so within 1e-6
 * relative. Row lengths that are and are not multiples of the vector width;
 * backward accumulates; null gradients are skipped; short buffers are refused.
 * Skipped where the addon is not built (or predates these kernels).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadNativeAddon } from "../../src/kernels/native/addon.js";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { layernormBackward, layernormForward } from "../../src/kernels/ref/layernorm.js";
import { rmsnormBackward, rmsnormForward } from "../../src/kernels/ref/rmsnorm.js";
import { assertClose, seededValues } from "./wasm-ops-helpers.js";

const load = loadNativeAddon();
const skip = !load.ok
  ? load.reason
  : typeof load.addon.layernormForward !== "function"
    ? "the native addon predates its norm kernels: npm run build:native"
    : false;
const TOL = 1e-6;

describe("native norm kernels", { skip }, () => {
  const be = () => createNativeBackend({ threads: 1 });

  for (const [N, C] of [
    [3, 8],
    [5, 13],
    [2, 384],
  ] as const) {
    it(`layer norm forward and backward match the reference (N ${N}, C ${C}, with and without bias)`, () => {
      const x = seededValues(N * C, C, -3, 3);
      const w = seededValues(C, C + 1, 0.5, 1.5);
      const dout = seededValues(N * C, C + 2);
      for (const bias of [seededValues(C, C + 3), null]) {
        const run = (fwd: typeof layernormForward, bwd: typeof layernormBackward) => {
          const out = new Float32Array(N * C);
          const mean = new Float32Array(N);
          const rstd = new Float32Array(N);
          fwd(out, mean, rstd, x, w, bias, N, C, 1e-5);
          const dx = seededValues(N * C, 9);
          const dw = seededValues(C, 10);
          const db = seededValues(C, 11);
          bwd(dx, dw, db, dout, x, w, mean, rstd, N, C);
          return [out, mean, rstd, dx, dw, db];
        };
        const ref = run(layernormForward, layernormBackward);
        const fast = run(be().layernormForward ?? layernormForward, be().layernormBackward ?? layernormBackward);
        ["out", "mean", "rstd", "dx", "dw", "db"].forEach((name, i) =>
          assertClose(fast[i], ref[i], TOL, `${name} (bias ${bias !== null})`),
        );
      }
    });

    it(`RMS norm forward and backward match the reference (N ${N}, C ${C})`, () => {
      const x = seededValues(N * C, C, -3, 3);
      const w = seededValues(C, C + 1, 0.5, 1.5);
      const dout = seededValues(N * C, C + 2);
      const run = (fwd: typeof rmsnormForward, bwd: typeof rmsnormBackward) => {
        const out = new Float32Array(N * C);
        const rstd = new Float32Array(N);
        fwd(out, rstd, x, w, N, C, 1e-6);
        const dx = seededValues(N * C, 9);
        const dw = seededValues(C, 10);
        bwd(dx, dw, dout, x, w, rstd, N, C);
        return [out, rstd, dx, dw];
      };
      const ref = run(rmsnormForward, rmsnormBackward);
      const fast = run(be().rmsnormForward ?? rmsnormForward, be().rmsnormBackward ?? rmsnormBackward);
      ["out", "rstd", "dx", "dw"].forEach((name, i) => assertClose(fast[i], ref[i], TOL, name));
    });
  }

  it("backward skips null gradients and refuses short buffers", () => {
    const N = 2;
    const C = 5;
    const x = seededValues(N * C, 1);
    const w = seededValues(C, 2);
    const mean = new Float32Array(N);
    const rstd = new Float32Array(N);
    const b = be();
    b.layernormForward?.(new Float32Array(N * C), mean, rstd, x, w, null, N, C, 1e-5);
    const dx = new Float32Array(N * C);
    b.layernormBackward?.(dx, null, null, x, x, w, mean, rstd, N, C);
    assert.ok(dx.some((v) => v !== 0));
    assert.throws(() => b.layernormForward?.(new Float32Array(N * C - 1), mean, rstd, x, w, null, N, C, 1e-5), RangeError);
    assert.throws(() => b.rmsnormForward?.(new Float32Array(N * C), rstd, x, new Float32Array(C - 1), N, C, 1e-6), RangeError);
  });
});
