import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../../src/errors.js";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "../../../src/io/safetensors.js";
import { loadModelFolder, saveModelFolder } from "../../../src/models/hf/folder.js";
import { fixture, tempDir } from "../../helpers.js";
import { initStore, tensorsOf, TINY_GPT2, TINY_LLAMA, writeFolder } from "./helpers.js";

function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

test("load → save → load keeps every tensor bit for bit, config, generation config and tokenizer files", () => {
  const root = tempDir();
  const src = writeFolder(join(root, "src"), { ...TINY_LLAMA, torch_dtype: "bfloat16" }, tensorsOf(initStore(TINY_LLAMA)));
  writeFileSync(join(src, "generation_config.json"), JSON.stringify({ bos_token_id: 1, do_sample: true }));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) writeFileSync(join(src, f), readFileSync(fixture("tokenizers", "gpt2", f)));
  writeFileSync(join(src, "special_tokens_map.json"), "{}");

  const a = loadModelFolder(src);
  assert.equal(a.normalized.modelType, "llama");
  assert.ok(a.generationConfig);
  saveModelFolder(join(root, "out"), a);
  const b = loadModelFolder(join(root, "out"));

  assert.deepEqual(b.params.names(), a.params.names());
  assert.deepEqual(bits(b.params.data), bits(a.params.data));
  assert.deepEqual(b.generationConfig, { bos_token_id: 1, do_sample: true });
  // Only torch_dtype changes: the weights are written as float32.
  assert.deepEqual(b.config, { ...a.config, torch_dtype: "float32" });
  assert.deepEqual(readdirSync(join(root, "out")).sort(), [
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  assert.ok(readFileSync(join(root, "out", "tokenizer.json")).equals(readFileSync(fixture("tokenizers", "gpt2", "tokenizer.json"))));
  assert.deepEqual(readSafetensorsHeader(join(root, "out", "model.safetensors")).metadata, { format: "pt" });
  // Saving again gives the same bytes (deterministic writer).
  saveModelFolder(join(root, "out2"), b);
  assert.ok(readFileSync(join(root, "out2", "model.safetensors")).equals(readFileSync(join(root, "out", "model.safetensors"))));
  assert.deepEqual(readdirSync(root).sort(), ["out", "out2", "src"]); // no temporary folders left
});

test("the arena comes from the given alloc", () => {
  const dir = writeFolder(tempDir(), TINY_GPT2, tensorsOf(initStore(TINY_GPT2)));
  const sizes: number[] = [];
  const m = loadModelFolder(dir, { alloc: (n) => (sizes.push(n), new Float32Array(n)) });
  assert.deepEqual(sizes, [m.params.size]);
});

test("strict load names every missing, unexpected and misshaped tensor at once", () => {
  const tensors = tensorsOf(initStore(TINY_GPT2)).filter(
    (t) => t.name !== "transformer.h.1.ln_2.bias" && t.name !== "transformer.ln_f.weight",
  );
  const wpe = tensors.find((t) => t.name === "transformer.wpe.weight")!;
  wpe.shape = [8, 16]; // transposed
  tensors.push({ name: "transformer.h.0.attn.extra", shape: [1], data: new Float32Array(1) });
  tensors.push({ name: "score.weight", shape: [1], data: new Float32Array(1) });
  const dir = writeFolder(tempDir(), TINY_GPT2, tensors);
  rejects(
    () => loadModelFolder(dir),
    /checkpoint does not match config\.json \(GPT2LMHeadModel\)/,
    /missing tensors \(2\):\n {4}transformer\.h\.1\.ln_2\.bias\n {4}transformer\.ln_f\.weight/,
    /unexpected tensors \(2\):\n {4}transformer\.h\.0\.attn\.extra\n {4}score\.weight/,
    /wrong shape \(1\):\n {4}transformer\.wpe\.weight: checkpoint \[8, 16\], config expects \[16, 8\]/,
  );
});

test("an integer tensor where a parameter belongs is named", () => {
  const dir = tempDir();
  writeFolder(dir, TINY_GPT2, tensorsOf(initStore(TINY_GPT2)));
  // Rewrite one tensor as I32 by hand: same bytes, different dtype.
  const file = join(dir, "model.safetensors");
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = bytes
    .subarray(8, 8 + n)
    .toString("utf8")
    .replace(/("transformer\.wte\.weight":\{"dtype":)"F32"/, '$1"I32"');
  writeFileSync(file, Buffer.concat([bytes.subarray(0, 8), Buffer.from(header), bytes.subarray(8 + n)]));
  rejects(() => loadModelFolder(dir), /non-float dtype \(1\):\n {4}transformer\.wte\.weight: dtype I32/);
});

test("a GPT-2 checkpoint saved from GPT2Model (no `transformer.` prefix, mask buffers) loads like the hub's gpt2", () => {
  const store = initStore(TINY_GPT2);
  const bare = tensorsOf(store).map((t) => ({ ...t, name: t.name.replace(/^transformer\./, "") }));
  for (let i = 0; i < 2; i++) {
    bare.push({ name: `h.${i}.attn.bias`, shape: [1, 1, 16, 16], data: new Float32Array(256) });
    bare.push({ name: `h.${i}.attn.masked_bias`, shape: [], data: new Float32Array([-1e4]) });
  }
  const dir = writeFolder(tempDir(), TINY_GPT2, bare);
  const m = loadModelFolder(dir);
  assert.deepEqual(bits(m.params.data), bits(store.data));
  // Saved back under the full GPT2LMHeadModel names, buffers dropped.
  const out = join(tempDir(), "out");
  saveModelFolder(out, m);
  const names = [...readSafetensors(join(out, "model.safetensors")).keys()];
  assert.deepEqual(names, [...store.names()]);
});

test("a checkpoint mixing prefixed and bare names is not silently accepted", () => {
  const tensors = tensorsOf(initStore(TINY_GPT2));
  tensors[0] = { ...tensors[0], name: "wte.weight" };
  rejects(
    () => loadModelFolder(writeFolder(tempDir(), TINY_GPT2, tensors)),
    /missing tensors \(1\):\n {4}transformer\.wte\.weight/,
    /unexpected tensors \(1\):\n {4}wte\.weight/,
  );
});

test("a tied head stored anyway must equal the embedding", () => {
  const store = initStore(TINY_GPT2);
  const tensors = tensorsOf(store);
  const wte = store.view("transformer.wte.weight");
  const same = writeFolder(tempDir(), TINY_GPT2, [...tensors, { name: "lm_head.weight", shape: [11, 8], data: wte.slice() }]);
  assert.deepEqual(bits(loadModelFolder(same).params.data), bits(store.data));
  const other = wte.slice();
  other[5] += 1;
  const differ = writeFolder(tempDir(), TINY_GPT2, [...tensors, { name: "lm_head.weight", shape: [11, 8], data: other }]);
  rejects(() => loadModelFolder(differ), /ties the LM head to transformer\.wte\.weight .* but the checkpoint's lm_head\.weight differs/);
});

test("F16 and BF16 checkpoints load upcast to float32", () => {
  const dir = tempDir();
  writeFolder(dir, TINY_GPT2, []); // config.json only; weights below
  const store = initStore(TINY_GPT2);
  // One BF16 tensor by hand (values chosen exactly representable), the rest F32.
  const names = store.names();
  const header: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  let off = 0;
  for (const name of names) {
    const shape = [...store.shape(name)];
    let data: Buffer;
    if (name === "transformer.ln_f.bias") {
      const v = new Uint16Array(8).map((_, i) => 0x3f80 + i * 0x80); // 1, 2, 4, ...
      data = Buffer.from(v.buffer);
      header[name] = { dtype: "BF16", shape, data_offsets: [off, off + data.length] };
    } else if (name === "transformer.ln_f.weight") {
      data = Buffer.from(new Uint16Array(8).fill(0xc000).buffer); // F16 -2
      header[name] = { dtype: "F16", shape, data_offsets: [off, off + data.length] };
    } else {
      const v = store.view(name);
      data = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      header[name] = { dtype: "F32", shape, data_offsets: [off, off + data.length] };
    }
    chunks.push(data);
    off += data.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(join(dir, "model.safetensors"), Buffer.concat([len, json, ...chunks]));
  const m = loadModelFolder(dir);
  assert.deepEqual([...m.params.view("transformer.ln_f.bias")], [1, 2, 4, 8, 16, 32, 64, 128]);
  assert.deepEqual([...m.params.view("transformer.ln_f.weight")], new Array(8).fill(-2));
  assert.deepEqual(bits(m.params.view("transformer.wte.weight")), bits(store.view("transformer.wte.weight")));
});

test("a sharded model folder loads", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify(TINY_LLAMA));
  const tensors = tensorsOf(initStore(TINY_LLAMA));
  const half = Math.floor(tensors.length / 2);
  const shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  writeSafetensors(join(dir, shards[0]), tensors.slice(0, half));
  writeSafetensors(join(dir, shards[1]), tensors.slice(half));
  const weight_map = Object.fromEntries(tensors.map((t, i) => [t.name, shards[i < half ? 0 : 1]]));
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map }));
  const m = loadModelFolder(dir);
  assert.deepEqual(bits(m.params.data), bits(initStore(TINY_LLAMA).data));
});

