import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { tempDir } from "../helpers.js";
import { G, GPT2_DIR, L, LLAMA_DIR, gpt2, llama, readJson, withConfig } from "./tokenizers.js";

test("GPT-2: plain words encode to their vocab ids, no special tokens added", async () => {
  const tok = await gpt2();
  assert.deepEqual(tok.encode("Hello world"), [15496, 995]);
  assert.deepEqual(tok.encode("The cat sat on the mat"), [G.The, G._cat, G._sat, G._on, G._the, G._mat]);
  // The ids above are also what the vocab says for each token string.
  const vocab = (readJson(join(GPT2_DIR, "tokenizer.json")).model as { vocab: Record<string, number> }).vocab;
  assert.deepEqual(
    ["Hello", "\u0120world", "<|endoftext|>"].map((t) => vocab[t] ?? tok.tokenToId(t)),
    [15496, 995, 50256],
  );
  assert.equal(tok.decode([15496, 995]), "Hello world");
  assert.equal(tok.decode([]), "");
});

test("GPT-2: special ids resolve from tokenizer_config.json; pad falls back to EOS", async () => {
  const tok = await gpt2();
  assert.deepEqual(tok.special, { bos_token_id: 50256, eos_token_id: 50256, pad_token_id: 50256 });
  assert.equal(tok.modelMaxLength, 1024);
  assert.equal(tok.chatTemplate, null);
  assert.equal(tok.specialText.eos_token, "<|endoftext|>");
});

test("Llama-family: encode adds BOS unless told not to; HF's 1e30 max length means no limit", async () => {
  const tok = await llama();
  assert.deepEqual(tok.encode("Hello world"), [L.bos, L._Hello, L._world]);
  assert.deepEqual(tok.encode("Hello world", { addSpecialTokens: false }), [L._Hello, L._world]);
  assert.deepEqual(tok.special, { bos_token_id: 1, eos_token_id: 2, pad_token_id: 2 });
  assert.equal(tok.modelMaxLength, null);
});

test("Llama-family: characters outside the vocab fall back to their UTF-8 bytes", async () => {
  const tok = await llama();
  const text = "\u{1D538}"; // MATHEMATICAL DOUBLE-STRUCK CAPITAL A, not in the vocab
  const bytes = [...new TextEncoder().encode(text)];
  assert.deepEqual(bytes, [0xf0, 0x9d, 0x94, 0xb8]);
  const byteIds = bytes.map((b) => tok.tokenToId(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`));
  assert.deepEqual(byteIds, [243, 160, 151, 187]); // "<0x00>" is id 3
  assert.deepEqual(tok.encode(text, { addSpecialTokens: false }), [L._, ...byteIds]);
  assert.equal(tok.decode(tok.encode(text, { addSpecialTokens: false })).trim(), text);
});

test("special tokens given as {content} objects in special_tokens_map.json resolve; a pad token is used when set", () => {
  const tok = withConfig(
    GPT2_DIR,
    { model_max_length: 8 },
    { eos_token: { content: "<|endoftext|>", lstrip: false }, bos_token: "<|endoftext|>", pad_token: { content: "!" } },
  );
  assert.deepEqual(tok.special, { bos_token_id: 50256, eos_token_id: 50256, pad_token_id: G.bang });
  assert.equal(tok.modelMaxLength, 8);
});

test("tokenizer_config.json wins over special_tokens_map.json", () => {
  const tok = withConfig(GPT2_DIR, { eos_token: { content: "Hello" } }, { eos_token: "<|endoftext|>" });
  assert.equal(tok.special.eos_token_id, G.Hello);
  assert.equal(tok.special.bos_token_id, null);
});

test("no EOS anywhere is a UserError naming tokenizer_config.json", () => {
  assert.throws(
    () => withConfig(GPT2_DIR, { bos_token: "<|endoftext|>" }),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /tokenizer_config\.json: no eos_token/);
      return true;
    },
  );
});

test("an EOS that is not in the vocabulary is a UserError", () => {
  assert.throws(() => withConfig(GPT2_DIR, { eos_token: "<no-such-token>" }), /eos_token "<no-such-token>" is not in the vocabulary/);
});

test("a folder without tokenizer.json is a UserError naming the file", async () => {
  const dir = tempDir();
  await assert.rejects(loadTokenizer(dir), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /tokenizer\.json: file not found/);
    assert.ok(e.message.includes(dir));
    return true;
  });
});

test("unreadable JSON in tokenizer_config.json is a UserError naming the file", async () => {
  const dir = tempDir();
  copyFileSync(join(GPT2_DIR, "tokenizer.json"), join(dir, "tokenizer.json"));
  writeFileSync(join(dir, "tokenizer_config.json"), "{ not json");
  await assert.rejects(loadTokenizer(dir), /tokenizer_config\.json: not valid JSON/);
  writeFileSync(join(dir, "tokenizer_config.json"), "[1, 2]");
  await assert.rejects(loadTokenizer(dir), /tokenizer_config\.json: expected a JSON object/);
});

test("special_tokens_map.json is optional but read when present", async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(LLAMA_DIR, "tokenizer.json"), join(dir, "tokenizer.json"));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ model_max_length: 16 }));
  await assert.rejects(loadTokenizer(dir), /no eos_token/);
  writeFileSync(join(dir, "special_tokens_map.json"), JSON.stringify({ eos_token: { content: "</s>" }, pad_token: "<unk>" }));
  const tok = await loadTokenizer(dir);
  assert.deepEqual(tok.special, { bos_token_id: null, eos_token_id: 2, pad_token_id: 0 });
  assert.equal(tok.modelMaxLength, 16);
});
