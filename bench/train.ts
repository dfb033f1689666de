/**
 * The honest training benchmark (issue 11, item 1): whole optimizer steps
 * through `rrhf train` (AdamW, clipping, everything a user runs) beside
 * PyTorch (bench/train_torch.py, jemalloc preloaded, pages retained) in the official layout
 * and the same-algorithm layout, best of 1 and 2 threads, on three shapes.
 *
 *   npm run build && node dist/bench/train.js [--shapes small,gpt2-small,smollm-135m]
 *       [--threads 1,2] [--backends native,wasm] [--no-torch] [--work /tmp/rrhf-bench]
 *       [--gradient-checkpointing] [--torch-malloc "default decay,pages retained"] [--markdown bench/RESULTS-latest.md]
 *       [--bf16] [--rounds 1] [--logged-steps N] [--optim adamw|adafactor|sgd] [--bin dist/src/cli/bin.js]
 *
 * --bf16 adds rows of the native backend with `rrhf train --bf16` (bf16 matrix
 * products), each run right after its fp32 twin at the same thread count;
 * --rounds N repeats the whole alternation N times (the table keeps the best).
 * --optim trains with that optimizer (rrhf train --optim); --bin times another
 * build's CLI on the same models and data (an A/B against, e.g., a checkout of main).
 * --logged-steps N times rrhf rows from one N-step process instead: the median
 * over steps 3..N of the step times `rrhf train` logs (metrics.jsonl's
 * tokens_per_second, --logging-steps 1), robust to a neighbour's burst that
 * the difference of two processes is not (on a loaded machine it even came
 * out negative).
 *
 * Step time = (t(8 steps) - t(2 steps)) / 6 of two separate `rrhf train`
 * processes, so loading, the first steps' allocations and the final save
 * cancel out. Peak RSS is the 8-step process's (/usr/bin/time -v). Each shape
 * trains on one query of 193 tokens + 4 responses of 64 per step (a
 * character-level tokenizer, so the counts are exact). Models are made by
 * `rrhf init-model`; PyTorch loads the same safetensors.
 * Memory: optimizer state (AdamW: 2 floats per parameter) and the pooled
 * activation/work buffers of one step (measured in-process, --memory-probe).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "dist", "src", "cli", "bin.js");
const TOKENIZER = join(ROOT, "tests", "fixtures", "models", "gpt2-tiny");
const JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
/**
 * jemalloc settings PyTorch runs under; the table keeps the fastest. PyTorch
 * frees and re-allocates its activations every step: with jemalloc's default
 * decay the freed pages go back to the kernel and fault in again (on this VM
 * about a third of the small shape's step was system time), and retaining them
 * made that step about 4x faster. On SmolLM-135M retention was slower instead
 * and its RSS grew past 11 GiB, so both are measured.
 */
export const TORCH_MALLOC: Record<string, NodeJS.ProcessEnv> = {
  "default decay": {},
  "pages retained": { MALLOC_CONF: "dirty_decay_ms:-1,muzzy_decay_ms:-1" },
};
const QUERY = 193;
const RESPONSES = 4;
const RESPONSE_LEN = 64;

/** The three shapes of issue 11 (Hugging Face config.json contents). */
export const SHAPES: Record<string, Record<string, unknown>> = {
  small: {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    n_embd: 384,
    n_head: 6,
    n_layer: 6,
    n_positions: 1024,
    vocab_size: 8192,
  },
  "gpt2-small": {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    n_embd: 768,
    n_head: 12,
    n_layer: 12,
    n_positions: 1024,
    vocab_size: 50257,
  },
  "smollm-135m": {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    vocab_size: 49152,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: "silu",
    tie_word_embeddings: true,
    bos_token_id: 0,
    eos_token_id: 0,
  },
};

interface Row {
  shape: string;
  impl: string;
  layout: string;
  threads: number;
  sPerStep: number;
  tokensPerS: number;
  peakRssMiB: number;
  note?: string;
}

/** Runs a command, returns wall seconds and the peak RSS in MiB that /usr/bin/time -v reports. */
function timed(cmd: string[], env: NodeJS.ProcessEnv): { seconds: number; rssMiB: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-v", ...cmd], { env, encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { seconds, rssMiB: m ? Number(m[1]) / 1024 : Number.NaN, stdout: r.stdout };
}

/** The environment both sides run in: no OpenBLAS core-type override (issue 11 measured without). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** Deterministic lower-case text of n characters (n tokens with the character-level tokenizer). */
function text(n: number, seed: number): string {
  let s = seed >>> 0 || 1;
  let out = "";
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += String.fromCharCode(97 + ((s >>> 16) % 26));
  }
  return out;
}

