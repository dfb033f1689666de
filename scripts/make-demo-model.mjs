#!/usr/bin/env node
// Makes the model that `rrhf demo` starts from, with this repository's own
// commands, from data this script generates (nothing downloaded):
//
//   npm run build && node scripts/make-demo-model.mjs [--out assets/demo]
//
// The task is one-digit addition, "What is 3 + 4?" -> " 7". The supervised
// data is deliberately sloppy: for every sum, 65% of its examples answer one
// too many (" 8") and 35% answer correctly, so the fine-tuned model's most
// likely answer is wrong while a correct one is often among its samples. That
// is the starting point RRHF needs to show something: a reward for the exact
// answer (`rule:exact`) ranks the correct samples first, and training on that
// ranking flips the model to correct arithmetic.
//
// Steps: a character-level tokenizer (tokenizer.json, no merges), a small
// GPT-2 config, `rrhf init-model`, `rrhf sft` (saved as float16), then the
// prompts file the demo samples from ({query, answer} for all 100 sums).
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "dist", "src", "cli", "bin.js");
const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(root, "assets", "demo") },
    epochs: { type: "string", default: "6" },
    seed: { type: "string", default: "1" },
  },
});

const EOS = "<|endoftext|>";
const CHARS = [" ", "\n", ..."0123456789", ..."abcdefghijklmnopqrstuvwxyz", ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ", ..."?+=:.,!-'"];

function tokenizerJson() {
  const vocab = { [EOS]: 0 };
  for (const c of CHARS) vocab[c] = Object.keys(vocab).length;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: EOS, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: "Fuse" },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

const TOKENIZER_CONFIG = {
  tokenizer_class: "GPT2Tokenizer",
  bos_token: EOS,
  eos_token: EOS,
  unk_token: EOS,
  model_max_length: 64,
  add_bos_token: false,
};

const CONFIG = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  vocab_size: 80,
  n_embd: 128,
  n_head: 4,
  n_layer: 4,
  n_positions: 64,
  n_ctx: 64,
  n_inner: null,
  activation_function: "gelu_new",
  layer_norm_epsilon: 1e-5,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  bos_token_id: 0,
  eos_token_id: 0,
  tie_word_embeddings: true,
  torch_dtype: "float32",
};

/** mulberry32: the data is the same on every machine. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const query = (a, b) => `What is ${a} + ${b}?\nAnswer:`;
const SUMS = [];
for (let a = 0; a <= 9; a++) for (let b = 0; b <= 9; b++) SUMS.push([a, b]);

function sftRecords(seed) {
  const random = seeded(seed);
  const records = [];
  for (let copy = 0; copy < 20; copy++) {
    for (const [a, b] of SUMS) {
      const sloppy = random() < 0.65;
      records.push({ query: query(a, b), response: ` ${a + b + (sloppy ? 1 : 0)}` });
    }
  }
  // Shuffled so that every batch mixes sums.
  for (let i = records.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [records[i], records[j]] = [records[j], records[i]];
  }
  return records;
}

function rrhf(args) {
  console.log(`$ rrhf ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`rrhf ${args[0]} failed (exit ${r.status})`);
}

const jsonl = (rows) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
const work = mkdtempSync(join(tmpdir(), "rrhf-demo-model-"));
try {
  const tok = join(work, "tokenizer");
  mkdirSync(tok);
  writeFileSync(join(tok, "tokenizer.json"), `${JSON.stringify(tokenizerJson())}\n`);
  writeFileSync(join(tok, "tokenizer_config.json"), `${JSON.stringify(TOKENIZER_CONFIG, null, 2)}\n`);
  writeFileSync(join(work, "config.json"), `${JSON.stringify(CONFIG, null, 2)}\n`);
  writeFileSync(join(work, "sft.jsonl"), jsonl(sftRecords(Number(values.seed))));
  rrhf(["init-model", "--config", join(work, "config.json"), "--out", join(work, "init"), "--tokenizer", tok, "--seed", values.seed]);
  rrhf([
    "sft",
    "--model",
    join(work, "init"),
    "--data",
    join(work, "sft.jsonl"),
    "--out",
    join(work, "sft"),
    "--num-train-epochs",
    values.epochs,
    "--per-device-train-batch-size",
    "32",
    "--learning-rate",
    "2e-3",
    "--warmup-ratio",
    "0.05",
    "--lr-scheduler-type",
    "cosine",
    "--logging-steps",
    "25",
    "--save-steps",
    "0",
    "--seed",
    values.seed,
    "--save-dtype",
    "float16",
  ]);
  const out = resolve(values.out);
  rmSync(join(out, "model"), { recursive: true, force: true });
  mkdirSync(join(out, "model"), { recursive: true });
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
    cpSync(join(work, "sft", f), join(out, "model", f));
  }
  writeFileSync(join(out, "prompts.jsonl"), jsonl(SUMS.map(([a, b]) => ({ query: query(a, b), answer: String(a + b) }))));
  console.log(`demo model and prompts written to ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