test("the committed tiny model fixtures (written by the Python reference) load with the values on disk", () => {
  for (const name of ["gpt2-tiny", "llama-tiny", "qwen2-tiny"]) {
    const dir = fixture("models", name);
    const m = loadModelFolder(dir);
    const raw = readSafetensors(join(dir, "model.safetensors"));
    for (const p of m.params.names()) assert.deepEqual(bits(m.params.view(p)), bits(raw.get(p)!.data), `${name}: ${p}`);
  }
});

test("save never replaces a folder that is not a model folder, and replaces a model folder only with overwrite", () => {
  const root = tempDir();
  const m = loadModelFolder(writeFolder(join(root, "src"), TINY_GPT2, tensorsOf(initStore(TINY_GPT2))));
  const user = join(root, "user");
  mkdirSync(user);
  writeFileSync(join(user, "notes.txt"), "mine");
  rejects(() => saveModelFolder(user, m), /folder exists and is not empty/);
  rejects(() => saveModelFolder(user, m, { overwrite: true }), /refusing to replace a non-empty folder that is not a model folder/);
  assert.equal(readFileSync(join(user, "notes.txt"), "utf8"), "mine");

  const out = join(root, "out");
  saveModelFolder(out, m);
  rejects(() => saveModelFolder(out, m), /not empty/);
  m.params.view("transformer.ln_f.bias").fill(3);
  saveModelFolder(out, m, { overwrite: true });
  assert.deepEqual([...loadModelFolder(out).params.view("transformer.ln_f.bias")], new Array(8).fill(3));
  assert.deepEqual(readdirSync(root).sort(), ["out", "src", "user"]);
});

