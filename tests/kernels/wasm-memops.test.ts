/**
 * The WASM block copy and column sums (assembly/memops.ts, split over the
 * pool by kernels/wasm/memops.ts) against kernels/ref/memops.ts: one f32 copy
 * or add per value in the reference's order, so equal bit for bit, on 1 and 2
 * threads, for buffers in WASM memory (aligned or not) and outside it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { colSumsAccRef, copyBlocksRef, rows, run } from "../../src/kernels/ref/memops.js";
import { COPY_CASES as CASES } from "./memops-cases.js";
import { wasmAvailability } from "../../src/kernels/wasm/index.js";
import { place, PLACEMENTS, seededValues, wasmByThreads } from "./wasm-ops-helpers.js";

const available = wasmAvailability();
const wasm = wasmByThreads();

describe("wasm block copy and column sums", { skip: available.ok ? false : available.reason }, () => {
  for (const [name, nd, ns, b] of CASES) {
    for (const accumulate of [false, true]) {
      it(`${name}${accumulate ? " (accumulating)" : ""} equals the reference on 1 and 2 threads, every placement`, async () => {
        const src = seededValues(ns, ns);
        const want = seededValues(nd, nd);
        copyBlocksRef(want, src, { ...b, accumulate });
        for (const threads of [1, 2]) {
          const be = wasm(threads);
          await be.ready();
          for (const where of PLACEMENTS) {
            const got = place(be, seededValues(nd, nd), where);
            be.copyBlocks(got, place(be, src, where), { ...b, accumulate });
            assert.deepEqual(got, want, `threads ${threads} ${where}`);
          }
        }
      });
    }
  }

  it("column sums equal the reference (row order, float32 adds) on 1 and 2 threads, every placement", async () => {
    for (const [M, N] of [
      [1, 1],
      [5, 13],
      [449, 1536],
      [3, 70_001],
    ] as const) {
      const x = seededValues(M * N, M + N, -3, 3);
      const want = seededValues(N, 4);
      colSumsAccRef(want, x, M, N);
      for (const threads of [1, 2]) {
        const be = wasm(threads);
        await be.ready();
        for (const where of PLACEMENTS) {
          const got = place(be, seededValues(N, 4), where);
          be.colSumsAcc(got, place(be, x, where), M, N);
          assert.deepEqual(got, want, `${M}x${N} threads ${threads} ${where}`);
        }
      }
    }
  });

  it("a large copy runs as several tasks on 2 threads", async () => {
    const be = wasm(2);
    await be.ready();
    const before = be.tasksRun().reduce((a, c) => a + c, 0);
    const n = 449 * 1536;
    be.copyBlocks(be.alloc(n), be.alloc(n), rows(0, 1536, 0, 1536, 449, 1536, true));
    assert.ok(be.tasksRun().reduce((a, c) => a + c, 0) - before > 1);
  });

  it("refuses a copy that reaches past either buffer, negative or fractional strides, short column-sum buffers", () => {
    const be = wasm(1);
    const a = be.alloc(10);
    assert.throws(() => be.copyBlocks(a, be.alloc(10), run(5, 0, 6, false)), RangeError);
    assert.throws(() => be.copyBlocks(a, be.alloc(4), run(0, 0, 5, false)), RangeError);
    assert.throws(() => be.copyBlocks(a, be.alloc(10), rows(0, 2 ** 52, 0, 1, 2, 1, false)), RangeError);
    assert.throws(() => be.copyBlocks(a, be.alloc(10), rows(0, -1, 0, 1, 2, 1, false)), RangeError);
    assert.throws(() => be.copyBlocks(a, be.alloc(10), rows(0, 1.5, 0, 1, 2, 1, false)), RangeError);
    assert.throws(() => be.colSumsAcc(be.alloc(2), a, 4, 3), RangeError);
    const untouched = be.alloc(3);
    be.copyBlocks(untouched, a, rows(0, 1, 0, 1, 0, 1, false));
    assert.deepEqual(untouched, new Float32Array(3));
  });
});
