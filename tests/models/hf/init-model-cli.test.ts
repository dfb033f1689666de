import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, type CliIo } from "../../../src/cli/main.js";
import { loadModelFolder, saveModelFolder } from "../../../src/models/hf/folder.js";
import { fixture, tempDir } from "../../helpers.js";
import { TINY_GPT2, TINY_LLAMA } from "./helpers.js";

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

function configFile(dir: string, config: object, text?: string): string {
  const file = join(dir, "config.json");
  writeFileSync(file, text ?? JSON.stringify(config));
  return file;
}

test("init-model writes a loadable GPT-2 folder with the real GPT-2 tokenizer; save/load round-trips", async () => {
  const root = tempDir();
  // Odd formatting on purpose: the config must be copied byte for byte.
  const text = `{"architectures": ["GPT2LMHeadModel"],\n  "model_type":"gpt2", "n_embd": 8, "n_layer": 2, "n_head": 2,\n "n_positions": 16, "vocab_size": 50257}\n`;
  const cfg = configFile(root, {}, text);
  const out = join(root, "model");
  const r = await cli(["init-model", "--config", cfg, "--out", out, "--seed", "7", "--tokenizer", fixture("tokenizers", "gpt2")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /initialised GPT2LMHeadModel \(2 layers, \d+ parameters, seed 7\)/);
  assert.equal(readFileSync(join(out, "config.json"), "utf8"), text);
  assert.deepEqual(readdirSync(out).sort(), ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
  const m = loadModelFolder(out);
  assert.equal(m.normalized.vocabSize, 50257);
  const C = 8;
  const perLayer = 2 * C + C * 3 * C + 3 * C + C * C + C + 2 * C + C * 4 * C + 4 * C + 4 * C * C + C;
  assert.equal(m.params.size, 50257 * C + 16 * C + 2 * perLayer + 2 * C); // tied: no lm_head

  // load → save → load: identical tensors, tokenizer files carried over.
  const copy = join(root, "copy");
  saveModelFolder(copy, m);
  const back = loadModelFolder(copy);
  assert.deepEqual(new Uint32Array(back.params.data.buffer), new Uint32Array(m.params.data.buffer));
  assert.ok(readFileSync(join(copy, "tokenizer.json")).equals(readFileSync(fixture("tokenizers", "gpt2", "tokenizer.json"))));

  // Same seed again: identical weights file.
  const again = join(root, "again");
  assert.equal((await cli(["init-model", "--config", cfg, "--out", again, "--seed", "7"])).code, 0);
  assert.ok(readFileSync(join(again, "model.safetensors")).equals(readFileSync(join(out, "model.safetensors"))));
});

test("init-model for a Llama config; --force replaces an earlier model folder", async () => {
  const root = tempDir();
  const cfg = configFile(root, TINY_LLAMA);
  const out = join(root, "m");
  assert.equal((await cli(["init-model", "--config", cfg, "--out", out, "--seed", "1"])).code, 0);
  const first = readFileSync(join(out, "model.safetensors"));
  const again = await cli(["init-model", "--config", cfg, "--out", out, "--seed", "2"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /folder exists and is not empty/);
  assert.equal((await cli(["init-model", "--config", cfg, "--out", out, "--seed", "2", "--force"])).code, 0);
  assert.ok(!readFileSync(join(out, "model.safetensors")).equals(first));
  assert.equal(loadModelFolder(out).normalized.modelType, "llama");
});

test("a tokenizer with more ids than vocab_size is refused before anything is written", async () => {
  const root = tempDir();
  const cfg = configFile(root, TINY_GPT2); // vocab_size 11
  const r = await cli(["init-model", "--config", cfg, "--out", join(root, "m"), "--tokenizer", fixture("tokenizers", "gpt2")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the tokenizer has 50257 token ids but .*config\.json has vocab_size 11/);
  assert.deepEqual(readdirSync(root), ["config.json"]);
  const noTok = join(root, "empty");
  mkdirSync(noTok);
  const r2 = await cli(["init-model", "--config", cfg, "--out", join(root, "m"), "--tokenizer", noTok]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /no tokenizer\.json/);
});

test("usage and input errors: bad seed (2), missing flags (2), missing/broken/unsupported config (1)", async () => {
  const root = tempDir();
  const cfg = configFile(root, TINY_GPT2);
  const bad = await cli(["init-model", "--config", cfg, "--out", join(root, "m"), "--seed", "-3"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--seed must be an integer from 0 to 4294967295/);
  assert.equal((await cli(["init-model", "--config", cfg])).code, 2);
  const missing = await cli(["init-model", "--config", join(root, "nope.json"), "--out", join(root, "m")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.json: cannot read \(ENOENT\)/);
  writeFileSync(join(root, "broken.json"), "{");
  assert.match((await cli(["init-model", "--config", join(root, "broken.json"), "--out", join(root, "m")])).stderr, /not valid JSON/);
  writeFileSync(join(root, "bert.json"), JSON.stringify({ architectures: ["BertModel"] }));
  const bert = await cli(["init-model", "--config", join(root, "bert.json"), "--out", join(root, "m")]);
  assert.equal(bert.code, 1);
  assert.match(
    bert.stderr,
    /unsupported architecture "BertModel" \(supported: GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM\)/,
  );
});