/** Makes (once) the model folder and the 16-record data file of a shape. */
function prepare(work: string, shape: string): { model: string; data: string } {
  const dir = join(work, shape);
  const model = join(dir, "model");
  const data = join(dir, "data.jsonl");
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(model, "model.safetensors"))) {
    const config = join(dir, "config.json");
    writeFileSync(config, `${JSON.stringify(SHAPES[shape])}\n`);
    const r = spawnSync(process.execPath, [BIN, "init-model", "--config", config, "--out", model, "--tokenizer", TOKENIZER, "--force"], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`init-model ${shape}: ${r.stderr}`);
  }
  const lines: string[] = [];
  for (let i = 0; i < 16; i++) {
    const responses = Array.from({ length: RESPONSES }, (_, j) => text(RESPONSE_LEN, 1000 * i + j + 1));
    lines.push(JSON.stringify({ query: text(QUERY, 7 * i + 3), responses, scores: [4, 3, 2, 1] }));
  }
  writeFileSync(data, `${lines.join("\n")}\n`);
  return { model, data };
}

/** One rrhf configuration of the table: what `rrhf train` is asked to run. */
interface RrhfVariant {
  backend: string;
  layout: string;
  threads: number;
  bf16: boolean;
  gradCkpt: boolean;
  /** `--optim` of rrhf train (adamw, the default, is not passed). */
  optim: string;
  /** The rrhf CLI to run: this build's, or another build's for an A/B (`--bin`). */
  bin: string;
}

/** Token positions one step computes: the query once and each response. */
const STEP_TOKENS = QUERY + RESPONSES * RESPONSE_LEN;

/** The row's name and the run folders' suffix for a variant. */
function variantLabel(v: RrhfVariant): { impl: string; dir: string } {
  const optim = v.optim !== "adamw" ? ` --optim ${v.optim}` : "";
  const extra = `${v.bf16 ? " --bf16" : ""}${optim}${v.gradCkpt ? " + gradient checkpointing" : ""}`;
  return {
    impl: `rrhf ${v.backend}${extra}`,
    dir: `${v.backend}${v.bf16 ? "-bf16" : ""}${v.gradCkpt ? "-gc" : ""}${v.optim !== "adamw" ? `-${v.optim}` : ""}-${v.layout}-${v.threads}`,
  };
}

/** The `rrhf train` command of a variant: `steps` steps into `out`, logging every `loggingSteps`. */
function trainCommand(v: RrhfVariant, model: string, data: string, out: string, steps: number, loggingSteps: number): string[] {
  return [
    process.execPath,
    v.bin,
    "train",
    ...["--model", model, "--data", data, "--out", out, "--overwrite-output-dir", "--max-steps", String(steps)],
    ...["--save-steps", "0", "--logging-steps", String(loggingSteps)],
    ...["--backend", v.backend, "--layout", v.layout, "--threads", String(v.threads)],
    ...(v.bf16 ? ["--bf16"] : []),
    ...(v.gradCkpt ? ["--gradient-checkpointing"] : []),
    ...(v.optim !== "adamw" ? ["--optim", v.optim] : []),
  ];
}

/** Seconds per step of `rrhf train` and the 8-step process's peak RSS. */
function rrhfStep(work: string, shape: string, v: RrhfVariant): Row {
  const { model, data } = prepare(work, shape);
  const { impl, dir } = variantLabel(v);
  const run = (steps: number) => timed(trainCommand(v, model, data, join(work, shape, `run-${dir}-${steps}`), steps, 1000), cleanEnv());
  const t2 = run(2);
  const t8 = run(8);
  const sPerStep = (t8.seconds - t2.seconds) / 6;
  return { shape, impl, layout: v.layout, threads: v.threads, sPerStep, tokensPerS: STEP_TOKENS / sPerStep, peakRssMiB: t8.rssMiB };
}

/** Row tokens of one step as `rrhf train` counts them: each response (its EOS included) with the query before it. */
const ROW_TOKENS = RESPONSES * (QUERY + RESPONSE_LEN + 1);

/** Seconds per step of one `rrhf train` process of `steps` steps: the median of the logged step times from step 3 on. */
function rrhfLoggedStep(work: string, shape: string, v: RrhfVariant, steps: number): Row {
  const { model, data } = prepare(work, shape);
  const { impl, dir } = variantLabel(v);
  const out = join(work, shape, `logged-${dir}`);
  const t = timed(trainCommand(v, model, data, out, steps, 1), cleanEnv());
  const tps = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { step: number; tokens_per_second: number | null })
    .filter((e) => e.step >= 3 && e.tokens_per_second)
    .map((e) => ROW_TOKENS / (e.tokens_per_second as number))
    .sort((a, b) => a - b);
  const sPerStep = tps[Math.floor((tps.length - 1) / 2)] ?? Number.NaN;
  return { shape, impl, layout: v.layout, threads: v.threads, sPerStep, tokensPerS: STEP_TOKENS / sPerStep, peakRssMiB: t.rssMiB };
}

