import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { UserError } from "../../src/errors.js";
import { createNativeBackend, loadNativeAddon } from "../../src/kernels/native/index.js";
import { createWasmBackend } from "../../src/kernels/wasm/index.js";
import { checkAgainstRef, checkEdgeCases, checkOffsetViews, seeded } from "./sgemm-cases.js";

const load = loadNativeAddon();

describe("native (OpenBLAS) backend sgemm", () => {
  it("matches the reference on 1 and 2 OpenBLAS threads", (t) => {
    if (!load.ok) return t.skip(`native addon not built: ${load.reason}`);
    for (const threads of [1, 2]) {
      const be = createNativeBackend({ threads });
      assert.equal(load.addon.getThreads(), threads);
      checkAgainstRef(be, (n) => be.alloc(n), `native/${threads}`);
      checkEdgeCases(be, (n) => be.alloc(n), `native/${threads}`);
      checkOffsetViews(be, (n) => be.alloc(n), `native/${threads}`);
    }
  });

  it("works in place on views into WASM memory", async (t) => {
    if (!load.ok) return t.skip(`native addon not built: ${load.reason}`);
    const native = createNativeBackend({ threads: 1 });
    const wasm = createWasmBackend({ threads: 1 });
    try {
      checkOffsetViews(native, (n) => wasm.alloc(n), "native on wasm memory");
      const A = wasm.alloc(6),
        B = wasm.alloc(6),
        C = wasm.alloc(4);
      A.set(seeded(6, 1));
      B.set(seeded(6, 2));
      native.sgemm(false, false, 2, 2, 3, 1, A, B, 0, C);
      const viaWasm = new Float32Array(4);
      wasm.sgemm(false, false, 2, 2, 3, 1, A, B, 0, viaWasm);
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(C[i] - viaWasm[i]) < 1e-6);
    } finally {
      await wasm.close();
    }
  });

  it("the addon itself refuses buffers too short for the shapes", (t) => {
    if (!load.ok) return t.skip(`native addon not built: ${load.reason}`);
    const small = new Float32Array(3);
    assert.throws(() => load.addon.sgemm(false, false, 2, 2, 2, 1, small, small, 0, small), RangeError);
    assert.throws(
      () => load.addon.sgemm(false, false, 1, 1, 1, 1, new Float64Array(1) as unknown as Float32Array, small, 0, small),
      TypeError,
    );
  });

  it("the small-M path's AVX2 and plain C kernels (RRHF_SMALL_GEMM=avx2, =plain), OpenBLAS alone (=off) and OpenBLAS's own thread pool (RRHF_SGEMM_THREADS=openblas) match the reference too", (t) => {
    if (!load.ok) return t.skip(`native addon not built: ${load.reason}`);
    // The addon reads the variables once per process, so each mode runs in a child.
    const cases = new URL("./sgemm-cases.js", import.meta.url).href;
    const native = new URL("../../src/kernels/native/index.js", import.meta.url).href;
    const script = `import { checkAgainstRef } from ${JSON.stringify(cases)};
import { createNativeBackend } from ${JSON.stringify(native)};
for (const threads of [1, 2]) { const be = createNativeBackend({ threads }); checkAgainstRef(be, (n) => be.alloc(n), "native " + process.argv[1]); }
console.log("checked");`;
    for (const [name, value] of [
      ["RRHF_SMALL_GEMM", "avx2"],
      ["RRHF_SMALL_GEMM", "plain"],
      ["RRHF_SMALL_GEMM", "off"],
      ["RRHF_SGEMM_THREADS", "openblas"],
    ]) {
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, `${name}=${value}`], {
        env: { ...process.env, [name]: value },
        encoding: "utf8",
      });
      assert.equal(child.status, 0, `${name}=${value}: ${child.stderr}`);
      assert.match(child.stdout, /checked/);
    }
  });

  it("explains why when it is unavailable", (t) => {
    if (load.ok) return t.skip("native addon is built here");
    assert.throws(
      () => createNativeBackend(),
      (e: unknown) => e instanceof UserError && /native backend unavailable: /.test(e.message),
    );
  });
});
