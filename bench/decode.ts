/**
 * Decode benchmark: greedy decoding of k continuations of one prompt (by
 * default k = 4, a 193-token prompt, 64 new tokens, no EOS stop) through the
 * model's public KV-cache session (`model.decode`, what `generate()` and
 * `rrhf sample` run on), picking each row's argmax as an HF-style greedy loop
 * does (`generate()` itself refuses greedy with k > 1: the k rows are equal). Prints time to first token (the prefill and the first pick),
 * decode tokens/s (the tokens after the first, over the time after it) and
 * overall tokens/s, the median over the repetitions after one warm-up.
 *
 *   npm run build
 *   node dist/src/cli/bin.js init-model --config bench/configs/gpt2-small.json --out /tmp/decode-models/gpt2-small
 *   node dist/bench/decode.js --model /tmp/decode-models/gpt2-small [--backend native] [--threads 1]
 *       [--k 4] [--prompt-len 193] [--new-tokens 64] [--prompts 1] [--reps 3] [--json]
 *
 * The prompt's token ids are `promptIds` below; bench/decode_torch.py uses the
 * same formula, the same model folder and the same shapes.
 */
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { getBackend } from "../src/kernels/select.js";
import { loadCausalLM } from "../src/models/registry.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    backend: { type: "string", default: "native" },
    threads: { type: "string", default: "1" },
    k: { type: "string", default: "4" },
    "prompt-len": { type: "string", default: "193" },
    "new-tokens": { type: "string", default: "64" },
    prompts: { type: "string", default: "1" },
    reps: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
  },
});
if (values.model === undefined) throw new Error("--model DIR is required (a folder made by rrhf init-model)");
const k = Number(values.k);
const promptLen = Number(values["prompt-len"]);
const newTokens = Number(values["new-tokens"]);
const promptCount = Number(values.prompts);
const reps = Math.max(1, Number(values.reps));
const threads = Number(values.threads);

/** Prompt p's ids: a fixed pseudo-random walk over the vocabulary (decode_torch.py: prompt_ids). */
function promptIds(p: number, length: number, vocab: number): number[] {
  return Array.from({ length }, (_, i) => (i * 7919 + p * 104729 + 13) % vocab);
}

const backend = getBackend(values.backend as "native" | "wasm" | "ref", { threads });
const model = loadCausalLM(values.model, { backend });
const V = model.config.vocabSize;
const prompts = Array.from({ length: promptCount }, (_, p) => promptIds(p, promptLen, V));

/** Index of the largest of the V logits of row r. */
function argmaxRow(logits: Float32Array, r: number): number {
  let best = 0;
  let max = -Infinity;
  for (let j = 0; j < V; j++) {
    const x = logits[r * V + j];
    if (x > max) {
      max = x;
      best = j;
    }
  }
  return best;
}

interface Timing {
  ttftMs: number;
  totalMs: number;
  tokens: number;
  firstTokens: number;
  /** Process CPU time (user + system, all threads) after the first token, ms: steadier than wall time on a shared machine. */
  decodeCpuMs: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function once(): { timing: Timing; firstIds: number[] } {
  const start = performance.now();
  let ttft = -1;
  let tokens = 0;
  let firstTokens = 0;
  let cpuAtFirst = 0;
  const session = model.decode(prompts, { continuations: k, maxNewTokens: Math.max(1, newTokens - 1) });
  const N = session.sequences;
  const feed = new Int32Array(N);
  const first: number[] = [];
  let logits = session.prefillLogits;
  for (let t = 0; t < newTokens; t++) {
    for (let r = 0; r < N; r++) feed[r] = argmaxRow(logits, r);
    first.push(feed[0]);
    if (ttft < 0) {
      ttft = performance.now() - start;
      firstTokens = N;
      cpuAtFirst = cpuMs();
    }
    tokens += N;
    if (t < newTokens - 1) logits = session.step(feed);
  }
  const totalMs = performance.now() - start;
  const decodeCpuMs = cpuMs() - cpuAtFirst;
  return { timing: { ttftMs: ttft, totalMs, tokens, firstTokens, decodeCpuMs }, firstIds: first.slice(0, 8) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
once(); // warm-up
const runs: Timing[] = [];
let firstIds: number[] = [];
for (let r = 0; r < reps; r++) {
  const res = once();
  runs.push(res.timing);
  firstIds = res.firstIds;
}
const ttft = median(runs.map((t) => t.ttftMs));
const decodeTps = median(runs.map((t) => (t.tokens - t.firstTokens) / ((t.totalMs - t.ttftMs) / 1000)));
const totalTps = median(runs.map((t) => t.tokens / (t.totalMs / 1000)));
const cpuPerToken = median(runs.map((t) => t.decodeCpuMs / (t.tokens - t.firstTokens)));
const name = `${model.config.architecture} ${model.config.numLayers}x${model.config.hiddenSize}`;
console.log(
  `rrhf ${values.backend} threads=${threads} ${name} prompts=${promptCount} k=${k} prompt=${promptLen} new=${newTokens}: ` +
    `ttft ${ttft.toFixed(1)} ms, decode ${decodeTps.toFixed(1)} tokens/s, overall ${totalTps.toFixed(1)} tokens/s, ` +
    `decode CPU ${cpuPerToken.toFixed(2)} ms/token ` +
    `(median of ${reps}; load ${loadavg()[0].toFixed(2)}; first ids ${firstIds.join(",")})`,
);
if (values.json) {
  console.log(
    JSON.stringify({
      impl: "rrhf",
      backend: values.backend,
      threads,
      model: name,
      k,
      promptLen,
      newTokens,
      ttftMs: ttft,
      decodeTps,
      totalTps,
      decodeCpuMsPerToken: cpuPerToken,
    }),
  );
}
