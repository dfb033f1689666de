import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { InternalError, UserError } from "../../src/errors.js";
import type { Backend } from "../../src/kernels/backend.js";
import { createWasmBackend, wasmAvailability, WasmArena, type WasmBackend } from "../../src/kernels/wasm/index.js";
import { wasmApi } from "../../src/kernels/wasm/wasm-api.js";
import { BufferPool } from "../../src/tensor/pool.js";

const available = wasmAvailability();
const backends: WasmBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

describe("a wasm worker that dies mid-task", { skip: available.ok ? false : available.reason }, () => {
  it("turns sgemm into a clear error instead of a wait forever, and the backend stays refused", async () => {
    const be = createWasmBackend({ threads: 2, minParallelWork: 0 });
    backends.push(be);
    await be.ready();
    const M = 256,
      N = 256,
      K = 64;
    const A = be.alloc(M * K),
      B = be.alloc(K * N),
      C = be.alloc(M * N);
    be.killWorkerMidTaskForTests(1);
    const started = Date.now();
    let caught: unknown;
    // The calling thread may take every task of one call; the worker claims one within a few calls.
    for (let i = 0; i < 2000 && caught === undefined; i++) {
      try {
        be.sgemm(false, false, M, N, K, 1, A, B, 0, C);
      } catch (err) {
        caught = err;
      }
    }
    assert.ok(caught instanceof InternalError, `expected an InternalError, got ${String(caught)}`);
    assert.match(caught.message, /worker thread died mid-task \(1 of \d+ task\(s\) never finished\)/);
    assert.ok(Date.now() - started < 20_000, "took too long to notice the dead worker");
    assert.throws(() => be.sgemm(false, false, M, N, K, 1, A, B, 0, C), /cannot continue/);
  });

  it("refuses a kill request for a thread that does not exist", () => {
    const be = createWasmBackend({ threads: 2 });
    backends.push(be);
    assert.throws(() => be.killWorkerMidTaskForTests(0), RangeError);
    assert.throws(() => be.killWorkerMidTaskForTests(2), RangeError);
  });
});

describe("allocations that cannot be met say how much was asked", () => {
  it("wasm arena: beyond the maximum names the size needed", { skip: available.ok ? false : available.reason }, () => {
    const api = wasmApi();
    assert.ok(api);
    const arena = new WasmArena(api, { initialBytes: 1 << 20, maximumBytes: 4 << 20 });
    assert.throws(
      () => arena.alloc(2 << 20),
      (err: unknown) => err instanceof UserError && /out of memory \(8\.\d MiB needed, maximum 4\.0 MiB\)/.test(err.message),
    );
  });

  it("buffer pool: a backend that cannot allocate gives a UserError with the size", () => {
    const failing: Backend = {
      name: "failing",
      alloc: (n: number) => {
        throw new RangeError(`Array buffer allocation failed (${n})`);
      },
      release: () => {},
      sgemm: () => {},
    } as unknown as Backend;
    const pool = new BufferPool(failing);
    assert.throws(
      () => pool.acquire(3_000_000),
      (err: unknown) =>
        err instanceof UserError && /cannot allocate a buffer of 3145728 floats \(12\.0 MiB\) for 3000000 values/.test(err.message),
    );
  });
});
