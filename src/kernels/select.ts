import type { Backend } from "./backend.js";
import { UserError } from "../errors.js";
import { refBackend } from "./ref/index.js";
import { createWasmBackend, type WasmBackendOptions } from "./wasm/backend.js";
import { wasmAvailability } from "./wasm/simd-support.js";
import { resolveThreadCount } from "./wasm/thread-count.js";
import { createNativeBackend } from "./native/backend.js";
import { loadNativeAddon } from "./native/addon.js";
import { bf16Availability, bf16Unavailable, preferPassiveOpenMp } from "./native/bf16.js";

/**
 * The name of a backend, as `--backend` and `getBackend` take it ("auto" picks the fastest available).
 *
 * @example
 * const name: BackendName = "auto";
 * const model = loadCausalLM("tests/fixtures/models/gpt2-tiny", { backend: name });
 */
export type BackendName = "auto" | "wasm" | "native" | "ref";
/**
 * Every backend name `getBackend` and `--backend` accept.
 *
 * @example
 * if (!BACKEND_NAMES.includes(name as BackendName)) throw new Error(`expected one of ${BACKEND_NAMES.join(", ")}`);
 */
export const BACKEND_NAMES: readonly BackendName[] = ["auto", "native", "wasm", "ref"];

/**
 * Options of `getBackend`.
 *
 * @example
 * const be = getBackend("auto", { threads: 2 } satisfies BackendOptions);
 */
export interface BackendOptions extends WasmBackendOptions {
  /** Kernel threads (default: env RRHF_THREADS, else CPUs capped at 8). */
  threads?: number;
  /** `--bf16`: bf16 matrix products (native backend with oneDNN only; anything else is a UserError). */
  bf16?: boolean;
  /** `--release-memory`: the native backend maps large buffers on huge pages and offers `Backend.discard` (where it can). */
  releaseMemory?: boolean;
}

/**
 * Whether one backend works in this process, and why not (from `describeBackends`).
 *
 * @example
 * const native: BackendInfo | undefined = describeBackends().find((b) => b.name === "native");
 * if (!native?.available) console.log(native?.reason);
 */
export interface BackendInfo {
  name: "native" | "wasm" | "ref";
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
  /** What it is, when available (e.g. the OpenBLAS build). */
  detail?: string;
}

// One instance per name and options: a WASM backend owns a memory and worker threads.
const instances = new Map<string, Backend>();

/**
 * The compute backend to use. "auto" picks native (OpenBLAS) when its addon
 * loads, else wasm (SIMD + threads) when the runtime supports it, else ref
 * (plain TypeScript). Asking for an unavailable one throws UserError with the reason.
 *
 * @example
 * const be = getBackend("auto", { threads: 2 });
 * const C = be.alloc(M * N);
 * be.sgemm(false, false, M, N, K, 1, A, B, 0, C);
 */
export function getBackend(name: BackendName | string, opts: BackendOptions = {}): Backend {
  if (opts.bf16) preferPassiveOpenMp();
  const resolved = resolveName(name);
  if (opts.bf16 && resolved !== "native") {
    const bf16 = bf16Availability();
    throw bf16Unavailable(name === "auto" && !bf16.ok ? bf16.reason : `--backend ${resolved} computes in fp32 only`);
  }
  const key = `${resolved}:${JSON.stringify(opts)}`;
  let backend = instances.get(key);
  if (!backend) {
    backend = create(resolved, opts);
    instances.set(key, backend);
  }
  return backend;
}

function resolveName(name: string): "native" | "wasm" | "ref" {
  switch (name) {
    case "auto":
      if (loadNativeAddon().ok) return "native";
      return wasmAvailability().ok ? "wasm" : "ref";
    case "native":
    case "wasm":
    case "ref":
      return name;
    default:
      throw new UserError(`unknown backend '${name}': expected one of ${BACKEND_NAMES.join(", ")}`);
  }
}

function create(name: "native" | "wasm" | "ref", opts: BackendOptions): Backend {
  if (name === "native") return createNativeBackend({ threads: opts.threads, bf16: opts.bf16, releaseMemory: opts.releaseMemory });
  if (name === "wasm") return createWasmBackend(opts);
  return refBackend;
}

/**
 * Which backends this process can use, and why not, for `--help`-style diagnostics.
 *
 * @example
 * console.table(describeBackends()); // name, available, reason or detail (e.g. the OpenBLAS build)
 */
export function describeBackends(): BackendInfo[] {
  const native = loadNativeAddon();
  const wasm = wasmAvailability();
  return [
    native.ok
      ? { name: "native", available: true, detail: `OpenBLAS: ${native.addon.config()}; --bf16: ${bf16Detail()}` }
      : { name: "native", available: false, reason: native.reason },
    wasm.ok
      ? { name: "wasm", available: true, detail: `SIMD128, ${defaultThreads()} by default` }
      : { name: "wasm", available: false, reason: wasm.reason },
    { name: "ref", available: true, detail: "plain TypeScript reference kernels" },
  ];
}

function bf16Detail(): string {
  const b = bf16Availability();
  return b.ok ? b.detail : `unavailable (${b.reason})`;
}

function defaultThreads(): string {
  try {
    return `${resolveThreadCount()} threads`;
  } catch (err) {
    return `? threads (${(err as Error).message})`;
  }
}
