import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fixture, runRrhf, tempDir } from "../helpers.js";

const KNOWN = "tests/fixtures/data/known-stats.jsonl";
const GPT2 = "tests/fixtures/tokenizers/gpt2";

test("validate prints the hand-computed summary of a valid file and exits 0", () => {
  const r = runRrhf(["validate", KNOWN]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.equal(
    r.stdout,
    [
      `${KNOWN}: valid`,
      "  queries          4",
      "  responses        14 (per query: min 2, mean 3.50, max 5)",
      "  score ties       9 tied pairs of 20, in 3 queries",
      "  all scores tied  1 query (no ranking signal)",
      "  unknown keys     id (2 lines, ignored)",
      "",
    ].join("\n"),
  );
});

test("validate --json prints one JSON object with the same numbers", () => {
  const r = runRrhf(["validate", "--json", KNOWN]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    file: KNOWN,
    valid: true,
    error_count: 0,
    errors: [],
    queries: 4,
    responses: 14,
    responses_per_query: { min: 2, mean: 3.5, max: 5, counts: { "2": 1, "3": 1, "4": 1, "5": 1 } },
    score_ties: { pairs: 20, tied_pairs: 9, queries_with_ties: 3, all_tied_queries: 1 },
    unknown_keys: { id: 2 },
    tokens: null,
  });
});

test("validate --strict fails on the unknown keys and the all-tied query of the same file", () => {
  const r = runRrhf(["validate", "--strict", KNOWN]);
  assert.equal(r.code, 1);
  assert.deepEqual(
    r.stderr.split("\n").filter((l) => l.startsWith(KNOWN)),
    [
      `${KNOWN}:2: id: unknown key (strict mode)`,
      `${KNOWN}:4: scores: all scores are equal: no ranking signal (strict mode)`,
      `${KNOWN}:5: id: unknown key (strict mode)`,
    ],
  );
  assert.match(r.stderr, /rrhf: error: .*known-stats\.jsonl: 3 problems found/);
});

test("validate --tokenizer gives GPT-2 token percentiles; --model-max-length counts truncation", () => {
  // Query "Hello world" = [Hello, Ġworld]; responses: [Ġworld], [ĠHello, Ġworld], [Ġworld x3].
  const plain = runRrhf(["validate", "--json", "--tokenizer", GPT2, "tests/fixtures/data/tokens.jsonl"]);
  assert.equal(plain.code, 0, plain.stderr);
  const p = JSON.parse(plain.stdout) as { tokens: unknown };
  assert.deepEqual(p.tokens, {
    query: { count: 1, p50: 2, p90: 2, p99: 2, max: 2, mean: 2 },
    response: { count: 3, p50: 2, p90: 3, p99: 3, max: 3, mean: 2 },
    truncation: null,
  });
  // Budget 4: the query (2 tokens) is within its share (2) and is not cut; 2 tokens of room:
  // " world"+EOS fits, the other two are cut (and lose their EOS).
  const cut = runRrhf(["validate", "--json", "--tokenizer", GPT2, "--model-max-length", "4", "tests/fixtures/data/tokens.jsonl"]);
  assert.equal(cut.code, 0, cut.stderr);
  const c = JSON.parse(cut.stdout) as { tokens: { truncation: unknown } };
  assert.deepEqual(c.tokens.truncation, {
    model_max_length: 4,
    truncated_queries: 0,
    truncated_responses: 2,
    emptied_responses: 0,
    queries_with_truncation: 1,
  });
  const text = runRrhf(["validate", "--tokenizer", GPT2, "--model-max-length", "4", "tests/fixtures/data/tokens.jsonl"]);
  assert.match(text.stdout, /^ {2}query tokens {5}p50 2, p90 2, p99 2, max 2 \(mean 2\.00\)$/m);
  assert.match(text.stdout, /^ {2}max length 4 {5}2 responses truncated, 0 emptied \(in 1 query\); 0 queries cut$/m);
});

test("validate collects all problems, prints the first --max-errors, counts the rest", () => {
  const dir = tempDir();
  const path = join(dir, "bad.jsonl");
  const lines = ['{"query":"q","responses":["a","b"],"scores":[1,0]}'];
  for (let i = 0; i < 7; i++) lines.push('{"query":"q","responses":["a"],"scores":[1]}');
  writeFileSync(path, `${lines.join("\n")}\n`);
  const r = runRrhf(["validate", "--max-errors", "3", "bad.jsonl"], { cwd: dir });
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.split("\n"), [
    "bad.jsonl:2: responses: needs at least 2 responses, got 1",
    "bad.jsonl:3: responses: needs at least 2 responses, got 1",
    "bad.jsonl:4: responses: needs at least 2 responses, got 1",
    "... and 4 more problems (see --max-errors)",
    "rrhf: error: bad.jsonl: 7 problems found",
    "",
  ]);
  // The summary still describes the valid records.
  assert.match(r.stdout, /^bad\.jsonl: INVALID \(7 problems\)$/m);
  assert.match(r.stdout, /^ {2}queries +1$/m);
});

test("validate: usage and user errors", () => {
  assert.equal(runRrhf(["validate"]).code, 2);
  assert.equal(runRrhf(["validate", "--model-max-length", "8", KNOWN]).code, 2);
  assert.equal(runRrhf(["validate", "--tokenizer", GPT2, "--model-max-length", "0", KNOWN]).code, 2);
  assert.equal(runRrhf(["validate", "--max-errors", "x", KNOWN]).code, 2);
  const missing = runRrhf(["validate", "nope.jsonl"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "rrhf: error: nope.jsonl: no such file\n");
});

test("validate accepts the HH sample fixture", () => {
  const r = runRrhf(["validate", "--json", fixture("data", "hh-sample.jsonl")]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { queries: number; responses: number; score_ties: { tied_pairs: number } };
  assert.equal(s.queries, 1);
  assert.equal(s.responses, 6);
  assert.equal(s.score_ties.tied_pairs, 0);
});

test("validate --compat official measures the official tokenisation: each Llama response gets its own BOS", () => {
  const dir = tempDir();
  const file = join(dir, "one.jsonl");
  // Llama fixture: "Hi there" = <s> + 2 tokens; " yes" = [▁, yes] = 2 tokens, official <s> ▁ yes = 3.
  writeFileSync(file, `${JSON.stringify({ query: "Hi there", responses: [" yes", " yes"], scores: [1, 0] })}\n`);
  const measure = (...more: string[]) => {
    const r = runRrhf(["validate", "--json", "--tokenizer", "tests/fixtures/tokenizers/llama", ...more, file]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { tokens: { query: { max: number }; response: { max: number; count: number } } }).tokens;
  };
  const paper = measure();
  const official = measure("--compat", "official");
  assert.equal(paper.query.max, 3);
  assert.equal(official.query.max, 3);
  assert.equal(paper.response.max, 2);
  assert.equal(official.response.max, 3);
  assert.equal(official.response.count, 2);
  assert.equal(runRrhf(["validate", "--compat", "official", file]).code, 2, "--compat needs --tokenizer");
  assert.equal(runRrhf(["validate", "--tokenizer", GPT2, "--compat", "none", file]).code, 2);
});
