/**
 * Training-step benchmark: one forward + RRHF loss + backward of a
 * GPT-2-small-shaped model (n_embd 768, 12 heads, vocab 50257, a few layers)
 * on an HH-like batch (one query, k responses), per backend. Prints the step
 * time (median of the repetitions), the part spent in sgemm, and the top
 * functions by self time from a sampling CPU profile of one more step — what
 * the non-matmul time goes to.
 *
 * Backends: wasm, native, ref, and "wasm-ref-ops" / "native-ref-ops" (that
 * sgemm with the reference TypeScript op kernels: the A/B for the WASM op kernels).
 *
 *   npm run build && node dist/bench/step.js [--backends wasm,wasm-ref-ops,native] [--layers 2]
 *       [--reps 3] [--layout packed-shared-prefix] [--query 100] [--responses 6]
 *       [--response-len 40] [--threads 2] [--top 12] [--no-profile] [--json]
 *
 * Peak RSS (process.resourceUsage().maxRSS) is printed at the end; it covers every
 * configuration of the run together, so run one backend per process to read one
 * backend's memory. --json adds one machine-readable line per configuration.
 * Compare with: /usr/bin/python3 bench/step_torch.py (same model shape and batch).
 *
 * The machine may be shared: the load average is printed with the results.
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Backend } from "../src/kernels/backend.js";
import { getBackend } from "../src/kernels/select.js";
import type { WasmBackend } from "../src/kernels/wasm/index.js";
import type { ForwardLayout } from "../src/models/causal-lm.js";
import { normalizeConfig } from "../src/models/hf/config.js";
import { initParams } from "../src/models/hf/init.js";
import { ParamStore } from "../src/models/hf/param-store.js";
import { weightLayout } from "../src/models/hf/param-specs.js";
import { createCausalLM } from "../src/models/registry.js";
import { MODEL_SETTINGS } from "../src/models/settings.js";
import { settingProblem } from "../src/settings/index.js";
import { buildQueryBatch, type QueryBatch } from "../src/tokenize/batch.js";
import { runMicroBatch } from "../src/train/step.js";
import { profileSelfTime, timeSgemm } from "./step-profile.js";

const { values } = parseArgs({
  options: {
    backends: { type: "string", default: "wasm,wasm-ref-ops,native,native-ref-ops" },
    layers: { type: "string", default: "2" },
    reps: { type: "string", default: "3" },
    layout: { type: "string", default: MODEL_SETTINGS.layout.default },
    query: { type: "string", default: "100" },
    responses: { type: "string", default: "6" },
    "response-len": { type: "string", default: "40" },
    threads: { type: "string" },
    top: { type: "string", default: "12" },
    "no-profile": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const layers = Number(values.layers);
const reps = Math.max(1, Number(values.reps));
const layoutProblem = settingProblem(MODEL_SETTINGS.layout, values.layout);
if (layoutProblem !== null) throw new Error(`--layout ${layoutProblem}`);
const layout = values.layout as ForwardLayout;
const Q = Number(values.query);
const K = Number(values.responses);
const R = Number(values["response-len"]);
const threads = values.threads === undefined ? undefined : Number(values.threads);

const config = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  n_embd: 768,
  n_head: 12,
  n_layer: layers,
  n_positions: 1024,
  vocab_size: 50257,
};

/** One query of Q tokens and K responses of R tokens each. */
function hhLikeBatch(): QueryBatch {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) % 50257;
  const queryIds = Array.from({ length: Q }, next);
  const responses = Array.from({ length: K }, (_, i) => ({ ids: Array.from({ length: R }, next), score: i - K / 2 }));
  return buildQueryBatch([{ queryIds, responses }], { padTokenId: 0 });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The backend minus its optional op kernels: every op takes the reference TypeScript kernel. */
function sgemmOnly(inner: Backend): Backend {
  const hidden: PropertyDescriptorMap = {};
  for (const k of Object.keys(inner)) if (!["name", "alloc", "release", "sgemm"].includes(k)) hidden[k] = { value: undefined };
  return Object.create(inner, hidden) as Backend;
}

interface Config {
  label: string;
  step: () => void;
  sgemmMs: () => number;
  reset: () => void;
  total: number[];
  sgemm: number[];
}

const params = new Map<Backend, ParamStore>();

