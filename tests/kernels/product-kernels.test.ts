/**
 * The same-shape product kernels (native/src/product.h; assembly/memops.ts on
 * WASM, split over its pool) against kernels/ref/product.ts. Both compute as
 * the reference does (an f32 multiply forward; the backward's sums in double,
 * rounded once), so every value must be equal: odd lengths, lengths split
 * over 2 threads, null gradients, one gradient buffer for both inputs (x * x),
 * WASM buffers aligned, unaligned and outside its memory.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Backend } from "../../src/kernels/backend.js";
import { createNativeBackend } from "../../src/kernels/native/index.js";
import { productBackwardRef, productForwardRef } from "../../src/kernels/ref/product.js";
import { createWasmBackend, wasmAvailability, type WasmBackend } from "../../src/kernels/wasm/index.js";
import { place, PLACEMENTS, type Placement, seededValues } from "./wasm-ops-helpers.js";
import { nativeAddonFor } from "./native-addon-skip.js";

const LENGTHS = [0, 1, 2, 3, 1037, 70_001];
const wasmBackends: WasmBackend[] = [];
after(() => Promise.all(wasmBackends.map((b) => b.close())));

type Put = (values: Float32Array) => Float32Array;

/** Checks one backend; `put` places a copy of the values where the backend reads them. */
function checkBackend(be: Backend, put: Put, what: string): void {
  for (const n of LENGTHS) {
    const a = seededValues(n, 1, -3, 3);
    const b = seededValues(n, 2, -3, 3);
    const dout = seededValues(n, 3);
    const want = new Float32Array(n);
    productForwardRef(want, a, b, n);
    const out = put(new Float32Array(n).fill(Number.NaN));
    be.productForward?.(out, put(a), put(b), n);
    assert.deepEqual(out, want, `${what} forward n ${n}`);
    for (const [wantA, wantB] of [
      [true, true],
      [true, false],
      [false, true],
    ]) {
      const da0 = seededValues(n, 4);
      const db0 = seededValues(n, 5);
      const [ra, rb] = [wantA ? Float32Array.from(da0) : null, wantB ? Float32Array.from(db0) : null];
      productBackwardRef(ra, rb, dout, a, b, n);
      const [ga, gb] = [wantA ? put(da0) : null, wantB ? put(db0) : null];
      be.productBackward?.(ga, gb, put(dout), put(a), put(b), n);
      assert.deepEqual([ga, gb], [ra, rb], `${what} backward n ${n} da ${wantA} db ${wantB}`);
    }
    // x * x: one gradient buffer takes both terms, in the reference's order.
    const ref = seededValues(n, 6);
    productBackwardRef(ref, ref, dout, a, a, n);
    const both = put(seededValues(n, 6));
    const x = put(a);
    be.productBackward?.(both, both, put(dout), x, x, n);
    assert.deepEqual(both, ref, `${what} backward of x * x, n ${n}`);
  }
}

const { skip: nativeSkip } = nativeAddonFor("productForward", "its product kernels");

describe("native product kernels", { skip: nativeSkip }, () => {
  for (const threads of [1, 2]) {
    it(`equal the reference on ${threads} thread(s)`, () => {
      checkBackend(createNativeBackend({ threads }), (v) => Float32Array.from(v), `native t${threads}`);
    });
  }

  it("refuse buffers shorter than n", () => {
    const be = createNativeBackend({ threads: 1 });
    const a = new Float32Array(8);
    assert.throws(() => be.productForward?.(a, a, new Float32Array(4), 8), RangeError);
    assert.throws(() => be.productBackward?.(new Float32Array(4), null, a, a, a, 8), RangeError);
  });
});

const wasm = wasmAvailability();
describe("wasm product kernels", { skip: wasm.ok ? false : wasm.reason }, () => {
  for (const threads of [1, 2]) {
    for (const where of PLACEMENTS) {
      it(`equal the reference on ${threads} thread(s), buffers ${where}`, async () => {
        const be = createWasmBackend({ threads });
        wasmBackends.push(be);
        await be.ready();
        checkBackend(be, (v) => place(be, v, where as Placement), `wasm t${threads} ${where}`);
      });
    }
  }

  it("refuse buffers shorter than n", () => {
    const be = createWasmBackend({ threads: 1 });
    wasmBackends.push(be);
    const a = be.alloc(8);
    assert.throws(() => be.productForward(a, a, be.alloc(4), 8), RangeError);
    assert.throws(() => be.productBackward(be.alloc(4), null, a, a, a, 8), RangeError);
  });
});
