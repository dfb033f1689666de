/**
 * The native backend's allocation and page discard (native/src/pages.h). Buffers
 * of a huge page or more are mapped on 2 MiB boundaries and advised onto
 * transparent huge pages, so faulting them in maps 2 MiB at a time; `discard`
 * hands a buffer's pages back to the kernel. Discarding is offered only where
 * huge pages are on: faulting 512 MiB back in cost 290 ms more than writing it
 * warm on 4 KiB pages, 53 ms on huge pages in a loop (Intel Xeon VM, 2026-12-06).
 */
import { readFileSync } from "node:fs";
import { HUGE_PAGE_FLOATS, type Backend } from "../backend.js";
import type { NativeAddon } from "./addon.js";

/** The kernel's transparent-huge-page mode ("always", "madvise", "never"), or null where there is none (not Linux). */
export function hugePageMode(file = "/sys/kernel/mm/transparent_hugepage/enabled"): string | null {
  try {
    return /\[(\w+)\]/.exec(readFileSync(file, "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * `alloc` and, where huge pages are on (`mode` "always" or "madvise"), `discard` with large buffers on huge pages.
 * Opt-in (`--release-memory`, `mode` null otherwise): giving pages back saves peak memory but costs time. SmolLM-135M
 * (bench/train.ts shape, native, 2 threads): peak RSS 2575 -> 2357 MiB, steady steps 0-15% slower in interleaved
 * runs at different hours (median tokens/s over steps 3-10: 449 against 394 in six pairs, 485/451 against 467/460
 * later), and with 4 KiB pages instead of huge ones about twice as slow.
 */
export function pageKernels(addon: NativeAddon, mode: string | null): Pick<Backend, "alloc" | "discard"> {
  const { allocHugePages, discardPages } = addon;
  if (allocHugePages === undefined || discardPages === undefined || (mode !== "always" && mode !== "madvise")) {
    return { alloc: (n) => new Float32Array(n) };
  }
  return {
    alloc: (n) => {
      const pages = n >= HUGE_PAGE_FLOATS ? allocHugePages.call(addon, n) : null;
      return pages ? new Float32Array(pages) : new Float32Array(n);
    },
    discard: (buf) => void discardPages.call(addon, buf),
  };
}
