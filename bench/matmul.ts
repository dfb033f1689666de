/**
 * Matmul benchmark: GFLOP/s of each available backend on GPT-2-sized sgemms,
 * at 1 and 2 threads. Backends are interleaved within each repetition (so a
 * noisy neighbour hurts them alike) and the median of the repetitions is shown.
 *
 *   npm run build && node dist/bench/matmul.js [--reps 5] [--threads 1,2]
 *       [--backends native,wasm] [--vocab-chunk 8192] [--with-ref]
 *
 * Compare with: /usr/bin/python3 bench/matmul_torch.py (same shapes and table).
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Backend } from "../src/kernels/backend.js";
import { createNativeBackend, loadNativeAddon } from "../src/kernels/native/index.js";
import { refBackend } from "../src/kernels/ref/index.js";
import { createWasmBackend, wasmAvailability, type WasmBackend } from "../src/kernels/wasm/index.js";
import { gpt2Shapes, median, tableHeader, tableRow, type MatmulShape } from "./matmul-shapes.js";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    threads: { type: "string", default: "1,2" },
    backends: { type: "string", default: "native,wasm" },
    "vocab-chunk": { type: "string", default: "8192" },
    "with-ref": { type: "boolean", default: false },
  },
});
const reps = Math.max(1, Number(values.reps));
const threadCounts = values.threads.split(",").map(Number);
const wanted = new Set(values.backends.split(","));
const shapes = gpt2Shapes(Number(values["vocab-chunk"]));

interface Config {
  backend: Backend;
  threads: number;
}
const configs: Config[] = [];
const wasmBackends: WasmBackend[] = [];
if (wanted.has("native")) {
  const load = loadNativeAddon();
  if (load.ok) for (const t of threadCounts) configs.push({ backend: createNativeBackend({ threads: t }), threads: t });
  else console.log(`native: skipped (${load.reason})`);
}
if (wanted.has("wasm")) {
  const avail = wasmAvailability();
  if (avail.ok) {
    for (const t of threadCounts) {
      const be = createWasmBackend({ threads: t });
      wasmBackends.push(be);
      configs.push({ backend: be, threads: t });
    }
  } else console.log(`wasm: skipped (${avail.reason})`);
}
if (values["with-ref"]) configs.push({ backend: refBackend, threads: 1 });
await Promise.all(wasmBackends.map((b) => b.ready()));

console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? "cpu"}, ${availableParallelism()} CPUs, ` +
    `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? "(unset)"}, reps=${reps} (median), ` +
    `load average ${loadavg()[0].toFixed(2)}`,
);
const native = loadNativeAddon();
if (native.ok) console.log(`OpenBLAS: ${native.addon.config()}`);
console.log(tableHeader());

function fill(buf: Float32Array, seed: number): void {
  let s = seed;
  for (let i = 0; i < buf.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    buf[i] = s / 2 ** 32 - 0.5;
  }
}

function timeOnce(c: Config, s: MatmulShape, A: Float32Array, B: Float32Array, C: Float32Array): number {
  const t0 = performance.now();
  c.backend.sgemm(s.transA, s.transB, s.M, s.N, s.K, 1, A, B, 0, C);
  return performance.now() - t0;
}

for (const s of shapes) {
  // Each backend reads its own buffers (WASM ones live in its memory).
  const bufs = configs.map((c) => {
    const A = c.backend.alloc(s.M * s.K),
      B = c.backend.alloc(s.K * s.N),
      C = c.backend.alloc(s.M * s.N);
    fill(A, 1);
    fill(B, 2);
    return { A, B, C };
  });
  const times: number[][] = configs.map(() => []);
  configs.forEach((c, i) => timeOnce(c, s, bufs[i].A, bufs[i].B, bufs[i].C)); // warm-up
  for (let r = 0; r < reps; r++) {
    configs.forEach((c, i) => {
      if (c.backend === refBackend && r > 0) return; // the reference is slow; one timing is enough
      times[i].push(timeOnce(c, s, bufs[i].A, bufs[i].B, bufs[i].C));
    });
  }
  configs.forEach((c, i) => {
    console.log(tableRow(s, c.backend.name, c.threads, median(times[i])));
    c.backend.release(bufs[i].A);
    c.backend.release(bufs[i].B);
    c.backend.release(bufs[i].C);
  });
}
await Promise.all(wasmBackends.map((b) => b.close()));