test("a save that fails part-way leaves neither the target nor a temporary folder", () => {
  const root = tempDir();
  const m = loadModelFolder(writeFolder(join(root, "src"), TINY_GPT2, tensorsOf(initStore(TINY_GPT2))));
  const badTok = join(root, "tok");
  mkdirSync(join(badTok, "tokenizer.json"), { recursive: true }); // a folder where a file belongs: the copy fails
  assert.throws(() => saveModelFolder(join(root, "out"), m, { tokenizerDir: badTok }));
  assert.equal(existsSync(join(root, "out")), false);
  assert.deepEqual(readdirSync(root).sort(), ["src", "tok"]);
});

test("folder errors: missing folder, missing or broken config.json", () => {
  const root = tempDir();
  rejects(() => loadModelFolder(join(root, "nope")), /model folder not found/);
  mkdirSync(join(root, "a"));
  rejects(() => loadModelFolder(join(root, "a")), /config\.json: not found/);
  writeFileSync(join(root, "a", "config.json"), "{");
  rejects(() => loadModelFolder(join(root, "a")), /config\.json: cannot read JSON/);
  writeFileSync(join(root, "a", "config.json"), JSON.stringify({ architectures: ["OPTForCausalLM"] }));
  rejects(() => loadModelFolder(join(root, "a")), /unsupported architecture "OPTForCausalLM"/);
});
