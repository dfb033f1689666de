/**
 * Helpers of bench/step.ts: a backend wrapper that times sgemm, and a CPU
 * profile (node:inspector, sampling) folded into self time per function, so
 * a step's cost can be split by kernel without touching the kernels.
 */
import { Session, type Profiler } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import type { Backend } from "../src/kernels/backend.js";
import { kernelBytes } from "../src/kernels/wasm/kernel-module.js";

/** The same backend with every sgemm's wall time added to `sgemmMs`. */
export interface TimedBackend {
  backend: Backend;
  sgemmMs: () => number;
  reset: () => void;
}

export function timeSgemm(inner: Backend): TimedBackend {
  let ms = 0;
  // Prototype delegation keeps every optional method (and its `this`) of the inner backend.
  const backend: Backend = Object.create(inner, {
    sgemm: {
      value: (...args: Parameters<Backend["sgemm"]>): void => {
        const t0 = performance.now();
        inner.sgemm(...args);
        ms += performance.now() - t0;
      },
    },
  }) as Backend;
  return {
    backend,
    sgemmMs: () => ms,
    reset: () => {
      ms = 0;
    },
  };
}

export interface SelfTime {
  /** "function (file)" */
  name: string;
  ms: number;
}

/** Runs `fn` under the sampling profiler; returns self time per function, largest first. */
export async function profileSelfTime(fn: () => void, intervalUs = 200): Promise<SelfTime[]> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
    await session.post("Profiler.start");
    fn();
    const { profile } = await session.post("Profiler.stop");
    return foldSelfTime(profile);
  } finally {
    session.disconnect();
  }
}

/** Function index -> export name of the kernel module (profiles show only "wasm-function[i]"). */
function wasmExportNames(): Map<number, string> {
  const b = kernelBytes();
  const names = new Map<number, string>();
  let pos = 8;
  const leb = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const x = b[pos++];
      v |= (x & 0x7f) << shift;
      shift += 7;
      if ((x & 0x80) === 0) return v >>> 0;
    }
  };
  while (pos < b.length) {
    const id = b[pos++];
    const size = leb();
    const end = pos + size;
    if (id === 7) {
      // The module imports only its memory, so export indices are function indices.
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const name = Buffer.from(b.subarray(pos, pos + len)).toString("utf8");
        pos += len;
        const kind = b[pos++];
        const index = leb();
        if (kind === 0) names.set(index, name);
      }
    }
    pos = end;
  }
  return names;
}

function foldSelfTime(profile: Profiler.Profile): SelfTime[] {
  const wasmNames = wasmExportNames();
  const byId = new Map<number, string>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const file = f.url ? f.url.slice(f.url.lastIndexOf("/") + 1) : "";
    const wasm = /^wasm-function\[(\d+)\]$/.exec(f.functionName);
    const label = wasm ? `wasm ${wasmNames.get(Number(wasm[1])) ?? "internal"} [${wasm[1]}]` : f.functionName || "(anonymous)";
    byId.set(node.id, `${label}${file && !wasm ? ` (${file})` : ""}`);
  }
  const totals = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; attribute it to the sample's node.
  for (let i = 0; i < samples.length; i++) {
    const name = byId.get(samples[i]) ?? "?";
    totals.set(name, (totals.get(name) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  return [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}
