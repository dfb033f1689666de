/**
 * Input formats and converters through the real binary: `rrhf convert` on
 * every sample in tests/fixtures/formats (JSONL, .jsonl.gz, Parquet), then
 * one training step on each result with the gpt2-tiny fixture; `train` and
 * `validate` reading .jsonl.gz and Parquet directly; --format, --skip-invalid
 * and the truncated .gz. Records with `messages` train through a copy of the
 * model whose tokenizer_config.json has a chat template.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fixture, runRrhf, tempDir } from "../helpers.js";

const MODEL = fixture("models", "gpt2-tiny");
const sample = (name: string): string => `tests/fixtures/formats/${name}`;

/** A copy of gpt2-tiny with a chat template (messages records need one). */
function templatedModel(): string {
  const dir = tempDir("rrhf-chat-");
  cpSync(MODEL, dir, { recursive: true });
  const path = join(dir, "tokenizer_config.json");
  const config = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const template = "{% for m in messages %}{{ m.role[0] }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}a:{% endif %}";
  writeFileSync(path, JSON.stringify({ ...config, chat_template: template }));
  return dir;
}

function trainOneStep(model: string, data: string): void {
  const out = tempDir();
  const r = runRrhf([
    "train",
    "--model",
    model,
    "--data",
    data,
    "--out",
    out,
    "--backend",
    "ref",
    "--max-steps",
    "1",
    "--model-max-length",
    "64",
  ]);
  assert.equal(r.code, 0, `${data}: ${r.stderr}`);
  assert.match(r.stdout, /done: 1 steps, loss \d/, data);
  assert.ok(existsSync(join(out, "model.safetensors")), data);
}

const CONVERSIONS: [string, string, number][] = [
  ["pairs", "pairs.jsonl.gz", 3],
  ["pairs", "pairs.parquet", 3],
  ["hh", "hh.jsonl.gz", 2],
  ["hh", "hh.parquet", 2],
  ["ultrafeedback", "ultrafeedback.parquet", 3],
  ["ultrafeedback", "ultrafeedback-binarized.parquet", 2],
  ["chat-pairs", "chat-pairs.jsonl", 3],
  ["chat-pairs", "chat-pairs.parquet", 2],
  ["ranked", "ranked.jsonl", 2],
  ["ranked", "ranked.jsonl.gz", 2],
  ["ranked", "ranked.parquet", 2],
];

test("rrhf convert turns every format sample into RRHF JSONL that trains for one step", () => {
  const chatModel = templatedModel();
  for (const [from, name, count] of CONVERSIONS) {
    const out = join(tempDir(), `${name}.rrhf.jsonl`);
    const r = runRrhf(["convert", "--from", from, sample(name), "--out", out]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, `converted ${count} records from ${sample(name)} (${from}) to ${out}\n`);
    const v = runRrhf(["validate", "--json", out]);
    assert.equal(v.code, 0, `${name}: ${v.stderr}`);
    const hasMessages = readFileSync(out, "utf8").startsWith('{"messages"');
    trainOneStep(hasMessages ? chatModel : MODEL, out);
  }
});

