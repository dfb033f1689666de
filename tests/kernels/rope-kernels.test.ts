/**
 * The native (native/src/rope.h) and WASM (assembly/rope.ts) RoPE kernels
 * against kernels/ref/rope.ts: both compute each value in double and round
 * once, as the reference's JavaScript does, so the results must be EQUAL BIT
 * FOR BIT (compared as raw float32 bits, so even a -0 for +0 fails). Odd T,
 * D/2 odd and even, B and H above 1, positions null (past + t, past > 0) and
 * given (left-padding-like), 1 and 2 WASM threads, buffers and tables inside
 * and outside WASM memory; the backward accumulates into dinp.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ropeInvFreq, ropeTableFromInvFreq } from "../../src/autodiff/ops/rope.js";
import type { Backend } from "../../src/kernels/backend.js";
import { createNativeBackend } from "../../src/kernels/native/index.js";
import { type RopeDims, ropeBackward, ropeForward } from "../../src/kernels/ref/rope.js";
import { createWasmBackend, type WasmBackend, wasmAvailability } from "../../src/kernels/wasm/index.js";
import { assertBitEqual, place, PLACEMENTS, seededValues } from "./wasm-ops-helpers.js";
import { nativeAddonFor } from "./native-addon-skip.js";

const MAX_POS = 200;

/** [B, H, T, D, positions mode, past]: "null" = past + t; "given" = seeded positions in [0, MAX_POS). */
const CASES: ReadonlyArray<readonly [number, number, number, number, "null" | "given", number]> = [
  [1, 1, 1, 2, "null", 0],
  [2, 3, 7, 10, "null", 5],
  [3, 2, 5, 6, "given", 0],
  [2, 9, 33, 64, "null", 0],
  [2, 4, 65, 64, "given", 0],
  [1, 3, 17, 128, "null", 60],
];

function positionsFor(B: number, T: number, seed: number): Int32Array {
  const p = new Int32Array(B * T);
  const r = seededValues(B * T, seed, 0, MAX_POS);
  for (let i = 0; i < p.length; i++) p[i] = Math.floor(r[i]);
  // Left padding repeats position 0 before the real tokens count up.
  if (T > 2) p.set([0, 0, 1], 0);
  return p;
}

/** Runs forward then backward of `be` (or the reference where be is null) and returns [out, dinp]. */
function runRope(be: Backend | null, dims: RopeDims, mode: "null" | "given", past: number, put: (a: Float32Array) => Float32Array) {
  const { B, H, T, D } = dims;
  const n = B * H * T * D;
  const table = ropeTableFromInvFreq(ropeInvFreq({ headDim: D, theta: 10000 }), MAX_POS);
  const positions = mode === "given" ? positionsFor(B, T, D + T) : null;
  const fwd = be?.ropeForward ?? ropeForward;
  const bwd = be?.ropeBackward ?? ropeBackward;
  const out = put(new Float32Array(n).fill(Number.NaN));
  fwd(out, put(seededValues(n, n, -3, 3)), put(table.cos), put(table.sin), positions, past, dims);
  const dinp = put(seededValues(n, n + 1));
  bwd(dinp, put(seededValues(n, n + 2)), put(table.cos), put(table.sin), positions, past, dims);
  return [out, dinp] as const;
}

const available = wasmAvailability();
const wasmBackends = new Map<number, WasmBackend>();
after(() => Promise.all([...wasmBackends.values()].map((b) => b.close())));
function wasm(threads: number): WasmBackend {
  let be = wasmBackends.get(threads);
  if (!be) {
    be = createWasmBackend({ threads });
    wasmBackends.set(threads, be);
  }
  return be;
}

