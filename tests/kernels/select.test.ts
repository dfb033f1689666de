import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import { loadNativeAddon } from "../../src/kernels/native/index.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { describeBackends, getBackend } from "../../src/kernels/select.js";
import { wasmAvailability, type WasmBackend } from "../../src/kernels/wasm/index.js";

const opened: WasmBackend[] = [];
after(() => Promise.all(opened.map((b) => b.close())));

describe("backend selection", () => {
  it("gives the reference backend for 'ref'", () => {
    assert.equal(getBackend("ref"), refBackend);
  });

  it("picks native when its addon loads, else wasm, else ref for 'auto'", () => {
    const be = getBackend("auto", { threads: 1 });
    const expected = loadNativeAddon().ok ? "native" : wasmAvailability().ok ? "wasm" : "ref";
    assert.equal(be.name, expected);
    if (be.name === "wasm") opened.push(be as WasmBackend);
  });

  it("returns one instance per name and options", () => {
    if (!wasmAvailability().ok) return;
    const a = getBackend("wasm", { threads: 1 });
    opened.push(a as WasmBackend);
    assert.equal(getBackend("wasm", { threads: 1 }), a);
    assert.equal(a.name, "wasm");
  });

  it("rejects unknown names and unavailable backends with a UserError", () => {
    assert.throws(
      () => getBackend("cuda"),
      (e: unknown) => e instanceof UserError && /unknown backend 'cuda'/.test(e.message),
    );
    const native = loadNativeAddon();
    if (!native.ok) {
      assert.throws(
        () => getBackend("native"),
        (e: unknown) => e instanceof UserError && e.message.includes(native.reason),
      );
    }
    assert.throws(() => getBackend("wasm", { threads: 0 }), UserError);
  });

  it("describes every backend, with a reason for each unavailable one", () => {
    const info = describeBackends();
    assert.deepEqual(
      info.map((b) => b.name),
      ["native", "wasm", "ref"],
    );
    for (const b of info) {
      if (b.available) assert.ok(b.detail && b.detail.length > 0);
      else assert.ok(b.reason && b.reason.length > 0);
    }
    assert.equal(info[0].available, loadNativeAddon().ok);
  });
});
