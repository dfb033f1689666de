/**
 * Every command's settings flags come from the settings tables: one help
 * text in the source, shown alike by `rrhf loss --help` and `rrhf train
 * --help`, the README's flag tables equal to those help texts, and one
 * rule per value: a bad flag exits 2 naming the flag and the rule, the same
 * value in a config file exits 1 naming the file and the key.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LOSS_COMMAND_SETTINGS } from "../../src/cli/commands/loss-settings.js";
import { RRHF_SETTINGS } from "../../src/rrhf/settings.js";
import { settingsMarkdownRows } from "../../src/settings/index.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { TRAIN_SETTINGS } from "../../src/train/config.js";
import { DEVIATIONS } from "../../src/train/settings.js";
import { loadEncodedData } from "../../src/train/run-data.js";
import { fixture, repoRoot, tempDir, runRrhfInProcess } from "../helpers.js";

const MODEL = fixture("models", "gpt2-tiny");
const DATA = fixture("train", "tiny-train.jsonl");

const cli = runRrhfInProcess;

/** Help text with commander's line wrapping undone. */
const unwrapped = (text: string): string => text.replace(/\s+/g, " ");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

test("length_penalty's help is written once in the source and shown by both loss --help and train --help", async () => {
  const help = RRHF_SETTINGS.length_penalty.help;
  const phrase = "above 1 favours longer answers";
  assert.ok(help.includes(phrase));
  const holders = sourceFiles(join(repoRoot, "src")).filter((f) => readFileSync(f, "utf8").includes(phrase));
  assert.deepEqual(
    holders.map((f) => f.slice(repoRoot.length + 1)),
    [join("src", "rrhf", "settings.ts")],
  );
  for (const command of ["loss", "train"]) {
    const r = await cli([command, "--help"]);
    assert.equal(r.code, 0);
    assert.ok(unwrapped(r.stdout).includes(`--length-penalty <x> ${help} (default: 1)`), `${command} --help`);
  }
});

test("loss and train show the same flag, help and default for every setting they share", async () => {
  const loss = unwrapped((await cli(["loss", "--help"])).stdout);
  const train = unwrapped((await cli(["train", "--help"])).stdout);
  for (const [name, spec] of Object.entries(LOSS_COMMAND_SETTINGS)) {
    assert.equal(TRAIN_SETTINGS[name as keyof typeof TRAIN_SETTINGS], spec, `${name} is the train table's own spec`);
    assert.ok(loss.includes(spec.help) && train.includes(spec.help), name);
  }
  assert.match(loss, /--model-max-length <n> .* \(default: 512\)/);
  assert.match(train, /--model-max-length <n> .* \(default: 512\)/);
});

test("the README's loss and train flag tables are the settings' help texts", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  for (const row of [...settingsMarkdownRows(TRAIN_SETTINGS, DEVIATIONS), ...settingsMarkdownRows(LOSS_COMMAND_SETTINGS)]) {
    assert.ok(readme.includes(`${row}\n`), `README lacks the row\n${row}`);
  }
});

const BAD_VALUES: [string[], string][] = [
  [["--learning-rate", "0"], "--learning-rate must be > 0"],
  [["--max-steps", "1.5"], "--max-steps must be -1 (use num_train_epochs) or an integer >= 1"],
  [["--length-penalty", "abc"], "--length-penalty must be a finite number"],
  [["--compat", "none"], "--compat must be one of paper, official"],
  [["--max-query-share", "2"], "--max-query-share must be from 0 to 1"],
  [["--model-max-length", "0"], "--model-max-length must be an integer >= 1"],
];

/** Which of the bad values each command takes. */
const COMMANDS: Record<string, { argv: string[]; flags: string[] }> = {
  train: { argv: ["train", "--model", MODEL, "--data", DATA, "--out", "never-written"], flags: BAD_VALUES.map(([a]) => a[0]) },
  loss: {
    argv: ["loss", "--model", MODEL, "--data", DATA],
    flags: ["--length-penalty", "--compat", "--max-query-share", "--model-max-length"],
  },
  validate: { argv: ["validate", "--tokenizer", MODEL, DATA], flags: ["--compat", "--max-query-share", "--model-max-length"] },
};

