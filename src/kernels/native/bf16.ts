/**
 * `--bf16` mixed precision on the native backend: matrix products go to the
 * addon's oneDNN bf16 matmul (A and B rounded to bfloat16 on every call, fp32
 * accumulation and output); weights, gradients, optimizer state and every
 * other op stay fp32. Available only where the addon was built with oneDNN
 * (libdnnl-dev) and the CPU has bf16 dot products (AVX512-BF16 or AMX).
 *
 * @example
 * const avail = bf16Availability();
 * if (!avail.ok) console.log(avail.reason);
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UserError } from "../../errors.js";
import { loadNativeAddon, type NativeAddon } from "./addon.js";

/**
 * Products with fewer multiply-adds (M*N*K) than this stay on OpenBLAS fp32:
 * below it rounding both inputs and oneDNN's per-call overhead (memory objects,
 * a parallel region) cost more than the faster bf16 dot products save. Read
 * off `node dist/bench/bf16_matmul.js` at 1 thread (bench/README.md): bf16 won
 * from 1.4M multiply-adds (attention's 150 x 150 x 64 products: 1.2-1.8x) up,
 * and lost below 0.4M (40 x 140 x 64 and 64 x 64 x 64: 0.8x).
 */
export const BF16_MIN_MACS = 1 << 20;

/**
 * Asks GNU OpenMP (oneDNN's threads) to sleep rather than spin while it waits
 * at a barrier — OMP_WAIT_POLICY=passive, unless the environment sets a
 * policy — and must run before the addon (and libgomp, which reads the
 * variable once, when it loads) is loaded; later it changes nothing. Measured
 * with `rrhf train --bf16 --threads 2` on the 2 shared cores of the
 * development machine (load average 7-10): 0.9 s/step passive against 11-18
 * s/step spinning, where a spinning thread held a core the other one needed;
 * at 1 thread the policy makes no difference.
 */
export function preferPassiveOpenMp(): void {
  process.env.OMP_WAIT_POLICY ??= "passive";
}

/** The hint every refusal of --bf16 ends with. */
const HOW_TO_GET_IT =
  "--bf16 needs the native backend built with oneDNN on a CPU with AVX512-BF16 or AMX (apt-get install libdnnl-dev, then npm run build:native)";

/**
 * Whether `--bf16` can run here: the addon's bf16 matmul, or why not.
 *
 * @example
 * bf16Availability(); // { ok: true, detail: "oneDNN 2.6.3, ISA avx512_core_bf16" }
 */
export function bf16Availability(): { ok: true; detail: string } | { ok: false; reason: string } {
  const load = loadNativeAddon();
  if (!load.ok) return { ok: false, reason: `the native addon is unavailable (${load.reason})` };
  const { sgemmBf16, bf16Config } = load.addon;
  if (!sgemmBf16 || !bf16Config) {
    return { ok: false, reason: `the native addon was built without oneDNN${builtWithoutReason()}` };
  }
  const config = bf16Config.call(load.addon);
  if (!config.hardware)
    return { ok: false, reason: `this CPU has no bf16 dot products (${config.detail}); oneDNN would emulate them, slower than fp32` };
  return { ok: true, detail: config.detail };
}

/** native/build/status.json: dist/src/kernels/native/bf16.js is four folders below the package root. */
const STATUS = fileURLToPath(new URL("../../../../native/build/status.json", import.meta.url));

/** Why native/build.cjs built the addon without oneDNN, as it recorded it (": reason"), or "". */
function builtWithoutReason(): string {
  try {
    const status = JSON.parse(readFileSync(STATUS, "utf8")) as { bf16?: { reason?: unknown } };
    return typeof status.bf16?.reason === "string" ? ` (${status.bf16.reason})` : "";
  } catch {
    return "";
  }
}

/** UserError for --bf16 where it cannot run: names the setting, why, and how to get it. */
export function bf16Unavailable(why: string): UserError {
  return new UserError(`--bf16 (bf16: true) is unavailable: ${why}. ${HOW_TO_GET_IT}`);
}

/**
 * The addon's bf16 sgemm on `threads` oneDNN threads, or a UserError saying why
 * --bf16 cannot run. The thread count is set on every call (one N-API call, far
 * cheaper than a product this size) because backends of other thread counts may
 * share the process.
 */
export function requireBf16Sgemm(addon: NativeAddon, threads: number): NativeAddon["sgemm"] {
  const avail = bf16Availability();
  if (!avail.ok) throw bf16Unavailable(avail.reason);
  const { sgemmBf16, setBf16Threads } = addon;
  if (!sgemmBf16 || !setBf16Threads) throw bf16Unavailable("the native addon was built without oneDNN");
  return (transA, transB, M, N, K, alpha, A, B, beta, C) => {
    setBf16Threads.call(addon, threads);
    sgemmBf16.call(addon, transA, transB, M, N, K, alpha, A, B, beta, C);
  };
}