test("train and validate read .jsonl.gz and Parquet by extension", () => {
  trainOneStep(MODEL, sample("records.parquet"));
  trainOneStep(MODEL, sample("records.jsonl.gz"));
  trainOneStep(templatedModel(), sample("records-chat.jsonl"));
  const v = runRrhf(["validate", "--json", sample("records.parquet")]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal((JSON.parse(v.stdout) as { queries: number }).queries, 40);
});

test("a messages record without a chat template: train stops with a clear error", () => {
  const r = runRrhf([
    "train",
    "--model",
    MODEL,
    "--data",
    sample("records-chat.jsonl"),
    "--out",
    tempDir(),
    "--backend",
    "ref",
    "--max-steps",
    "1",
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /records-chat\.jsonl:1: messages: a conversation is rendered by the tokenizer's chat template, but tokenizer_config\.json has no chat_template/,
  );
});

test("--format overrides the extension on validate and convert; an unknown one is a usage error", () => {
  const wrong = runRrhf(["validate", "--format", "parquet", sample("records.jsonl.gz")]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /records\.jsonl\.gz: not a readable Parquet file/);
  const dir = tempDir();
  const copy = join(dir, "records.data");
  cpSync(fixture("formats", "records.parquet"), copy);
  const v = runRrhf(["validate", "--json", "--format", "parquet", copy]);
  assert.equal(v.code, 0, v.stderr);
  const c = runRrhf(["convert", "--from", "ranked", "--format", "jsonl.gz", sample("ranked.jsonl.gz"), "--out", join(dir, "o.jsonl")]);
  assert.equal(c.code, 0, c.stderr);
  const bad = runRrhf(["validate", "--format", "csv", copy]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: --format must be one of jsonl, jsonl\.gz, parquet/);
});

test("a truncated .jsonl.gz: validate, convert and train exit 1 naming the file, and convert leaves no output", () => {
  const file = sample("truncated.jsonl.gz");
  const message = `rrhf: error: ${file}: truncated gzip data (unexpected end of file): the file is incomplete`;
  const v = runRrhf(["validate", file]);
  assert.equal(v.code, 1);
  assert.ok(v.stderr.includes(message), v.stderr);
  const dir = tempDir();
  const c = runRrhf(["convert", "--from", "pairs", "--skip-invalid", file, "--out", join(dir, "o.jsonl")]);
  assert.equal(c.code, 1);
  assert.ok(c.stderr.includes(message), c.stderr);
  assert.deepEqual(readdirSync(dir), []);
  const t = runRrhf(["train", "--model", MODEL, "--data", file, "--out", tempDir(), "--backend", "ref", "--max-steps", "1"]);
  assert.equal(t.code, 1);
  assert.ok(t.stderr.includes(message), t.stderr);
});

test("convert --skip-invalid reports the count and the first rows with their line numbers; without it the first bad row stops", () => {
  const input = sample("pairs-some-invalid.jsonl");
  const out = join(tempDir(), "o.jsonl");
  const strict = runRrhf(["convert", "--from", "pairs", input, "--out", out]);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /pairs-some-invalid\.jsonl:2: rejected: required field is missing/);
  const r = runRrhf(["convert", "--from", "pairs", "--skip-invalid", input, "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `converted 3 records from ${input} (pairs) to ${out} (3 invalid rows skipped)\n`);
  assert.equal(
    r.stderr,
    "skipped 3 invalid rows:\n" +
      `  ${input}:2: rejected: required field is missing\n` +
      `  ${input}:4: prompt: must not be empty\n` +
      `  ${input}:6: -: not valid JSON (line starts with "{not json")\n`,
  );
  assert.equal(readFileSync(out, "utf8").trim().split("\n").length, 3);
});

test("convert --score-field picks an UltraFeedback rating and is refused for other formats", () => {
  const out = join(tempDir(), "o.jsonl");
  const r = runRrhf(["convert", "--from", "ultrafeedback", "--score-field", "helpfulness", sample("ultrafeedback.parquet"), "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const first = JSON.parse(readFileSync(out, "utf8").split("\n")[0]) as { scores: number[] };
  assert.deepEqual(first.scores, [5, 2, 4]);
  const wrong = runRrhf(["convert", "--from", "pairs", "--score-field", "helpfulness", sample("pairs.parquet"), "--out", out]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--score-field is for --from ultrafeedback/);
});

test("rrhf sample and rrhf loss read prompts/data from .jsonl.gz and Parquet too, and take --threads", () => {
  const dir = tempDir();
  for (const name of ["records.jsonl.gz", "records.parquet"]) {
    const out = join(dir, `${name}.samples.jsonl`);
    const run = runRrhf([
      "sample",
      "--model",
      MODEL,
      "--prompts",
      sample(name),
      "--strategy",
      "greedy",
      "--max-new-tokens",
      "2",
      "--threads",
      "1",
      "--out",
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    assert.ok(lines.length > 0);
    for (const line of lines) assert.equal((JSON.parse(line) as { responses: string[] }).responses.length, 1);
  }
  const loss = runRrhf([
    "loss",
    "--model",
    MODEL,
    "--data",
    sample("records.parquet"),
    "--json",
    "--threads",
    "2",
    "--model-max-length",
    "64",
  ]);
  assert.equal(loss.code, 0, loss.stderr);
  const bad = runRrhf(["loss", "--model", MODEL, "--data", sample("records.parquet"), "--threads", "0"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: --threads must be/);
});
