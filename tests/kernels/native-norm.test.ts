/**
 * The native layer norm and RMS norm kernels (native/src/norm.h) against their
 * reference twins (kernels/ref/layernorm.ts, ref/rmsnorm.ts). The kernels keep
 * the reference's double arithmetic and order (each row summed in order, each
 * weight/bias gradient column summed over the rows in order), so results must
 * be EQUAL BIT FOR BIT, compared as raw float32 bits, on 1 and 2 threads, with
 * the AVX2 sums and the portable C ones (a child process with
 * RRHF_SMALL_GEMM=plain). The inputs carry large values that cancel within a
 * row, so a sum taken in another order shows in the float32 results (the
 * earlier kernel's four partial sums did). Row counts that are and are not
 * multiples of the kernels' 8-row groups, shapes large enough to split over 2
 * threads, every combination of wanted gradients (native-norm-cases.ts);
 * backward accumulates; short buffers are refused. Skipped where the addon is
 * not built (or predates these kernels).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { checkNativeLayerNorm, checkNativeRmsNorm, SHAPES } from "./native-norm-cases.js";
import { assertBitEqual, seededValues } from "./wasm-ops-helpers.js";
import { nativeAddonFor } from "./native-addon-skip.js";

const { skip } = nativeAddonFor("layernormForward", "its norm kernels");

describe("native norm kernels", { skip }, () => {
  for (const [N, C] of SHAPES) {
    it(`layer norm and RMS norm, forward and backward, equal the reference bit for bit (N ${N}, C ${C}); 1 and 2 threads`, () => {
      checkNativeLayerNorm(N, C, "AVX2");
      checkNativeRmsNorm(N, C, "AVX2");
    });
  }

  it("the portable C sums (RRHF_SMALL_GEMM=plain) equal the reference bit for bit too", () => {
    const cases = new URL("./native-norm-cases.js", import.meta.url).href;
    const script = `import { checkNativeNorm } from ${JSON.stringify(cases)}; checkNativeNorm("plain C"); console.log("checked");`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, RRHF_SMALL_GEMM: "plain" },
      encoding: "utf8",
    });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /checked/);
  });

  it("N = 0 writes nothing; short buffers are refused", () => {
    const b = createNativeBackend({ threads: 2 });
    const w = seededValues(5, 2);
    b.layernormForward?.(new Float32Array(0), new Float32Array(0), new Float32Array(0), new Float32Array(0), w, null, 0, 5, 1e-5);
    const dw = seededValues(5, 3);
    const before = Float32Array.from(dw);
    b.rmsnormBackward?.(null, dw, new Float32Array(0), new Float32Array(0), w, new Float32Array(0), 0, 5);
    assertBitEqual(dw, before, "dw after N = 0");
    const [N, C] = [2, 5];
    const x = seededValues(N * C, 1);
    const mean = new Float32Array(N);
    const rstd = new Float32Array(N);
    assert.throws(() => b.layernormForward?.(new Float32Array(N * C - 1), mean, rstd, x, w, null, N, C, 1e-5), RangeError);
    assert.throws(() => b.layernormBackward?.(null, new Float32Array(C - 1), null, x, x, w, mean, rstd, N, C), RangeError);
    assert.throws(() => b.rmsnormForward?.(new Float32Array(N * C), rstd, x, new Float32Array(C - 1), N, C, 1e-6), RangeError);
    assert.throws(() => b.rmsnormBackward?.(new Float32Array(N * C), null, x, x, w, new Float32Array(N - 1), N, C), RangeError);
  });
});
