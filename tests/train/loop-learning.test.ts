/**
 * Must-show: the trainer learns. A tiny GPT-2 from a random initialisation
 * (initParams, seed fixed) with a word-level tokenizer over ten symbols is
 * trained on a synthetic preference set whose rule is "ascending is better":
 * for a query of four distinct symbols, the responses are the symbols sorted
 * ascending (score 1), shuffled (0) and sorted descending (-1). Held-out
 * queries use symbol sets never seen in training. Ranking accuracy on them
 * starts near chance and must end well above it (generous thresholds;
 * deterministic seeds, no timing).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { normalizeConfig } from "../../src/models/hf/config.js";
import { loadModelFolder, saveModelFolder } from "../../src/models/hf/folder.js";
import { initParams } from "../../src/models/hf/init.js";
import { weightLayout } from "../../src/models/hf/param-specs.js";
import { ParamStore } from "../../src/models/hf/param-store.js";
import { createCausalLM } from "../../src/models/registry.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { resolveTrainConfig } from "../../src/train/config.js";
import { evaluate } from "../../src/train/eval.js";
import { train } from "../../src/train/loop.js";
import { Rng } from "../../src/train/rng.js";
import { fileOrderBatches, loadEncodedData } from "../../src/train/run-data.js";
import { tempDir } from "../helpers.js";
import { refBackend } from "../../src/kernels/ref/index.js";

const STEPS = 40;
const SYMBOLS = Array.from({ length: 10 }, (_, i) => `s${i}`);

/** A randomly initialised tiny GPT-2 with a word-level tokenizer over SYMBOLS, as an HF folder. */
function writeModel(dir: string, seed: number): void {
  const tokDir = tempDir();
  const vocab: Record<string, number> = { "<eos>": 0, "<unk>": 1 };
  SYMBOLS.forEach((s, i) => (vocab[s] = i + 2));
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<eos>"), special(1, "<unk>")],
    normalizer: null,
    pre_tokenizer: { type: "WhitespaceSplit" },
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab, unk_token: "<unk>" },
  };
  writeFileSync(join(tokDir, "tokenizer.json"), JSON.stringify(tokenizer));
  writeFileSync(join(tokDir, "tokenizer_config.json"), JSON.stringify({ eos_token: "<eos>", unk_token: "<unk>", model_max_length: 16 }));
  const config = {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: 12,
    n_embd: 32,
    n_head: 2,
    n_layer: 1,
    n_positions: 16,
    n_inner: null,
    activation_function: "gelu_new",
    layer_norm_epsilon: 1e-5,
    bos_token_id: 0,
    eos_token_id: 0,
    tie_word_embeddings: true,
    initializer_range: 0.02,
  };
  const normalized = normalizeConfig(config, "synthetic config");
  const params = ParamStore.create(weightLayout(normalized).specs);
  initParams(normalized, params, seed);
  saveModelFolder(dir, { config, params }, { tokenizerDir: tokDir });
}

/** Queries over 4 distinct symbols; `heldOut` picks the sets the training half never sees. */
function makeData(file: string, count: number, heldOut: boolean, rng: Rng): void {
  const lines: string[] = [];
  while (lines.length < count) {
    const pick = rng.shuffle([...SYMBOLS.keys()]).slice(0, 4);
    // Held-out sets are the ones whose symbol indices sum to a multiple of 3.
    if ((pick.reduce((a, b) => a + b, 0) % 3 === 0) !== heldOut) continue;
    const words = pick.map((i) => SYMBOLS[i]);
    const asc = [...pick].sort((a, b) => a - b).map((i) => SYMBOLS[i]);
    let mixed = words;
    while (mixed.join() === asc.join() || mixed.join() === [...asc].reverse().join()) mixed = rng.shuffle([...words]);
    const r = (w: string[]) => ` ${w.join(" ")}`;
    lines.push(JSON.stringify({ query: words.join(" "), responses: [r(asc), r(mixed), r([...asc].reverse())], scores: [1, 0, -1] }));
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

async function heldOutAccuracy(modelDir: string, evalFile: string): Promise<number> {
  const settings = { compat: "paper", model_max_length: 16, only_use_provide: false, only_use_sample: false } as const;
  const data = await loadEncodedData(evalFile, await loadTokenizer(modelDir), settings);
  const model = createCausalLM(loadModelFolder(modelDir), { backend: refBackend });
  return evaluate(model, fileOrderBatches(data, 8, settings), {}).ranking_accuracy;
}

test("ranking accuracy on held-out queries rises from about chance to well above it", async () => {
  const root = tempDir();
  const modelDir = join(root, "init");
  writeModel(modelDir, 2);
  const rng = Rng.fromSeed(99);
  const trainFile = join(root, "train.jsonl");
  const evalFile = join(root, "eval.jsonl");
  makeData(trainFile, 64, false, rng);
  makeData(evalFile, 24, true, rng);

  const before = await heldOutAccuracy(modelDir, evalFile);
  const out = join(root, "run");
  const config = resolveTrainConfig({
    overrides: {
      model: modelDir,
      data: trainFile,
      eval_data: evalFile,
      output_dir: out,
      backend: "ref",
      max_steps: STEPS,
      per_device_train_batch_size: 4,
      learning_rate: 1e-2,
      lr_scheduler_type: "constant",
      logging_steps: 10,
      eval_steps: STEPS,
      save_steps: 0,
      per_device_eval_batch_size: 8,
      seed: 5,
    },
  });
  const result = await train(config);
  const after = await heldOutAccuracy(out, evalFile);
  console.log(`held-out ranking accuracy: ${before} -> ${after} after ${STEPS} steps`);
  assert.ok(before < 0.7, `the untrained model already ranks well (${before}); the test would prove nothing`);
  assert.ok(after >= 0.85, `held-out ranking accuracy only reached ${after} (from ${before})`);
  // The run's own evaluation (eval_ranking_accuracy in metrics.jsonl) saw the same model.
  assert.equal(result.lastEval?.eval_ranking_accuracy, after);
});
