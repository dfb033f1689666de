/**
 * Op-level micro timings of the non-matmul kernels of a training step, fast
 * kernel beside its reference twin, on the small benchmark shape (GPT-2
 * 6 x 384, one query of 193 tokens + 4 responses of 64, packed with the
 * query shared): attention forward/backward, the optimizer update, the
 * gradient norm. Short: meant for A/B while optimising, not for the record.
 *
 *   npm run build && node dist/bench/ops.js [--reps 20] [--threads 1]
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Backend } from "../src/kernels/backend.js";
import { gemmAttentionBackward, gemmAttentionForward } from "../src/kernels/gemm-attention.js";
import type { AttentionDims } from "../src/kernels/ref/attention.js";
import { attentionBackward, attentionForward } from "../src/kernels/ref/attention.js";
import { adamwUpdateRef, type AdamWStep } from "../src/kernels/ref/optim.js";
import { getBackend } from "../src/kernels/select.js";
import { clipGradNorm } from "../src/train/optim/clip.js";

const { values } = parseArgs({ options: { reps: { type: "string", default: "20" }, threads: { type: "string", default: "1" } } });
const reps = Number(values.reps);
const threads = Number(values.threads);

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2 ** 32 - 0.5;
  }
  return out;
}

/** Median milliseconds of `reps` runs after one warm-up. */
function time(label: string, fn: () => void): void {
  fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(48)} ${ms[Math.floor(ms.length / 2)].toFixed(3)} ms`);
}

function smallShapeAttention(): AttentionDims {
  const starts = Int32Array.of(0, 193, 257, 321, 385, 449);
  const T = 449;
  const segmentOf = new Int32Array(T);
  for (let i = 0; i + 1 < starts.length; i++) segmentOf.fill(i, starts[i], starts[i + 1]);
  const segments = { starts, segmentOf, contextStarts: Int32Array.of(0, 0, 0, 0, 0), contextEnds: Int32Array.of(0, 193, 193, 193, 193) };
  return { B: 1, Hq: 6, Hkv: 6, T, S: T, D: 64, past: 0, scale: 1 / 8, keyLengths: null, keyMask: null, segments };
}

function attention(be: Backend): void {
  const d = smallShapeAttention();
  const n = d.Hq * d.T * d.D;
  const q = be.alloc(n);
  q.set(rand(n, 1));
  const k = be.alloc(n);
  k.set(rand(n, 2));
  const v = be.alloc(n);
  v.set(rand(n, 3));
  const dout = be.alloc(n);
  dout.set(rand(n, 4));
  const out = be.alloc(n);
  const lse = be.alloc(d.Hq * d.T);
  const dq = be.alloc(n);
  const dk = be.alloc(n);
  const dv = be.alloc(n);
  const fused = be.name === "ref" ? { f: attentionForward, b: attentionBackward } : null;
  if (fused) {
    time(`${be.name} attention forward (fused scalar)`, () => fused.f(out, lse, q, k, v, d));
    time(`${be.name} attention backward (fused scalar)`, () => fused.b(dq, dk, dv, dout, q, k, v, out, lse, d));
  }
  time(`${be.name} attention forward (sgemm)`, () => gemmAttentionForward(be, out, lse, q, k, v, d));
  time(`${be.name} attention backward (sgemm)`, () => gemmAttentionBackward(be, dq, dk, dv, dout, q, k, v, out, lse, d));
}

function fusedWasmAttention(): void {
  const be = getBackend("wasm", { threads: 1 });
  const d = smallShapeAttention();
  const n = d.Hq * d.T * d.D;
  const [q, k, v, dout, out, dq, dk, dv] = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => {
    const a = be.alloc(n);
    a.set(rand(n, s));
    return a;
  });
  const lse = be.alloc(d.Hq * d.T);
  const f = be.attentionForward;
  const b = be.attentionBackward;
  if (!f || !b) return;
  time("wasm attention forward (fused SIMD kernel, 1 thread)", () => f.call(be, out, lse, q, k, v, d));
  time("wasm attention backward (fused SIMD kernel, 1 thread)", () => b.call(be, dq, dk, dv, dout, q, k, v, out, lse, d));
}

/** AdamW over the small shape's 14.2M parameters, and the gradient norm + clip, reference loop beside the native kernel. */
function optimizer(): void {
  const n = 14_186_496;
  const p = rand(n, 1);
  const g = rand(n, 2);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const h: AdamWStep = { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 1e-5, bc2Sqrt: 0.03, decay: 1 };
  time("ref AdamW update (TypeScript loop)", () => adamwUpdateRef(p, g, m, v, 0, n, h));
  time("ref gradient norm + clip (TypeScript loops)", () => clipGradNorm(g, 1e9));
  const native = getBackend("native", { threads });
  const update = native.adamwUpdate;
  if (update) time("native AdamW update (C SIMD)", () => update(p, g, m, v, 0, n, h));
  if (native.sumSquares) time("native gradient norm + clip (C SIMD)", () => clipGradNorm(g, 1e9, native));
}

console.log(`small shape, ${threads} thread(s), median of ${reps}`);
try {
  optimizer();
} catch (err) {
  console.log(`optimizer: ${(err as Error).message}`);
}
fusedWasmAttention();
for (const name of ["wasm", "native"] as const) {
  try {
    attention(getBackend(name, { threads }));
  } catch (err) {
    console.log(`${name}: ${(err as Error).message}`);
  }
}
process.exit(0);
