import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import { ALIGN_BYTES, WasmArena, wasmAvailability } from "../../src/kernels/wasm/index.js";
import { wasmApi } from "../../src/kernels/wasm/wasm-api.js";

const available = wasmAvailability();

function arena(opts?: ConstructorParameters<typeof WasmArena>[1]): WasmArena {
  const api = wasmApi();
  assert.ok(api);
  return new WasmArena(api, opts);
}

function span(a: WasmArena, v: Float32Array): [number, number] {
  const off = a.offsetOf(v);
  assert.ok(off !== undefined, "view is inside the arena");
  return [off, off + v.byteLength];
}

describe("wasm arena allocator", { skip: available.ok ? false : available.reason }, () => {
  it("hands out zeroed, 64-byte aligned views inside the shared memory that never overlap", () => {
    const a = arena();
    const views = [0, 1, 3, 16, 17, 100, 1000, 4096, 70000, 300000].map((n) => a.alloc(n));
    for (const v of views) {
      assert.ok(v.buffer instanceof SharedArrayBuffer);
      assert.equal(span(a, v)[0] % ALIGN_BYTES, 0);
      assert.ok(v.every((x) => x === 0));
      v.fill(1);
    }
    const spans = views.map((v) => span(a, v)).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], "blocks overlap");
  });

  it("reuses a released block for the same size class, zero-filled again", () => {
    const a = arena();
    const x = a.alloc(1000);
    x.fill(7);
    const off = a.offsetOf(x);
    a.release(x);
    const y = a.alloc(990); // same size class as 1000
    assert.equal(a.offsetOf(y), off);
    assert.ok(y.every((v) => v === 0));
    const big = a.alloc(2_000_000);
    const bigOff = a.offsetOf(big);
    a.release(big);
    assert.equal(a.offsetOf(a.alloc(2_000_000)), bigOff, "large blocks are reused by equal sizes");
  });

  it("rejects double release and foreign buffers", () => {
    const a = arena();
    const x = a.alloc(10);
    a.release(x);
    assert.throws(() => a.release(x), /not a live block/);
    assert.throws(() => a.release(new Float32Array(10)), /not a live block/);
    assert.equal(a.offsetOf(new Float32Array(new SharedArrayBuffer(64))), undefined);
    assert.throws(() => a.alloc(-1), RangeError);
    assert.throws(() => a.alloc(1.5), RangeError);
  });

  it("grows on demand and old views stay valid and writable", () => {
    const a = arena({ initialBytes: 1 << 20 });
    const first = a.alloc(1000);
    first.fill(3);
    const before = a.byteLength;
    const big = a.alloc(8 << 20); // more than the whole initial memory
    assert.ok(a.byteLength > before, "memory grew");
    assert.ok(
      first.every((v) => v === 3),
      "old view still reads its data",
    );
    first[999] = 5;
    big[big.length - 1] = 9;
    assert.equal(first[999], 5);
    assert.equal(big[big.length - 1], 9);
    assert.notEqual(first.buffer, big.buffer, "new views use the grown buffer object");
    assert.ok(a.offsetOf(first) !== undefined && a.offsetOf(big) !== undefined, "both recognised as inside");
    a.release(first); // blocks from before the growth can still be released
  });

  it("reports exhaustion as a UserError naming the limit", () => {
    const a = arena({ initialBytes: 1 << 20, maximumBytes: 2 << 20 });
    assert.throws(
      () => a.alloc(4 << 20),
      (e: unknown) => e instanceof UserError && /out of memory/.test(e.message),
    );
  });
});