for (const [command, { argv, flags }] of Object.entries(COMMANDS)) {
  test(`rrhf ${command}: a bad flag value exits 2 with "error: --flag <rule>"`, async () => {
    for (const [bad, message] of BAD_VALUES.filter(([a]) => flags.includes(a[0]))) {
      const r = await cli([...argv, ...bad]);
      assert.equal(r.code, 2, `${command} ${bad.join(" ")}`);
      assert.equal(r.stderr.split("\n")[0], `error: ${message}`, `${command} ${bad.join(" ")}`);
      assert.equal(r.stdout, "");
    }
  });
}

test("init-model: --seed follows the same rule style", async () => {
  const r = await cli(["init-model", "--config", "none.json", "--out", join(tempDir(), "m"), "--seed", "1.5"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split("\n")[0], "error: --seed must be an integer from 0 to 4294967295");
});

test("validate: --max-errors follows the same rule style", async () => {
  const r = await cli(["validate", "--max-errors", "0", DATA]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split("\n")[0], "error: --max-errors must be an integer >= 1");
  const needs = await cli(["validate", "--max-query-share", "0.3", DATA]);
  assert.equal(needs.code, 2);
  assert.equal(needs.stderr.split("\n")[0], "error: --max-query-share needs --tokenizer");
});

test("a config file value that breaks a rule is a user error (exit 1) naming the file and the key, with the flag's rule text", async () => {
  const dir = tempDir();
  const file = join(dir, "run.yaml");
  writeFileSync(
    file,
    `model: ${MODEL}\ndata: ${DATA}\noutput_dir: ${join(dir, "out")}\nlearning_rate: 0\nmax_query_share: 2\ncompat: none\n`,
  );
  const r = await cli(["train", "--config", file]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `rrhf: error: ${file}: learning_rate: must be > 0\n${file}: max_query_share: must be from 0 to 1\n${file}: compat: must be one of paper, official\n`,
  );
  // Cross-field rules stay, with their own messages.
  writeFileSync(file, `model: ${MODEL}\ndata: ${DATA}\noutput_dir: ${join(dir, "out")}\nonly_use_provide: true\nonly_use_sample: true\n`);
  const both = await cli(["train", "--config", file]);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /only_use_sample: only_use_provide and only_use_sample exclude each other/);
});

test("train's banner prints the max length actually used: model_max_length clamped to the model's positions, with a note", async () => {
  const out = join(tempDir(), "run");
  const r = await cli([
    "train",
    "--model",
    MODEL,
    "--data",
    DATA,
    "--out",
    out,
    "--backend",
    "ref",
    "--max-steps",
    "1",
    "--save-steps",
    "0",
    "--model-max-length",
    "1000",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^rrhf: note: model_max_length 1000 exceeds the model's 64 positions \(max_position_embeddings\); using 64$/m);
  assert.match(r.stdout, /^ {2}tokens {6}model_max_length 64, /m);
  assert.doesNotMatch(r.stdout, /1000/);
});

/** One record whose 40-character query (a character tokenizer: 40 tokens) meets a 3-token response under a budget of 20. */
function longQueryData(): string {
  const file = join(tempDir(), "long-query.jsonl");
  writeFileSync(file, `${JSON.stringify({ query: "q".repeat(40), responses: ["ab", "cd"], scores: [1, 0] })}\n`);
  return file;
}

test("--max-query-share reaches the tokenisation of loss and train, and the truncation hint names it", async () => {
  const data = longQueryData();
  const args = ["loss", "--model", MODEL, "--data", data, "--json", "--backend", "ref", "--model-max-length", "20"];
  // Default share 0.5: the query may shrink to 10 tokens, so it is cut to 17 and both responses fit.
  const shared = await cli(args);
  assert.equal(shared.code, 0, shared.stderr);
  assert.notEqual((JSON.parse(shared.stdout) as { loss: number | null }).loss, null);
  // Share 1: the query keeps the whole budget and both responses are emptied.
  const whole = await cli([...args, "--max-query-share", "1"]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal((JSON.parse(whole.stdout) as { loss: number | null }).loss, null);
  const strict = await cli([...args, "--max-query-share", "1", "--strict"]);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /keeps no tokens after truncation to 20 tokens .*raise --model-max-length or lower --max-query-share/);

  const tok = await loadTokenizer(MODEL);
  const settings = { compat: "paper", model_max_length: 20, only_use_provide: false, only_use_sample: false } as const;
  assert.equal((await loadEncodedData(data, tok, settings)).examples.length, 1);
  await assert.rejects(loadEncodedData(data, tok, { ...settings, max_query_share: 1 }), /emptied every response/);
});