describe("WASM RoPE kernels", { skip: available.ok ? false : available.reason }, () => {
  for (const [B, H, T, D, mode, past] of CASES) {
    it(`equal the reference bit for bit: B ${B} H ${H} T ${T} D ${D}, positions ${mode}, past ${past}; 1 and 2 threads, every placement`, async () => {
      const dims = { B, H, T, D };
      const [wantOut, wantDinp] = runRope(null, dims, mode, past, (a) => a);
      for (const threads of [1, 2]) {
        const be = wasm(threads);
        await be.ready();
        for (const where of PLACEMENTS) {
          const [out, dinp] = runRope(be, dims, mode, past, (a) => place(be, a, where));
          assertBitEqual(out, wantOut, `forward, threads ${threads}, ${where}`);
          assertBitEqual(dinp, wantDinp, `backward (accumulating), threads ${threads}, ${where}`);
        }
      }
    });
  }

  it("splits a large call over both threads, works in place, and refuses positions outside the tables", async () => {
    const be = wasm(2);
    await be.ready();
    const dims = { B: 2, H: 4, T: 65, D: 64 };
    const n = 2 * 4 * 65 * 64;
    const table = ropeTableFromInvFreq(ropeInvFreq({ headDim: 64, theta: 10000 }), MAX_POS);
    const before = be.tasksRun().reduce((a, c) => a + c, 0);
    const x = place(be, seededValues(n, 5), "wasm");
    const want = new Float32Array(n);
    ropeForward(want, x, table.cos, table.sin, null, 3, dims);
    be.ropeForward(x, x, table.cos, table.sin, null, 3, dims);
    assert.ok(be.tasksRun().reduce((a, c) => a + c, 0) - before > 1);
    assertBitEqual(x, want, "in place");
    assert.throws(() => be.ropeForward(x, x, table.cos, table.sin, null, MAX_POS - 64, dims), RangeError);
    const bad = new Int32Array(2 * 65).fill(MAX_POS);
    assert.throws(() => be.ropeForward(x, x, table.cos, table.sin, bad, 0, dims), RangeError);
    assert.throws(() => be.ropeForward(x, x, table.cos, table.sin, null, 0, { ...dims, D: 63 }), RangeError);
  });
});

const { skip: nativeSkip } = nativeAddonFor("ropeForward", "its RoPE kernels");

describe("native RoPE kernels", { skip: nativeSkip }, () => {
  for (const [B, H, T, D, mode, past] of CASES) {
    it(`equal the reference bit for bit: B ${B} H ${H} T ${T} D ${D}, positions ${mode}, past ${past}; 1 and 2 threads`, () => {
      const dims = { B, H, T, D };
      const [wantOut, wantDinp] = runRope(null, dims, mode, past, (a) => a);
      for (const threads of [1, 2]) {
        const [out, dinp] = runRope(createNativeBackend({ threads }), dims, mode, past, (a) => Float32Array.from(a));
        assertBitEqual(out, wantOut, `forward, threads ${threads}`);
        assertBitEqual(dinp, wantDinp, `backward (accumulating), threads ${threads}`);
      }
    });
  }

  it("works in place on a call large enough for threads, and refuses positions outside the tables or short buffers", () => {
    const be = createNativeBackend({ threads: 2 });
    const dims = { B: 4, H: 9, T: 65, D: 64 };
    const n = 4 * 9 * 65 * 64;
    const table = ropeTableFromInvFreq(ropeInvFreq({ headDim: 64, theta: 10000 }), MAX_POS);
    const x = seededValues(n, 5);
    const want = new Float32Array(n);
    ropeForward(want, x, table.cos, table.sin, null, 3, dims);
    be.ropeForward?.(x, x, table.cos, table.sin, null, 3, dims);
    assertBitEqual(x, want, "in place");
    assert.throws(() => be.ropeForward?.(x, x, table.cos, table.sin, null, MAX_POS - 64, dims), RangeError);
    const bad = new Int32Array(4 * 65).fill(-1);
    assert.throws(() => be.ropeForward?.(x, x, table.cos, table.sin, bad, 0, dims), RangeError);
    assert.throws(() => be.ropeForward?.(x.subarray(1), x, table.cos, table.sin, null, 0, dims), RangeError);
  });
});
