/**
 * `rrhf loss` end to end on the gpt2-tiny fixture, whose folder carries a
 * 64-symbol character tokenizer (so vocab and tokenizer match and the
 * PyTorch goldens in loss-cli.json could be computed without transformers).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { assertClose, checkFixtureVersion } from "../models/parity-golden.js";
import { fixture, runRrhf, tempDir, runRrhfInProcess } from "../helpers.js";

/** The CLI in-process (no process start-up per case); one test below runs the real binary. */
const rrhf = runRrhfInProcess;

interface QueryOut {
  line: number;
  scores: (number | null)[];
  rrhf_loss: number | null;
  sft_loss: number | null;
  loss: number | null;
}
interface CliGolden {
  fixture_version: number;
  queries: { scores: number[]; rrhf_loss: number; sft_loss: number; loss: number }[];
  queries_compat_official: { scores: number[]; rrhf_loss: number; sft_loss: number; loss: number }[];
}

const MODEL = fixture("models", "gpt2-tiny");
const DATA = fixture("golden", "loss-data.jsonl");
const golden = ((): CliGolden => {
  const file = fixture("golden", "loss-cli.json");
  const g = JSON.parse(readFileSync(file, "utf8")) as CliGolden;
  checkFixtureVersion(g.fixture_version, file);
  return g;
})();

function parseLines(stdout: string): QueryOut[] {
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as QueryOut);
}

/** Scores and the three losses of one query as one vector (tolerance scaled by its largest entry). */
function vector(q: { scores: (number | null)[]; rrhf_loss: number | null; sft_loss: number | null; loss: number | null }): number[] {
  return [...q.scores, q.rrhf_loss, q.sft_loss, q.loss].map((x) => {
    assert.ok(x !== null);
    return x;
  });
}

function checkAgainst(out: QueryOut[], expected: CliGolden["queries"], what: string): void {
  assert.equal(out.length, expected.length);
  out.forEach((q, i) => {
    assert.equal(q.line, i + 1);
    assertClose(vector(q), vector(expected[i]), `${what} query ${i + 1}`);
  });
}

test("--json prints one object per query that matches PyTorch (the installed binary)", () => {
  const r = runRrhf(["loss", "--model", MODEL, "--data", DATA, "--json", "--backend", "ref"]);
  assert.equal(r.code, 0, r.stderr);
  // The default budget 512 is clamped to the tiny model's 64 positions, with a note, as rrhf train does.
  assert.equal(r.stderr, "rrhf: note: model_max_length 512 exceeds the model's 64 positions (max_position_embeddings); using 64\n");
  const out = parseLines(r.stdout);
  assert.deepEqual(Object.keys(out[0]), ["line", "scores", "rrhf_loss", "sft_loss", "loss"]);
  checkAgainst(out, golden.queries, "default");
});

test("--compat official reproduces the official code's numbers", async () => {
  const r = await rrhf(["loss", "--model", MODEL, "--data", DATA, "--json", "--compat", "official", "--backend", "ref"]);
  assert.equal(r.code, 0, r.stderr);
  checkAgainst(parseLines(r.stdout), golden.queries_compat_official, "compat");
});

test("--rrhf-weight and --length-penalty reach the loss", async () => {
  const r = await rrhf(["loss", "--model", MODEL, "--data", DATA, "--json", "--rrhf-weight", "3", "--length-penalty", "2"]);
  assert.equal(r.code, 0, r.stderr);
  const out = parseLines(r.stdout);
  out.forEach((q, i) => {
    assert.ok(q.loss !== null && q.rrhf_loss !== null && q.sft_loss !== null);
    assert.ok(Math.abs(q.loss - (3 * q.rrhf_loss + q.sft_loss)) < 1e-9);
    // |y|^2 instead of |y|: every p_i shrinks in magnitude (responses are longer than one token).
    q.scores.forEach((p, j) => {
      assert.ok(p !== null && Math.abs(p) < Math.abs(golden.queries[i].scores[j]));
    });
  });
});

test("the table shows every query and the mean", async () => {
  const r = await rrhf(["loss", "--model", MODEL, "--data", DATA, "--backend", "ref"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], /line\s+k\s+rrhf_loss\s+sft_loss\s+loss\s+scores/);
  assert.match(lines[1], new RegExp(`^\\s+1\\s+3\\s+${golden.queries[0].rrhf_loss.toFixed(4)}\\s`));
  const mean = (golden.queries[0].loss + golden.queries[1].loss) / 2;
  assert.match(lines[3], new RegExp(`^\\s+mean\\s+.*${mean.toFixed(4)}\\s+\\(2 of 2 queries\\)`));
});

test("a tight --model-max-length warns about what truncation dropped", async () => {
  const r = await rrhf(["loss", "--model", MODEL, "--data", DATA, "--json", "--model-max-length", "30"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: truncation to 30 tokens/);
  const out = parseLines(r.stdout);
  assert.equal(out.length, 2);
  assert.ok(out.every((q) => q.loss !== null && Number.isFinite(q.loss)));
});

test("user errors exit 1 with a message; bad flags exit 2", async () => {
  const missing = await rrhf(["loss", "--model", join(tempDir(), "nope"), "--data", DATA]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /model folder not found/);

  const dir = tempDir();
  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, '{"query": "Hi", "responses": ["a", "b"], "scores": [1, 0]}\n{"query": "Hi", "responses": ["a"]}\n');
  const badData = await rrhf(["loss", "--model", MODEL, "--data", bad, "--json"]);
  assert.equal(badData.code, 1);
  assert.match(badData.stderr, /bad\.jsonl:2: /);
  assert.equal(parseLines(badData.stdout).length, 1, "the first query is still printed (streaming)");

  assert.equal((await rrhf(["loss", "--data", DATA])).code, 2);
  assert.equal((await rrhf(["loss", "--model", MODEL, "--data", DATA, "--length-penalty", "abc"])).code, 2);
  assert.equal((await rrhf(["loss", "--model", MODEL, "--data", DATA, "--compat", "none"])).code, 2);
  const be = await rrhf(["loss", "--model", MODEL, "--data", DATA, "--backend", "gpu"]);
  assert.equal(be.code, 2);
  assert.match(be.stderr, /^error: --backend must be one of auto, native, wasm, ref$/m);
});

test("--strict: a response emptied by truncation is an error naming the record; without it, a warning", async () => {
  // The Llama tokenizer's BOS alone fills a budget of 1: every response keeps zero tokens.
  const args = [
    "loss",
    "--model",
    fixture("models", "llama-tiny"),
    "--tokenizer",
    fixture("tokenizers", "llama"),
    "--data",
    DATA,
    "--json",
    "--model-max-length",
    "1",
  ];
  const strict = await rrhf([...args, "--strict"]);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /loss-data\.jsonl:1: responses\[0\] keeps no tokens after truncation to 1 tokens \(query 1 tokens\)/);
  assert.equal(strict.stdout, "");
  const lenient = await rrhf(args);
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(
    lenient.stderr,
    /warning: truncation to 1 tokens: .* 5 responses emptied and dropped; emptied in: .*loss-data\.jsonl:1, .*loss-data\.jsonl:2/,
  );
  assert.deepEqual(
    parseLines(lenient.stdout).map((q) => q.loss),
    [null, null],
  );
});
