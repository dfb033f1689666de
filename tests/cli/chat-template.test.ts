/**
 * `--chat-template` on every command that tokenises (validate, loss, train),
 * through the real binary. The gpt2-tiny fixture carries a character
 * tokenizer (one token per character, no BOS added), so the template's
 * added tokens can be counted by hand.
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fixture, runRrhf, tempDir } from "../helpers.js";

const MODEL = fixture("models", "gpt2-tiny");
const TRAIN_DATA = fixture("train", "tiny-train.jsonl");
const LOSS_DATA = fixture("golden", "loss-data.jsonl");
/** Renders `u: Hi there\na:` for the user message "Hi there": 3 + 1 + 2 characters around the content. */
const TEMPLATE = "{% for m in messages %}{{ m.role[0] }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}a:{% endif %}";

/** A copy of the gpt2-tiny model folder whose tokenizer_config.json has `chat_template`. */
function templatedModel(): string {
  const dir = tempDir("rrhf-chat-");
  cpSync(MODEL, dir, { recursive: true });
  const configPath = join(dir, "tokenizer_config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
  writeFileSync(configPath, JSON.stringify({ ...config, chat_template: TEMPLATE }));
  return dir;
}

function oneRecordFile(query: string): string {
  const file = join(tempDir(), "data.jsonl");
  writeFileSync(file, `${JSON.stringify({ query, responses: [" yes", " no"], scores: [1, 0] })}\n`);
  return file;
}

interface TokenJson {
  tokens: { query: { max: number }; response: { max: number; mean: number } };
}

function validateTokens(args: string[]): TokenJson["tokens"] {
  const r = runRrhf(["validate", "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as TokenJson).tokens;
}

test("validate --chat-template measures the rendered query: a plain query gains exactly the template's 6 tokens", () => {
  const tok = templatedModel();
  const plainQuery = oneRecordFile("Hi there");
  // "Hi there" = 8 characters; rendered "u: Hi there\na:" = 14.
  assert.equal(validateTokens(["--tokenizer", tok, plainQuery]).query.max, 8);
  const templated = validateTokens(["--tokenizer", tok, "--chat-template", plainQuery]);
  assert.equal(templated.query.max, 14);
  // Responses are not templated: " yes" stays 4 tokens.
  assert.equal(templated.response.max, 4);

  // An HH transcript becomes its user turn: "\n\nHuman: Hi!\n\nAssistant:" (24) renders as "u: Hi!\na:" (9).
  const hh = oneRecordFile("\n\nHuman: Hi!\n\nAssistant:");
  assert.equal(validateTokens(["--tokenizer", tok, hh]).query.max, 24);
  assert.equal(validateTokens(["--tokenizer", tok, "--chat-template", hh]).query.max, 9);
});

test("--chat-template with a tokenizer that has no chat_template exits 1 naming its tokenizer_config.json", () => {
  const data = oneRecordFile("Hi there");
  const expected = `rrhf: error: --chat-template: ${join(MODEL, "tokenizer_config.json")} has no chat_template; add one there or drop --chat-template\n`;
  const v = runRrhf(["validate", "--tokenizer", MODEL, "--chat-template", data]);
  assert.equal(v.code, 1);
  assert.equal(v.stderr, expected);
  const l = runRrhf(["loss", "--model", MODEL, "--data", LOSS_DATA, "--backend", "ref", "--chat-template"]);
  assert.equal(l.code, 1);
  assert.equal(l.stderr, expected);
  const out = tempDir();
  const t = runRrhf([
    "train",
    "--model",
    MODEL,
    "--data",
    TRAIN_DATA,
    "--out",
    out,
    "--backend",
    "ref",
    "--max-steps",
    "1",
    "--model-max-length",
    "64",
    "--chat-template",
  ]);
  assert.equal(t.code, 1);
  assert.ok(t.stderr.endsWith(expected), t.stderr);
  // Without a tokenizer, validate has nothing to render with: a usage error.
  assert.equal(runRrhf(["validate", "--chat-template", data]).code, 2);
});

test("loss --chat-template runs and changes the policy scores", () => {
  const model = templatedModel();
  const parse = (stdout: string) =>
    stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { scores: number[]; loss: number });
  const plain = runRrhf(["loss", "--model", model, "--data", LOSS_DATA, "--json", "--backend", "ref"]);
  const chat = runRrhf(["loss", "--model", model, "--data", LOSS_DATA, "--json", "--backend", "ref", "--chat-template"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(chat.code, 0, chat.stderr);
  const a = parse(plain.stdout);
  const b = parse(chat.stdout);
  assert.equal(b.length, a.length);
  b.forEach((q, i) => {
    assert.ok(Number.isFinite(q.loss));
    assert.equal(q.scores.length, a[i].scores.length);
    // Same responses, another context: every score moves.
    q.scores.forEach((s, j) => assert.notEqual(s, a[i].scores[j], `query ${i + 1} response ${j}`));
  });
});

test("train --chat-template trains on the rendered queries and records the setting", () => {
  const model = templatedModel();
  const run = (out: string, ...more: string[]) =>
    runRrhf([
      "train",
      "--model",
      model,
      "--data",
      TRAIN_DATA,
      "--out",
      out,
      "--backend",
      "ref",
      "--model-max-length",
      "64",
      "--max-steps",
      "1",
      "--logging-steps",
      "1",
      "--save-steps",
      "1",
      ...more,
    ]);
  const plainOut = tempDir();
  const chatOut = tempDir();
  const plain = run(plainOut);
  const chat = run(chatOut, "--chat-template");
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(chat.code, 0, chat.stderr);
  assert.match(chat.stdout, /^ {2}train data {2}.*tiny-train\.jsonl: 8 queries, 21 responses$/m);
  const firstLoss = (out: string): number =>
    (JSON.parse(readFileSync(join(out, "metrics.jsonl"), "utf8").split("\n")[0]) as { loss: number }).loss;
  // Same seed, weights and data order: only the query tokens differ, so the first step's loss does too.
  assert.ok(Number.isFinite(firstLoss(chatOut)));
  assert.notEqual(firstLoss(chatOut), firstLoss(plainOut));
  const args = (out: string) =>
    JSON.parse(readFileSync(join(out, "checkpoint-1", "training_args.json"), "utf8")) as Record<string, unknown>;
  assert.equal(args(chatOut).chat_template, true);
  assert.equal(args(plainOut).chat_template, false);
});

test("train takes chat_template from a YAML config file, and --no-chat-template overrides it", () => {
  const model = templatedModel();
  const dir = tempDir();
  const file = join(dir, "run.yaml");
  writeFileSync(
    file,
    `model: ${model}\ndata: ${TRAIN_DATA}\nbackend: ref\nmax_steps: 1\nsave_steps: 1\nmodel_max_length: 64\nchat_template: true\n`,
  );
  const args = (out: string) =>
    JSON.parse(readFileSync(join(out, "checkpoint-1", "training_args.json"), "utf8")) as Record<string, unknown>;
  const on = join(dir, "on");
  assert.equal(runRrhf(["train", "--config", file, "--out", on]).code, 0);
  assert.equal(args(on).chat_template, true);
  const off = join(dir, "off");
  assert.equal(runRrhf(["train", "--config", file, "--out", off, "--no-chat-template"]).code, 0);
  assert.equal(args(off).chat_template, false);
});
