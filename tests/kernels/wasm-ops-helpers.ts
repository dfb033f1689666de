/**
 * Shared pieces of the WASM op-kernel tests: seeded data, the three ways a
 * buffer can reach a kernel (in WASM memory at a block start, in WASM memory
 * at an odd offset, a plain Float32Array taking the copy path) and the
 * closeness check.
 */
import assert from "node:assert/strict";
import { after } from "node:test";
import { createWasmBackend, type WasmBackend } from "../../src/kernels/wasm/index.js";

/** A getter for one single-threaded WASM backend, made on first use and closed after the file's tests. */
export function singleThreadWasm(): () => WasmBackend {
  let backend: WasmBackend | undefined;
  after(() => backend?.close());
  return () => (backend ??= createWasmBackend({ threads: 1 }));
}

/** A getter for one WASM backend per thread count, each made on first use and closed after the file's tests. */
export function wasmByThreads(): (threads: number) => WasmBackend {
  const backends = new Map<number, WasmBackend>();
  after(() => Promise.all([...backends.values()].map((b) => b.close())));
  return (threads) => {
    let be = backends.get(threads);
    if (!be) {
      be = createWasmBackend({ threads });
      backends.set(threads, be);
    }
    return be;
  };
}

/** Deterministic values in [lo, hi). */
export function seededValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

export type Placement = "wasm" | "wasm+1" | "plain";
export const PLACEMENTS: readonly Placement[] = ["wasm", "wasm+1", "plain"];

/** A copy of `values` placed as `where` says ("wasm+1": one float past a block start, so not 16-byte aligned). */
export function place(be: WasmBackend, values: Float32Array, where: Placement): Float32Array {
  if (where === "plain") return Float32Array.from(values);
  const extra = where === "wasm+1" ? 1 : 0;
  const block = be.alloc(values.length + extra);
  const view = block.subarray(extra, extra + values.length);
  view.set(values);
  return view;
}

/**
 * |actual - expected| <= tol * (1 + |expected|) for every entry (a relative
 * bound with an absolute floor of `tol` near zero); NaN must match NaN.
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: ${a}, expected NaN`);
      continue;
    }
    if (a === e) continue; // covers matching infinities
    assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}[${i}]: ${a}, expected ${e} (tol ${tol})`);
  }
}

/** Equal as raw float32 bits: sees every rounding difference and the sign of zero (deepEqual takes -0 for +0). */
export function assertBitEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  const bits = (a: Float32Array) => new Uint32Array(Float32Array.from(a).buffer);
  assert.deepEqual(bits(actual), bits(expected), what);
}

/** `assertBitEqual` for each named result; a null (gradient not asked for) must be null on both sides. */
export function assertAllBitEqual(got: Record<string, Float32Array | null>, want: Record<string, Float32Array | null>, what: string): void {
  for (const [name, expected] of Object.entries(want)) {
    const actual = got[name];
    if (expected === null || actual === null) assert.equal(actual, expected, `${what}: ${name}`);
    else assertBitEqual(actual, expected, `${what}: ${name}`);
  }
}
