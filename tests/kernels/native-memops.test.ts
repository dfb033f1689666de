/**
 * The native block copy and column sums (native/src/memops.h) against their
 * reference loops (kernels/ref/memops.ts): bit for bit, on 1 and 2 threads
 * (sizes past the split point), with accumulation, broadcast (zero source
 * stride) and the head-swap pattern; reaches past a buffer are refused.
 * Skipped where the addon is not built (or predates these kernels).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createNativeBackend } from "../../src/kernels/native/backend.js";
import { colSumsAccRef, copyBlocksRef, rows, run } from "../../src/kernels/ref/memops.js";
import { COPY_CASES as CASES } from "./memops-cases.js";
import { seededValues } from "./wasm-ops-helpers.js";
import { nativeAddonFor } from "./native-addon-skip.js";

const { skip } = nativeAddonFor("copyBlocks", "its block copy");

describe("native block copy and column sums", { skip }, () => {
  for (const [name, nd, ns, b] of CASES) {
    for (const accumulate of [false, true]) {
      it(`${name}${accumulate ? " (accumulating)" : ""} equals the reference on 1 and 2 threads`, () => {
        const src = seededValues(ns, ns);
        const want = seededValues(nd, nd);
        copyBlocksRef(want, src, { ...b, accumulate });
        for (const threads of [1, 2]) {
          const got = seededValues(nd, nd);
          createNativeBackend({ threads }).copyBlocks?.(got, src, { ...b, accumulate });
          assert.deepEqual(got, want, `threads ${threads}`);
        }
      });
    }
  }

  it("column sums equal the reference (row order, float32 adds) on 1 and 2 threads", () => {
    for (const [M, N] of [
      [1, 1],
      [5, 13],
      [449, 1536],
    ] as const) {
      const x = seededValues(M * N, M + N, -3, 3);
      const want = seededValues(N, 4);
      colSumsAccRef(want, x, M, N);
      for (const threads of [1, 2]) {
        const got = seededValues(N, 4);
        createNativeBackend({ threads }).colSumsAcc?.(got, x, M, N);
        assert.deepEqual(got, want, `${M}x${N} threads ${threads}`);
      }
    }
  });

  it("refuses a copy that reaches past either buffer, and huge strides", () => {
    const be = createNativeBackend({ threads: 1 });
    const a = new Float32Array(10);
    assert.throws(() => be.copyBlocks?.(a, a.slice(), run(5, 0, 6, false)), RangeError);
    assert.throws(() => be.copyBlocks?.(a, new Float32Array(4), run(0, 0, 5, false)), RangeError);
    assert.throws(() => be.copyBlocks?.(a, a.slice(), rows(0, 2 ** 52, 0, 1, 2, 1, false)), RangeError);
    assert.throws(() => be.colSumsAcc?.(new Float32Array(2), a, 4, 3), RangeError);
    const untouched = new Float32Array(3);
    be.copyBlocks?.(untouched, a, rows(0, 1, 0, 1, 0, 1, false));
    assert.deepEqual(untouched, new Float32Array(3));
  });
});
