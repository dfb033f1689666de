/** `evaluate` against the independent float64 PyTorch goldens (tests/reference/make_eval_golden.py): perplexity, KL, ranking accuracy. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { evaluate } from "../../src/eval/evaluate.js";
import { fixture, repoRoot } from "../helpers.js";

interface EvalCase {
  model: string;
  ref: string;
  tokenizer: string;
  data: string;
  perplexity: number;
  kl: number;
  ranking_accuracy: number;
  tokens: number;
}

const golden = JSON.parse(readFileSync(fixture("golden", "eval.json"), "utf8")) as { fixture_version: number; cases: EvalCase[] };

test("eval golden fixture version (regenerate with /usr/bin/python3 tests/reference/make_eval_golden.py)", () => {
  assert.equal(golden.fixture_version, 1);
  assert.equal(golden.cases.length, 2);
});

for (const c of golden.cases) {
  for (const backend of ["ref", "auto"] as const) {
    test(`eval parity: ${c.model} vs ${c.ref} on eval-data.jsonl (${backend} backend): perplexity, KL, ranking accuracy`, async () => {
      const r = await evaluate({
        model: fixture("models", c.model),
        ref: fixture("models", c.ref),
        tokenizer: fixture("models", c.tokenizer),
        data: join(repoRoot, c.data),
        settings: { backend },
      });
      assert.equal(r.tokens, c.tokens);
      assert.equal(r.ranking_accuracy, c.ranking_accuracy);
      assert.ok(r.perplexity !== null && Math.abs(r.perplexity / c.perplexity - 1) < 1e-5, `perplexity ${r.perplexity} vs ${c.perplexity}`);
      assert.ok(r.kl !== null && Math.abs(r.kl - c.kl) < 1e-5, `kl ${r.kl} vs ${c.kl}`);
    });
  }
}
