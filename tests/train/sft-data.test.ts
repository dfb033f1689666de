/**
 * SFT data and the library entry: `{text}` encoding and truncation, reading
 * gzip-compressed JSONL through the shared readers, and `sft()` with
 * evaluation (eval lines without ranking keys) on the tiny fixtures.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { readSftRecords } from "../../src/data/sft-record.js";
import { encodeSftRecord } from "../../src/tokenize/sft-encode.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { resolveSftConfig } from "../../src/train/sft-config.js";
import { sft } from "../../src/train/sft.js";
import { fixture, tempDir } from "../helpers.js";

const MODEL = fixture("models", "gpt2-tiny");

test("a {text} record scores every token after the first, ends with EOS, and loses the EOS when cut", async () => {
  const tok = await loadTokenizer(MODEL);
  const eos = tok.special.eos_token_id;
  const ids = tok.encode("Hello!", { addSpecialTokens: true });
  const enc = encodeSftRecord(tok, { text: "Hello!" }, { maxLength: 64 });
  assert.deepEqual(enc.query_ids, ids.slice(0, 1));
  assert.deepEqual(enc.responses[0].response_ids, [...ids.slice(1), eos]);
  assert.equal(enc.responses[0].cut, false);
  const cut = encodeSftRecord(tok, { text: "Hello!" }, { maxLength: 4 });
  assert.deepEqual([...cut.query_ids, ...cut.responses[0].response_ids], ids.slice(0, 4));
  assert.equal(cut.responses[0].cut, true);
  assert.equal(cut.report.responsesCut, 1);
  const emptied = encodeSftRecord(tok, { text: "Hello!" }, { maxLength: 1, name: "f:3" });
  assert.equal(emptied.responses.length, 0);
  assert.deepEqual(emptied.report.emptiedIn, ["f:3"]);
  assert.throws(
    () => encodeSftRecord(tok, { text: "Hello!" }, { maxLength: 1, name: "f:3", strict: true }),
    /f:3: text keeps fewer than 2 tokens/,
  );
});

test("a {query, response} record encodes as the same RRHF response would", async () => {
  const tok = await loadTokenizer(MODEL);
  const enc = encodeSftRecord(tok, { query: "Hi!", response: " Hello." }, { maxLength: 64 });
  assert.deepEqual(enc.query_ids, tok.encode("Hi!", { addSpecialTokens: true }));
  assert.deepEqual(enc.responses[0].response_ids, [...tok.encode(" Hello.", { addSpecialTokens: false }), tok.special.eos_token_id]);
});

test("SFT records are read from .jsonl.gz, with errors naming the line and field", async () => {
  const dir = tempDir();
  const file = join(dir, "sft.jsonl.gz");
  writeFileSync(file, gzipSync('{"text": "a"}\n\n{"query": "q", "response": "r", "id": 7}\n{"text": 3}\n'));
  const got: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of readSftRecords(file)) got.push(r);
    })(),
    /sft\.jsonl\.gz:4: text: expected a string, got number 3/,
  );
  assert.deepEqual(got, [
    { line: 1, record: { text: "a" } },
    { line: 3, record: { query: "q", response: "r" } },
  ]);
});

test("sft() trains and evaluates: eval lines carry eval_loss and no ranking keys", async () => {
  const out = join(tempDir(), "lib");
  const config = resolveSftConfig({
    overrides: {
      model: MODEL,
      data: fixture("train", "tiny-sft.jsonl"),
      eval_data: fixture("train", "tiny-sft.jsonl"),
      output_dir: out,
      backend: "ref",
      max_steps: 4,
      logging_steps: 2,
      save_steps: 0,
      per_device_train_batch_size: 2,
      per_device_eval_batch_size: 4,
      learning_rate: 3e-3,
      model_max_length: 64,
    },
  });
  assert.equal(config.objective, "sft");
  const result = await sft(config);
  assert.equal(result.globalStep, 4);
  const evals = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number>)
    .filter((l) => "eval_loss" in l);
  assert.equal(evals.length, 2);
  for (const e of evals) assert.deepEqual(Object.keys(e).sort(), ["epoch", "eval_loss", "eval_queries", "eval_sft_loss", "step"]);
  assert.ok(evals[1].eval_loss < evals[0].eval_loss, "the training data's loss falls");
  assert.throws(() => resolveSftConfig({ overrides: { rrhf_weight: 2 } as never }), /rrhf_weight: is a setting of rrhf train/);
});
