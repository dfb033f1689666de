/**
 * The native addon's GELU/SiLU and row-softmax kernels (native/src/pointwise.h)
 * against the references, on 1 and 2 threads, AVX2 and plain C (child
 * process with RRHF_SMALL_GEMM=plain); NaN rows; short buffers refused.
 * Skipped where the addon is not built (or predates these kernels).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { checkNativePointwise } from "./native-pointwise-cases.js";
import { nativeAddonFor } from "./native-addon-skip.js";

const { skip } = nativeAddonFor("geluForward", "its pointwise kernels");

describe("native pointwise and row-softmax kernels", { skip }, () => {
  it("match the reference, the same on 1 and 2 threads", () => {
    checkNativePointwise("native");
  });

  it("the plain C loops (RRHF_SMALL_GEMM=plain) match the reference too", () => {
    const cases = new URL("./native-pointwise-cases.js", import.meta.url).href;
    const script = `import { checkNativePointwise } from ${JSON.stringify(cases)}; checkNativePointwise("plain C"); console.log("checked");`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, RRHF_SMALL_GEMM: "plain" },
      encoding: "utf8",
    });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /checked/);
  });

  it("a row holding NaN has a NaN log-sum-exp; the other rows are untouched by it", () => {
    const be = createNativeBackend({ threads: 2 });
    const C = 20;
    const x = new Float32Array(2 * C).fill(1);
    x[C + 9] = Number.NaN;
    const lse = new Float32Array(2);
    be.logSumExpRows?.(lse, x, 2, C);
    assert.ok(Math.abs(lse[0] - (1 + Math.log(C))) < 1e-5);
    assert.ok(Number.isNaN(lse[1]));
  });

  it("refuses buffers shorter than the call reads or writes", () => {
    const be = createNativeBackend({ threads: 1 });
    const short = new Float32Array(3);
    const ok = new Float32Array(8);
    assert.throws(() => be.geluForward?.(short, ok, 8), RangeError);
    assert.throws(() => be.geluBackward?.(ok, ok, short, 8), RangeError);
    assert.throws(() => be.logSumExpRows?.(short, ok, 4, 2), RangeError);
    assert.throws(() => be.scaledSoftmaxRows?.(ok, ok, short, 4, 2), RangeError);
    assert.throws(() => be.siluForward?.(ok, ok, -1), RangeError);
  });
});
