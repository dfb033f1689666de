/** `evaluate` / `rrhf eval` on the tiny fixtures: hand-checkable ranking accuracy, KL of a model against itself, rewards of greedy generations, the CLI's output. */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { evaluate, EVAL_RESULT_KEYS } from "../../src/eval/evaluate.js";
import { generate } from "../../src/generate/generate.js";
import { GENERATE_SETTINGS } from "../../src/generate/settings.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { EVAL_SETTINGS } from "../../src/eval/settings.js";
import { resolveSettings, settingsMarkdownRows } from "../../src/settings/index.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { fixture, repoRoot, runRrhfInProcess, tempDir } from "../helpers.js";

const GPT2 = fixture("models", "gpt2-tiny");
const LLAMA = fixture("models", "llama-tiny");
const PROMPTS = fixture("score", "prompts.jsonl");

function dataFile(records: object[]): string {
  const file = join(tempDir(), "data.jsonl");
  writeFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  return file;
}

test("ranking accuracy: the same two responses ranked both ways agree once in two pairs; a tie in the given scores is skipped", async () => {
  const data = dataFile([
    { query: "Q:", responses: [" ab", " xyz"], scores: [1, 0] },
    { query: "Q:", responses: [" xyz", " ab"], scores: [1, 0] },
    { query: "Q:", responses: [" ab", " xyz"], scores: [3, 3] },
  ]);
  const r = await evaluate({ model: GPT2, data, settings: { backend: "ref" } });
  // Whichever of " ab" and " xyz" the model prefers, exactly one of the two ordered pairs matches it; counting the tie would give 1/3.
  assert.equal(r.ranking_accuracy, 0.5);
  assert.equal(r.kl, null);
  assert.equal(r.reward_mean, null);
  assert.equal(r.tokens, 3 * (4 + 5)); // " ab" + EOS and " xyz" + EOS in each of the three records
  const tiesOnly = await evaluate({ model: GPT2, data: dataFile([{ query: "Q:", responses: [" a", " b"], scores: [1, 1] }]) });
  assert.equal(tiesOnly.ranking_accuracy, null);
});

test("perplexity is exp of the mean NLL of the scored tokens; KL of a model against itself is 0 and against another model positive", async () => {
  const data = fixture("train", "tiny-train.jsonl");
  const self = await evaluate({ model: GPT2, ref: GPT2, data, settings: { backend: "ref" } });
  assert.equal(self.kl, 0);
  assert.ok(self.perplexity !== null && self.perplexity > 1 && self.perplexity < 64 * 64, `perplexity ${self.perplexity}`);
  const other = await evaluate({ model: GPT2, ref: LLAMA, data, settings: { backend: "ref" } });
  assert.ok(other.kl !== null && other.kl > 0.1, `kl ${other.kl}`);
  assert.equal(other.perplexity, self.perplexity);
});

test("on prompts: reward_mean and reward_median of the greedy generations, KL on them; tokens counts the generated ones", async () => {
  const r = await evaluate({
    model: GPT2,
    ref: GPT2,
    prompts: PROMPTS,
    scorer: "rule:length",
    settings: { max_new_tokens: 6, backend: "ref" },
  });
  const model = loadCausalLM(GPT2, { backend: "ref" });
  const tok = await loadTokenizer(GPT2);
  const settings = resolveSettings(GENERATE_SETTINGS, { strategy: "greedy", max_new_tokens: 6 }, "test");
  const queries = ["Is the sky blue? Answer yes or no.", "Capital of France?", "Say hi."];
  const outs = generate(
    model,
    queries.map((q) => tok.encode(q)),
    { settings, eosTokenIds: model.config.eosTokenIds },
  ).map(([g]) => g);
  const lengths = outs.map((g) => [...tok.decode(g.tokens)].length);
  assert.equal(r.reward_mean, (lengths[0] + lengths[1] + lengths[2]) / 3);
  assert.equal(r.reward_median, [...lengths].sort((a, b) => a - b)[1]);
  assert.equal(r.kl, 0);
  assert.equal(
    r.tokens,
    outs.reduce((n, g) => n + g.tokens.length + (g.finish === "eos" ? 1 : 0), 0),
  );
  assert.equal(r.perplexity, null);
});

test("rrhf eval --json prints one object with exactly the metric keys and tokens; without --json a table", async () => {
  const data = fixture("train", "tiny-train.jsonl");
  const args = [
    "eval",
    "--model",
    GPT2,
    "--ref",
    LLAMA,
    "--data",
    data,
    "--prompts",
    PROMPTS,
    "--scorer",
    "rule:keyword:a,e",
    "--max-new-tokens",
    "4",
  ];
  const json = await runRrhfInProcess([...args, "--json", "--backend", "ref"]);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), [...EVAL_RESULT_KEYS].sort());
  for (const k of EVAL_RESULT_KEYS) assert.equal(typeof parsed[k], "number", k);
  const table = await runRrhfInProcess(args);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split("\n");
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/)[0]),
    [...EVAL_RESULT_KEYS],
  );
  assert.match(lines[1], /^perplexity\s+\d+\.\d{4}$/);
});

test("rrhf eval without --data or --prompts, or --prompts without --scorer, says what to give (exit 1)", async () => {
  const none = await runRrhfInProcess(["eval", "--model", GPT2]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /--data FILE .* --prompts FILE with --scorer SPEC/);
  const noScorer = await runRrhfInProcess(["eval", "--model", GPT2, "--prompts", PROMPTS]);
  assert.equal(noScorer.code, 1);
  assert.match(noScorer.stderr, /--prompts needs --scorer/);
});

test("the README's eval flag table is the settings' help texts", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  for (const row of settingsMarkdownRows(EVAL_SETTINGS)) assert.ok(readme.includes(`${row}\n`), `README lacks the row\n${row}`);
});
