/**
 * Reward-model parity with PyTorch: each committed *ForSequenceClassification
 * fixture scores the golden token sequences; the rewards must match
 * tests/reference/make_reward_golden.py's float64 results (an independent
 * implementation of transformers' forward, including its rule for the token
 * the reward is read at) at rtol 1e-4.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { UserError } from "../../src/errors.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { loadRewardModel, rewardPosition } from "../../src/models/reward-model.js";
import { fixture } from "../helpers.js";

const FIXTURE_VERSION = 1;
const ARCHS = ["gpt2", "llama", "qwen2", "mistral"] as const;

interface RewardGolden {
  fixture_version: number;
  pad_token_id: number | null;
  sequences: number[][];
  positions: number[];
  rewards: number[];
}

function golden(arch: string): RewardGolden {
  const g = JSON.parse(readFileSync(fixture("golden", `reward-${arch}.json`), "utf8")) as RewardGolden;
  assert.equal(g.fixture_version, FIXTURE_VERSION, "reward goldens are stale: re-run tests/reference/make_reward_golden.py");
  return g;
}

function assertRewardsClose(actual: Float32Array, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    const tol = 1e-4 * Math.abs(e) + 1e-5;
    assert.ok(Math.abs(actual[i] - e) <= tol, `${what}[${i}]: got ${actual[i]}, expected ${e}`);
  });
}

describe("reward models match PyTorch", () => {
  for (const arch of ARCHS) {
    test(`${arch}: every sequence batched together, and one at a time`, () => {
      const g = golden(arch);
      const rm = loadRewardModel(fixture("reward-models", `${arch}-rm`), { backend: "ref" });
      assert.equal(rm.config.task, "sequence-classification");
      assert.deepEqual(
        g.sequences.map((s) => rewardPosition(s, rm.config.padTokenId)),
        g.positions,
      );
      assertRewardsClose(rm.rewards(g.sequences), g.rewards, `${arch} batched`);
      for (const [i, s] of g.sequences.entries()) assertRewardsClose(rm.rewards([s]), [g.rewards[i]], `${arch} alone`);
    });
  }
});

describe("the token the reward is read at (transformers' rule)", () => {
  test("no pad id: the last token", () => assert.equal(rewardPosition([4, 2, 2], null), 2));
  test("pad == eos: a trailing run of EOS is skipped", () => assert.equal(rewardPosition([1, 7, 2, 8, 2, 2], 2), 3));
  test("a pad in the middle does not stop the read", () => assert.equal(rewardPosition([3, 0, 5], 0), 2));
  test("nothing but pad: position 0 (argmax of zeros)", () => assert.equal(rewardPosition([2, 2], 2), 0));
});

describe("reward models and causal models are kept apart", () => {
  test("loadCausalLM refuses a reward model, naming loadRewardModel", () => {
    assert.throws(
      () => loadCausalLM(fixture("reward-models", "gpt2-rm"), { backend: "ref" }),
      (err: unknown) => err instanceof UserError && /loadRewardModel/.test(err.message),
    );
  });
  test("loadRewardModel refuses a causal LM", () => {
    assert.throws(
      () => loadRewardModel(fixture("models", "gpt2-tiny"), { backend: "ref" }),
      (err: unknown) => err instanceof UserError && /not a reward model/.test(err.message),
    );
  });
});
