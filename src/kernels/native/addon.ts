import { createRequire } from "node:module";

/** What the rrhf-native addon (native/src/rrhf_native.c) exports. */
export interface NativeAddon {
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array,
  ): void;
  /** OpenBLAS threads; process-wide (OpenBLAS has one pool). */
  setThreads(n: number): void;
  getThreads(): number;
  /** OpenBLAS build and detected core, e.g. "OpenBLAS 0.3.21 ... ; core Haswell". */
  config(): string;
}

export type AddonLoad = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

let cached: AddonLoad | undefined;

/**
 * Loads the optional addon once (lazily: nothing native is touched until a
 * native backend is asked for). It is the optional dependency `rrhf-native`,
 * built at install time only where OpenBLAS is present.
 */
export function loadNativeAddon(): AddonLoad {
  cached ??= tryLoad();
  return cached;
}

function tryLoad(): AddonLoad {
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)("rrhf-native");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "MODULE_NOT_FOUND" && /rrhf-native/.test(e.message)) {
      return { ok: false, reason: "optional package rrhf-native is not installed (npm install without --omit=optional)" };
    }
    return { ok: false, reason: e.message };
  }
  const m = mod as Partial<Record<keyof NativeAddon, unknown>>;
  if (typeof m.sgemm !== "function" || typeof m.setThreads !== "function" ||
      typeof m.getThreads !== "function" || typeof m.config !== "function") {
    return { ok: false, reason: "rrhf-native loaded but lacks sgemm/setThreads/getThreads/config; rebuild it (npm run build:native)" };
  }
  return { ok: true, addon: mod as NativeAddon };
}
