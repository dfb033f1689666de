/**
 * Greedy decoding, beam search and diverse beam search against the goldens of
 * an independent PyTorch implementation (tests/reference/make_generate_golden.py:
 * float64 models recomputing every step, HF generate's search rules).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { generate } from "../../src/generate/generate.js";
import { generateSettings } from "../../src/generate/settings.js";
import type { CausalLM } from "../../src/models/causal-lm.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";

interface GoldenCase {
  model: string;
  prompt: number[];
  eos: number[];
  settings: Record<string, unknown>;
  outputs: { tokens: number[]; finish: string; score?: number }[];
}

const file = fixture("golden", "generate.json");
const golden = JSON.parse(readFileSync(file, "utf8")) as { fixture_version: number; cases: GoldenCase[] };
const models = new Map<string, CausalLM>();

test("the generation goldens are the version this test expects", () => {
  assert.equal(golden.fixture_version, 1, `${file}: re-run /usr/bin/python3 tests/reference/make_generate_golden.py`);
  assert.ok(golden.cases.length >= 20);
  assert.ok(
    golden.cases.some((c) => c.outputs.some((o) => o.finish === "eos")),
    "some golden hypothesis ends with EOS",
  );
});

for (const [i, c] of golden.cases.entries()) {
  test(`${c.model} ${String(c.settings.strategy)} case ${i}: the tokens and scores of the PyTorch reference`, () => {
    const model = models.get(c.model) ?? loadCausalLM(fixture("models", c.model), { backend: "ref" });
    models.set(c.model, model);
    const [outputs] = generate(model, [c.prompt], { settings: generateSettings(c.settings), eosTokenIds: c.eos });
    assert.deepEqual(
      outputs.map((o) => ({ tokens: o.tokens, finish: o.finish })),
      c.outputs.map((o) => ({ tokens: o.tokens, finish: o.finish })),
    );
    outputs.forEach((o, j) => {
      const expected = c.outputs[j].score;
      if (expected !== undefined) assert.ok(Math.abs((o.score ?? NaN) - expected) < 1e-4, `score ${o.score} vs ${expected}`);
    });
  });
}
