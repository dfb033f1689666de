/**
 * bf16 against fp32 matmul through the native addon (what `--bf16` changes):
 * ms per call of `sgemm` (OpenBLAS fp32) and `sgemmBf16` (oneDNN, bf16 inputs
 * rounded on every call, fp32 accumulation) on the training shapes of the
 * `small` model and on the small products of attention, so the size below
 * which fp32 stays faster (BF16_MIN_MACS in src/kernels/native/bf16.ts) can be
 * read off. The two are interleaved within each repetition; median of --reps.
 * As the --bf16 backend does, bf16 runs on oneDNN with --threads threads while
 * OpenBLAS has one; at more than one thread the bench sleeps 200 ms between
 * the two, so the other library's idle workers have stopped spinning.
 *
 *   npm run build && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE node dist/bench/bf16_matmul.js [--reps 7] [--threads 1,2]
 */
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { loadNativeAddon } from "../src/kernels/native/addon.js";
import { BF16_MIN_MACS } from "../src/kernels/native/bf16.js";

const { values } = parseArgs({
  options: { reps: { type: "string", default: "7" }, threads: { type: "string", default: "1,2" } },
});
const reps = Math.max(1, Number(values.reps));
const threadCounts = values.threads.split(",").map(Number);

/** [label, M, N, K, transA, transB] */
type Shape = [string, number, number, number, boolean, boolean];
const SHAPES: Shape[] = [
  ["small qkv", 449, 1152, 384, false, false],
  ["small mlp.fc", 449, 1536, 384, false, false],
  ["small mlp.proj", 449, 384, 1536, false, false],
  ["small lm_head X.W^T", 256, 8192, 384, false, true],
  ["small mlp.fc dX", 449, 384, 1536, false, true],
  ["small mlp.fc dW", 384, 1536, 449, true, false],
  ["attn scores 150x150x64", 150, 150, 64, false, true],
  ["attn P.V 150x64x150", 150, 64, 150, false, false],
  ["attn dK 150x64x150", 150, 64, 150, true, false],
  ["attn scores 40x140x64", 40, 140, 64, false, true],
  ["attn scores 64x64x64", 64, 64, 64, false, true],
  ["M=16 x 384x1536", 16, 1536, 384, false, false],
  ["M=32 x 384x1536", 32, 1536, 384, false, false],
  ["M=64 x 384x384", 64, 384, 384, false, false],
  ["M=128 x 384x384", 128, 384, 384, false, false],
];

const load = loadNativeAddon();
if (!load.ok) throw new Error(`native addon unavailable: ${load.reason}`);
const addon = load.addon;
const { sgemmBf16, bf16Config, setBf16Threads } = addon;
if (!sgemmBf16 || !bf16Config || !setBf16Threads) throw new Error("the addon was built without oneDNN (no sgemmBf16)");
const bf16 = sgemmBf16.bind(addon);
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

function timeCall(f: () => void): number {
  // Enough calls for about 20 ms, so the small shapes are not timer noise.
  f();
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    const dt = performance.now() - t0;
    if (dt > 20 || n >= 1 << 16) return dt / n;
    n *= 4;
  }
}

console.log(
  `${bf16Config.call(addon).detail}; OpenBLAS ${addon.config()}; reps ${reps} (median); load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(`BF16_MIN_MACS = ${BF16_MIN_MACS}`);
console.log("| shape (M x N x K) | thr | MACs | fp32 ms | bf16 ms | bf16 speed-up |");
console.log("|---|---|---|---|---|---|");
for (const threads of threadCounts) {
  setBf16Threads.call(addon, threads);
  for (const [label, M, N, K, ta, tb] of SHAPES) {
    const A = Float32Array.from({ length: M * K }, () => Math.random() * 2 - 1);
    const B = Float32Array.from({ length: K * N }, () => Math.random() * 2 - 1);
    const C = new Float32Array(M * N);
    const f32: number[] = [];
    const b16: number[] = [];
    for (let r = 0; r < reps; r++) {
      if (threads > 1) pause(200);
      addon.setThreads(threads);
      f32.push(timeCall(() => addon.sgemm(ta, tb, M, N, K, 1, A, B, 0, C)));
      if (threads > 1) pause(200);
      addon.setThreads(1);
      b16.push(timeCall(() => bf16(ta, tb, M, N, K, 1, A, B, 0, C)));
    }
    const [a, b] = [median(f32), median(b16)];
    const macs = M * N * K;
    console.log(
      `| ${label}${ta ? " A^T" : ""}${tb ? " B^T" : ""} | ${threads} | ${macs} | ${a.toFixed(4)} | ${b.toFixed(4)} | ${(a / b).toFixed(2)}x |`,
    );
  }
}
console.log(
  `load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
