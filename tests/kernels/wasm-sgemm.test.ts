import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createWasmBackend, wasmAvailability, type WasmBackend } from "../../src/kernels/wasm/index.js";
import { repoRoot } from "../helpers.js";
import { checkAgainstRef, checkEdgeCases, checkOffsetViews, seeded } from "./sgemm-cases.js";

const available = wasmAvailability();
const backends: WasmBackend[] = [];
function make(opts: Parameters<typeof createWasmBackend>[0]): WasmBackend {
  const b = createWasmBackend(opts);
  backends.push(b);
  return b;
}
after(() => Promise.all(backends.map((b) => b.close())));

describe("wasm backend sgemm", { skip: available.ok ? false : available.reason }, () => {
  it("matches the reference on one thread (buffers in WASM memory)", () => {
    const be = make({ threads: 1 });
    checkAgainstRef(be, (n) => be.alloc(n), "wasm/1");
    checkEdgeCases(be, (n) => be.alloc(n), "wasm/1");
    checkOffsetViews(be, (n) => be.alloc(n), "wasm/1");
  });

  it("matches the reference with plain Float32Arrays (copy-in/copy-out path)", () => {
    const be = make({ threads: 1 });
    checkAgainstRef(be, (n) => new Float32Array(n), "wasm/1 foreign");
    checkEdgeCases(be, (n) => new Float32Array(n), "wasm/1 foreign");
    checkOffsetViews(be, (n) => new Float32Array(n), "wasm/1 foreign");
    // Temporaries of the copy path go back to the free lists: no growth on repeat.
    const used = be.arena.usedBytes;
    checkOffsetViews(be, (n) => new Float32Array(n), "wasm/1 foreign again");
    assert.equal(be.arena.usedBytes, used);
  });

  it("matches the reference split across 3 threads, every shape split", async () => {
    const be = make({ threads: 3, minParallelWork: 0 });
    await be.ready();
    checkAgainstRef(be, (n) => be.alloc(n), "wasm/3");
    checkEdgeCases(be, (n) => be.alloc(n), "wasm/3");
    checkOffsetViews(be, (n) => new Float32Array(n), "wasm/3 foreign");
  });

  it("really hands tasks to the worker threads", async () => {
    const be = make({ threads: 2, minParallelWork: 0 });
    await be.ready();
    const M = 256,
      N = 256,
      K = 256;
    const A = be.alloc(M * K),
      B = be.alloc(K * N),
      C = be.alloc(M * N);
    A.set(seeded(M * K, 1));
    B.set(seeded(K * N, 2));
    // The calling thread may win the race for both tasks now and then; over many
    // calls the woken worker must take some.
    for (let i = 0; i < 200 && be.tasksRun()[1] === 0; i++) be.sgemm(false, false, M, N, K, 1, A, B, 0, C);
    assert.ok(be.tasksRun()[1] > 0, `worker ran no task: ${be.tasksRun().join(",")}`);
  });

  it("lets the process exit while workers are idle (they are unref'd)", () => {
    const mod = join(repoRoot, "dist", "src", "kernels", "wasm", "index.js");
    const script =
      `const { createWasmBackend } = await import(${JSON.stringify(mod)});` +
      "const be = createWasmBackend({ threads: 2, minParallelWork: 0 }); await be.ready();" +
      "const a = be.alloc(64 * 64); be.sgemm(false, false, 64, 64, 64, 1, a, a, 0, be.alloc(64 * 64));" +
      "console.log('done');";
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.signal, null, "child had to be killed: workers kept it alive");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "done");
  });

  it("reads RRHF_THREADS and rejects bad values", () => {
    const mod = join(repoRoot, "dist", "src", "kernels", "wasm", "index.js");
    const script = `const { resolveThreadCount } = await import(${JSON.stringify(mod)}); console.log(resolveThreadCount());`;
    const run = (v: string) =>
      spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        env: { ...process.env, RRHF_THREADS: v },
        timeout: 30_000,
      });
    assert.equal(run("3").stdout.trim(), "3");
    const bad = run("two");
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /RRHF_THREADS=two: thread count must be an integer/);
  });
});