/** PyTorch rows: one child per (layout, threads); bench/train_torch.py does the step arithmetic itself. */
function torchStep(work: string, shape: string, layout: string, threads: number, malloc: string): Row {
  const { model, data } = prepare(work, shape);
  const env = cleanEnv(existsSync(JEMALLOC) ? { LD_PRELOAD: JEMALLOC, ...TORCH_MALLOC[malloc] } : {});
  const script = join(ROOT, "bench", "train_torch.py");
  const r = timed(["/usr/bin/python3", script, "--model", model, "--data", data, "--layout", layout, "--threads", String(threads)], env);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { s_per_step: number; tokens: number };
  return {
    shape,
    impl: existsSync(JEMALLOC) ? "torch (jemalloc)" : "torch (glibc malloc: jemalloc missing)",
    note: existsSync(JEMALLOC) ? malloc : undefined,
    layout,
    threads,
    sPerStep: out.s_per_step,
    tokensPerS: out.tokens / out.s_per_step,
    peakRssMiB: r.rssMiB,
  };
}

/** Child mode: one in-process step to read the pooled activation/work memory and the optimizer state. */
async function memoryProbe(model: string, data: string, backend: string, threads: number, out: string): Promise<void> {
  const { train } = await import("../src/train/loop.js");
  const { resolveTrainConfig } = await import("../src/train/config.js");
  const { getBackend } = await import("../src/kernels/select.js");
  const { poolFor } = await import("../src/autodiff/context.js");
  const config = resolveTrainConfig({
    overrides: {
      model,
      data,
      output_dir: out,
      overwrite_output_dir: true,
      max_steps: 2,
      save_steps: 0,
      logging_steps: 1000,
      backend,
      threads,
    },
  });
  await train(config);
  const stats = poolFor(getBackend(backend, { threads })).stats();
  console.log(JSON.stringify({ poolBytes: stats.backendFloats * 4 }));
}

function memoryRow(work: string, shape: string, backend: string, threads: number): { poolMiB: number } {
  const { model, data } = prepare(work, shape);
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(
    process.execPath,
    [
      self,
      "--memory-probe",
      "--model",
      model,
      "--data",
      data,
      "--backend",
      backend,
      "--threads",
      String(threads),
      "--work",
      join(work, shape, "probe"),
    ],
    { encoding: "utf8", env: cleanEnv() },
  );
  if (r.status !== 0) throw new Error(`memory probe ${shape}: ${r.stderr.slice(-1000)}`);
  const line = r.stdout.trim().split("\n").pop() ?? "{}";
  return { poolMiB: (JSON.parse(line) as { poolBytes: number }).poolBytes / 2 ** 20 };
}

/** Parameter count from the safetensors header (every tensor is F32 here). */
function paramCount(model: string): number {
  const buf = readFileSync(join(model, "model.safetensors"));
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + len).toString("utf8")) as Record<string, { shape?: number[] }>;
  let n = 0;
  for (const [name, t] of Object.entries(header)) if (name !== "__metadata__" && t.shape) n += t.shape.reduce((a, b) => a * b, 1);
  return n;
}