/** A model on `kernels` (sgemm timed); models on the same memory share one parameter store. */
function makeConfig(label: string, memory: Backend, kernels: Backend): Config {
  const timed = timeSgemm(kernels);
  const n = normalizeConfig(config);
  let store = params.get(memory);
  if (!store) {
    store = ParamStore.create(weightLayout(n).specs, (k) => memory.alloc(k));
    initParams(n, store, 1);
    params.set(memory, store);
  }
  const model = createCausalLM({ normalized: n, params: store }, { backend: timed.backend, trainable: true });
  const batch = hhLikeBatch();
  const step = () => {
    model.grads?.data.fill(0);
    if (runMicroBatch(model, batch, {}, 1, { layout }) === null) throw new Error("non-finite step");
  };
  return { label, step, sgemmMs: timed.sgemmMs, reset: timed.reset, total: [], sgemm: [] };
}

/**
 * "wasm-ref-ops" / "native-ref-ops": that backend's sgemm with the reference
 * TypeScript op kernels (the state before the WASM op kernels), for an A/B
 * inside one process.
 */
function configFor(name: string): Config | string {
  const base = name.replace(/-ref-ops$/, "");
  let be: Backend;
  try {
    be = getBackend(base, threads === undefined ? {} : { threads });
  } catch (err) {
    return (err as Error).message;
  }
  return makeConfig(name, be, name.endsWith("-ref-ops") ? sgemmOnly(be) : be);
}

const [l1, l5] = loadavg();
console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? "cpu"}, ${availableParallelism()} CPUs, load average ${l1.toFixed(2)} / ${l5.toFixed(2)}\n` +
    `GPT-2 shape: ${layers} layers, n_embd 768, 12 heads, vocab 50257; batch: 1 query of ${Q} tokens, ` +
    `${K} responses of ${R} tokens; layout ${layout}; threads ${threads ?? "default"}`,
);
const configs: Config[] = [];
for (const name of values.backends.split(",")) {
  const c = configFor(name);
  if (typeof c === "string") console.log(`[${name}] skipped: ${c}`);
  else configs.push(c);
}
await Promise.all([...params.keys()].map((be) => (be.name === "wasm" ? (be as WasmBackend).ready() : undefined)));
for (const c of configs) c.step(); // warm-up: pools fill, JIT settles
// Configurations interleaved within each repetition, so a noisy neighbour hurts them alike.
for (let i = 0; i < reps; i++) {
  for (const c of configs) {
    c.reset();
    const t0 = performance.now();
    c.step();
    c.total.push(performance.now() - t0);
    c.sgemm.push(c.sgemmMs());
  }
}
for (const c of configs) {
  const t = median(c.total);
  const s = median(c.sgemm);
  console.log(`\n[${c.label}] step ${t.toFixed(0)} ms (median of ${reps}: ${c.total.map((x) => x.toFixed(0)).join(", ")})`);
  console.log(`  sgemm      ${s.toFixed(0).padStart(6)} ms  ${((100 * s) / t).toFixed(1).padStart(5)}%`);
  console.log(
    `  non-sgemm  ${(t - s).toFixed(0).padStart(6)} ms  ${((100 * (t - s)) / t).toFixed(1).padStart(5)}%  (median step - median sgemm)`,
  );
  if (values["no-profile"]) continue;
  const self = await profileSelfTime(c.step);
  const sum = self.reduce((a, x) => a + x.ms, 0);
  console.log(`  self time by function (one profiled step, ${sum.toFixed(0)} ms sampled on the main thread):`);
  for (const f of self.slice(0, Number(values.top))) {
    console.log(`    ${f.ms.toFixed(1).padStart(8)} ms  ${((100 * f.ms) / sum).toFixed(1).padStart(5)}%  ${f.name}`);
  }
}
const [e1] = loadavg();
// maxRSS is in KiB; wasm linear memory and worker threads are part of this process.
const peakMiB = process.resourceUsage().maxRSS / 1024;
console.log(`\nload average at the end: ${e1.toFixed(2)}; peak RSS ${peakMiB.toFixed(0)} MiB (whole process, all configurations)`);
if (values.json) {
  for (const c of configs) {
    console.log(
      JSON.stringify({
        bench: "step",
        backend: c.label,
        layout,
        threads: threads ?? null,
        layers,
        query: Q,
        responses: K,
        responseLen: R,
        medianMs: median(c.total),
        stepsMs: c.total,
        peakRssMiB: peakMiB,
        openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
        load1: e1,
      }),
    );
  }
}
process.exit(0);
