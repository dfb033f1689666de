/** `rrhf sample` end to end on the gpt2-tiny fixture (a 64-symbol character tokenizer). */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { generate } from "../../src/generate/generate.js";
import { GENERATE_SETTINGS } from "../../src/generate/settings.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { resolveSettings, settingsMarkdownRows } from "../../src/settings/index.js";
import { SAMPLE_COMMAND_SETTINGS } from "../../src/cli/commands/sample-settings.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { fixture, repoRoot, tempDir, runRrhfInProcess } from "../helpers.js";

const rrhf = runRrhfInProcess;

const MODEL = fixture("models", "gpt2-tiny");
const PROMPTS = fixture("train", "tiny-train.jsonl");
const base = ["sample", "--model", MODEL, "--prompts", PROMPTS, "--backend", "ref"];

interface OutLine {
  query: string;
  responses: string[];
  scores?: number[];
}

function readOut(file: string): OutLine[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as OutLine);
}

const promptLines = readFileSync(PROMPTS, "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as OutLine);

test("rrhf sample --strategy greedy writes one {query, responses} line per prompt: the library's greedy decode", async () => {
  const out = join(tempDir(), "greedy.jsonl");
  const r = await rrhf([...base, "--strategy", "greedy", "--max-new-tokens", "10", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /8 prompts written, \d+ tokens, [\d.]+ tokens\/s/);
  const lines = readOut(out);
  assert.deepEqual(
    lines.map((l) => l.query),
    promptLines.map((l) => l.query),
  );
  const model = loadCausalLM(MODEL, { backend: "ref" });
  const tok = await loadTokenizer(MODEL);
  const settings = resolveSettings(GENERATE_SETTINGS, { strategy: "greedy", max_new_tokens: 10 }, "test");
  const [[first]] = generate(model, [tok.encode(promptLines[0].query)], { settings, eosTokenIds: model.config.eosTokenIds });
  assert.deepEqual(lines[0].responses, [tok.decode(first.tokens)]);
  assert.ok(lines.every((l) => l.responses.length === 1 && l.scores === undefined));
});

test("rrhf sample -k 3 --keep-provided appends the prompt's own responses after the sampled ones; the same seed, the same file", async () => {
  const dir = tempDir();
  const args = [
    ...base,
    "-k",
    "3",
    "--strategy",
    "sample",
    "--temperature",
    "0.8",
    "--top-p",
    "0.9",
    "--max-new-tokens",
    "6",
    "--keep-provided",
    "--seed",
    "5",
  ];
  assert.equal((await rrhf([...args, "--out", join(dir, "a.jsonl")])).code, 0);
  assert.equal((await rrhf([...args, "--out", join(dir, "b.jsonl")])).code, 0);
  const a = readOut(join(dir, "a.jsonl"));
  assert.equal(readFileSync(join(dir, "a.jsonl"), "utf8"), readFileSync(join(dir, "b.jsonl"), "utf8"));
  a.forEach((l, i) => {
    assert.equal(l.responses.length, 3 + promptLines[i].responses.length);
    assert.deepEqual(l.responses.slice(3), promptLines[i].responses);
  });
});

test("rrhf sample --strategy beam and diverse-beam give k responses per prompt", async () => {
  const dir = tempDir();
  for (const extra of [
    ["--strategy", "beam", "--num-beams", "3", "-k", "2"],
    ["--strategy", "diverse-beam", "--num-beams", "4", "--num-beam-groups", "4", "--diversity-penalty", "1", "-k", "4"],
  ]) {
    const out = join(dir, `${extra[1]}.jsonl`);
    const r = await rrhf([...base, ...extra, "--max-new-tokens", "5", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readOut(out).every((l) => l.responses.length === Number(extra[extra.length - 1])));
  }
});

test("a rerun resumes: it skips the prompts already written (an interrupted partial line is rewritten), and ends as the uninterrupted run", async () => {
  const dir = tempDir();
  const args = [...base, "-k", "2", "--max-new-tokens", "5", "--prompts-per-batch", "1", "--seed", "3"];
  const full = join(dir, "full.jsonl");
  assert.equal((await rrhf([...args, "--out", full])).code, 0);
  const text = readFileSync(full, "utf8");
  const lines = text.split("\n");
  const cut = join(dir, "cut.jsonl");
  writeFileSync(cut, `${lines.slice(0, 3).join("\n")}\n${lines[3].slice(0, 10)}`);
  const r = await rrhf([...args, "--out", cut]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /holds 3 prompts already; resuming/);
  assert.equal(readFileSync(cut, "utf8"), text);
  const again = await rrhf([...args, "--out", cut]);
  assert.match(again.stderr, /nothing to do/);
});

test("rrhf sample refuses an output written from other prompts, contradictory settings and bad values", async () => {
  const dir = tempDir();
  const other = join(dir, "other.jsonl");
  writeFileSync(other, '{"query":"something else","responses":["x"]}\n');
  const r = await rrhf([...base, "--out", other]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /does not answer .*tiny-train\.jsonl:1/);
  const greedy = await rrhf([...base, "--strategy", "greedy", "-k", "2", "--out", join(dir, "g.jsonl")]);
  assert.equal(greedy.code, 1);
  assert.match(greedy.stderr, /greedy decoding gives one response per prompt/);
  assert.ok(!existsSync(join(dir, "g.jsonl")));
  const bad = await rrhf([...base, "--top-p", "2", "--out", join(dir, "b.jsonl")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--top-p must be > 0 and <= 1/);
});

test("the README's sample flag table is the settings' help texts", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  for (const row of settingsMarkdownRows(SAMPLE_COMMAND_SETTINGS)) assert.ok(readme.includes(`${row}\n`), `README lacks the row\n${row}`);
});

test("rrhf sample --stop ends a response at the stop string and cuts the text before it", async () => {
  const dir = tempDir();
  const args = [...base, "--strategy", "greedy", "--max-new-tokens", "10", "--prompts-per-batch", "3"];
  assert.equal((await rrhf([...args, "--out", join(dir, "free.jsonl")])).code, 0);
  const free = readOut(join(dir, "free.jsonl"))[0].responses[0];
  const stop = free.slice(3, 5);
  const r = await rrhf([...args, "--stop", stop, "--out", join(dir, "stopped.jsonl")]);
  assert.equal(r.code, 0, r.stderr);
  const stopped = readOut(join(dir, "stopped.jsonl"))[0].responses[0];
  assert.equal(stopped, free.slice(0, free.indexOf(stop)));
});