function table(rows: Row[], memory: string[], commands: string[]): string {
  const best = new Map<string, Row>();
  for (const r of rows) {
    const key = `${r.shape}|${r.impl}|${r.layout}`;
    const b = best.get(key);
    if (!b || r.sPerStep < b.sPerStep) best.set(key, r);
  }
  const lines = [
    `Date ${new Date().toISOString()}; ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}); load average ${loadavg()[0].toFixed(2)} at the end.`,
    "",
    "| shape | implementation | layout | best threads (malloc) | s/step | tokens/s | peak RSS MiB | time vs torch official | time vs torch same-algorithm |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of best.values()) {
    const off = best.get(`${r.shape}|${rows.find((x) => x.impl.startsWith("torch"))?.impl ?? ""}|official`);
    const same = best.get(`${r.shape}|${rows.find((x) => x.impl.startsWith("torch"))?.impl ?? ""}|same-algorithm`);
    const ratio = (o: Row | undefined) => (o ? `${(r.sPerStep / o.sPerStep).toFixed(2)}x` : "–");
    lines.push(
      `| ${r.shape} | ${r.impl} | ${r.layout} | ${r.threads}${r.note === undefined ? "" : `, ${r.note}`} | ${r.sPerStep.toFixed(3)} | ${r.tokensPerS.toFixed(0)} | ${r.peakRssMiB.toFixed(0)} | ${ratio(off)} | ${ratio(same)} |`,
    );
  }
  lines.push("", ...memory, "", "Commands (each run in its own process):", "", "```text", ...commands, "```", "");
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      shapes: { type: "string", default: Object.keys(SHAPES).join(",") },
      threads: { type: "string", default: "1,2" },
      backends: { type: "string", default: "native" },
      layouts: { type: "string", default: "packed-shared-prefix" },
      "no-torch": { type: "boolean", default: false },
      work: { type: "string", default: "/tmp/rrhf-bench" },
      markdown: { type: "string" },
      "gradient-checkpointing": { type: "boolean", default: false },
      "torch-malloc": { type: "string", default: Object.keys(TORCH_MALLOC).join(",") },
      "memory-probe": { type: "boolean", default: false },
      model: { type: "string" },
      data: { type: "string" },
      backend: { type: "string" },
      bf16: { type: "boolean", default: false },
      rounds: { type: "string", default: "1" },
      "logged-steps": { type: "string" },
      optim: { type: "string", default: "adamw" },
      bin: { type: "string", default: BIN },
    },
  });
  if (values["memory-probe"]) {
    await memoryProbe(values.model ?? "", values.data ?? "", values.backend ?? "native", Number(values.threads), values.work);
    return;
  }
  const threads = values.threads.split(",").map(Number);
  const rows: Row[] = [];
  const memory: string[] = ["Memory per shape (rrhf, AdamW):", ""];
  const commands: string[] = [];
  for (const shape of values.shapes.split(",")) {
    if (!SHAPES[shape]) throw new Error(`unknown shape ${shape}; known: ${Object.keys(SHAPES).join(", ")}`);
    for (const backend of values.backends.split(",")) {
      const precisions = values.bf16 && backend === "native" ? [false, true] : [false];
      // fp32 rows, their --bf16 twins, and (with --gradient-checkpointing) an fp32 row with checkpointing.
      const variants: [boolean, boolean][] = precisions.map((p): [boolean, boolean] => [p, false]);
      if (values["gradient-checkpointing"]) variants.push([false, true]);
      for (let round = 0; round < Number(values.rounds); round++) {
        for (const layout of values.layouts.split(",")) {
          for (const t of threads) {
            for (const [bf16, gradCkpt] of variants) {
              const v: RrhfVariant = { backend, layout, threads: t, bf16, gradCkpt, optim: values.optim, bin: resolve(values.bin) };
              const logged = values["logged-steps"];
              const row = logged ? rrhfLoggedStep(values.work, shape, v, Number(logged)) : rrhfStep(values.work, shape, v);
              rows.push(row);
              console.log(JSON.stringify({ ...row, round, load: loadavg()[0] }));
            }
          }
        }
      }
      commands.push(
        `rrhf train --model <work>/${shape}/model --data <work>/${shape}/data.jsonl ` +
          (values["logged-steps"] ? `--max-steps ${values["logged-steps"]} --logging-steps 1` : "--max-steps 2|8") +
          ` --save-steps 0${values.optim !== "adamw" ? ` --optim ${values.optim}` : ""} --backend ${backend} --threads ${values.threads.replace(/,/g, "|")}${precisions.length > 1 ? " [--bf16]" : ""}` +
          (values["gradient-checkpointing"] ? " [--gradient-checkpointing]" : ""),
      );
    }
    const params = paramCount(prepare(values.work, shape).model);
    const probe = memoryRow(values.work, shape, values.backends.split(",")[0], threads[threads.length - 1]);
    memory.push(
      `- ${shape}: ${(params / 1e6).toFixed(1)}M parameters; weights ${((params * 4) / 2 ** 20).toFixed(0)} MiB, gradients ${((params * 4) / 2 ** 20).toFixed(0)} MiB, ` +
        `optimizer state ${((params * 8) / 2 ** 20).toFixed(0)} MiB, pooled activation and work buffers of a step ${probe.poolMiB.toFixed(0)} MiB`,
    );
    if (!values["no-torch"]) {
      for (const layout of ["official", "same-algorithm"]) {
        for (const malloc of values["torch-malloc"].split(",")) {
          if (!TORCH_MALLOC[malloc]) throw new Error(`unknown --torch-malloc ${malloc}; known: ${Object.keys(TORCH_MALLOC).join(", ")}`);
          for (const t of threads) {
            const row = torchStep(values.work, shape, layout, t, malloc);
            rows.push(row);
            console.log(JSON.stringify(row));
          }
        }
      }
      commands.push(
        `LD_PRELOAD=${JEMALLOC} [MALLOC_CONF=${TORCH_MALLOC["pages retained"].MALLOC_CONF}] python3 bench/train_torch.py --model <work>/${shape}/model --data <work>/${shape}/data.jsonl --layout official|same-algorithm --threads 1|2`,
      );
    }
  }
  const md = table(rows, memory, commands);
  console.log(`\n${md}`);
  if (values.markdown) writeFileSync(values.markdown, md);
}

await main();
