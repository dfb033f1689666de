/**
 * Model-level parity with PyTorch: each committed fixture folder runs the
 * golden RRHF batch; logits, per-token log-probs, the loss pieces and every
 * parameter gradient must match tests/reference/make_golden.py's float64
 * results (tolerance: see parity-golden.ts). Runs on the ref backend, and
 * on wasm / native where this machine has them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Backend } from "../../src/kernels/backend.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { describeBackends, getBackend } from "../../src/kernels/select.js";
import type { CausalLM, ForwardOptions } from "../../src/models/causal-lm.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { rrhfLossWithGrad } from "../../src/rrhf/loss.js";
import type { RrhfLossOptions } from "../../src/rrhf/options.js";
import { fixture } from "../helpers.js";
import {
  assertClose,
  assertCloseScalar,
  checkFixtureVersion,
  flatBatch,
  goldenQueryBatch,
  goldenTensor,
  loadGolden,
  paddedLogps,
  type Golden,
  type GoldenScalars,
} from "./parity-golden.js";

const MODELS = ["gpt2-tiny", "llama-tiny", "qwen2-tiny"] as const;

function checkScalars(
  actual: { rankLoss: number; sftLoss: number; loss: number; queryLoss: Float64Array },
  expected: GoldenScalars,
  what: string,
): void {
  assertCloseScalar(actual.rankLoss, expected.rrhf_loss, `${what} rrhf_loss`);
  assertCloseScalar(actual.sftLoss, expected.sft_loss, `${what} sft_loss`);
  assertCloseScalar(actual.loss, expected.loss, `${what} loss`);
  assertClose(
    actual.queryLoss,
    expected.per_query.map((q) => q.loss),
    `${what} per-query loss`,
  );
}

/** Runs forward + RRHF loss + backward and compares everything with the golden. */
function checkModel(model: CausalLM, golden: Golden, options: ForwardOptions, tag: string): void {
  const batch = goldenQueryBatch(golden.batch);
  assert.ok(model.grads);
  model.grads.data.fill(0);
  const pass = model.forward(batch, options);
  try {
    // The golden holds [rows incl. its padding row, T] log-probs, zero where unscored: compare in that layout.
    const allRows = golden.batch.row_query.length;
    assertClose(paddedLogps(batch, pass.tokenLogps, allRows), goldenTensor(golden, "token_logps").data, `${tag} token_logps`);
    const { result, dTokenLogps } = rrhfLossWithGrad(pass.tokenLogps, batch);
    assertClose(result.policyScores, goldenTensor(golden, "p").data.subarray(0, batch.rows), `${tag} policy scores p`);
    checkScalars(result, golden.default, `${tag} default`);
    pass.backward(dTokenLogps);
  } finally {
    pass.release();
  }
  const names = model.params.names();
  const goldenGrads = [...golden.tensors.keys()].filter((k) => k.startsWith("grad.")).map((k) => k.slice(5));
  assert.deepEqual([...names].sort(), goldenGrads.sort(), `${tag}: parameter names differ from the golden's`);
  for (const name of names) {
    assertClose(model.grads.view(name), goldenTensor(golden, `grad.${name}`).data, `${tag} grad ${name}`);
  }
}

function backendsToTest(): { name: string; backend: Backend | null; reason?: string }[] {
  const out: { name: string; backend: Backend | null; reason?: string }[] = [{ name: "ref", backend: refBackend }];
  for (const info of describeBackends()) {
    if (info.name === "ref") continue;
    if (!info.available) {
      out.push({ name: info.name, backend: null, reason: info.reason ?? "unavailable" });
      continue;
    }
    out.push({ name: info.name, backend: getBackend(info.name, { threads: 2 }) });
  }
  return out;
}

for (const name of MODELS) {
  describe(`parity with PyTorch: ${name}`, () => {
    const golden = loadGolden(name);

    test("logits at every real position", () => {
      const model = loadCausalLM(fixture("models", name), { backend: refBackend });
      const b = flatBatch(golden.batch);
      const V = goldenTensor(golden, "logits").shape[2];
      const real = (i: number) => b.attention_mask[Math.floor(i / V)] === 1;
      assertClose(model.logits(b), goldenTensor(golden, "logits").data, `${name} logits`, real);
    });

    for (const { name: beName, backend, reason } of backendsToTest()) {
      test(`log-probs, loss and every gradient (${beName} backend)`, { skip: backend === null ? `${beName}: ${reason}` : false }, () => {
        assert.ok(backend);
        const model = loadCausalLM(fixture("models", name), { backend, trainable: true });
        checkModel(model, golden, {}, `${name}/${beName}`);
      });
    }

    test("shared-prefix layout and a small LM-head chunk give the golden numbers too", () => {
      const model = loadCausalLM(fixture("models", name), { backend: refBackend, trainable: true });
      checkModel(model, golden, { layout: "shared-prefix", headChunk: 3 }, `${name}/shared-prefix`);
    });

    test("compat mode and other loss options match the golden", () => {
      const model = loadCausalLM(fixture("models", name), { backend: refBackend });
      const batch = goldenQueryBatch(golden.batch);
      const pass = model.forward(batch, { grad: false });
      const tokenLogps = pass.tokenLogps;
      pass.release();
      const run = (opts: RrhfLossOptions) => rrhfLossWithGrad(tokenLogps, batch, opts).result;
      checkScalars(run({ compat: "official" }), golden.compat_official, `${name} compat`);
      const lp = run({ length_penalty: 2, rrhf_weight: 3 });
      checkScalars(lp, golden.length_penalty_2_rrhf_weight_3, `${name} lp2`);
      assertClose(lp.policyScores, golden.length_penalty_2_rrhf_weight_3.p.slice(0, lp.rows), `${name} lp2 p`);
    });
  });
}

test("a fixture of another version fails with the script to re-run", () => {
  assert.throws(() => checkFixtureVersion(0, "x.json"), /re-run `\/usr\/bin\/python3 tests\/reference\/make_golden\.py`/);
  assert.doesNotThrow(() => checkFixtureVersion(loadGolden("gpt2-tiny").fixture_version, "gpt2-tiny.json"));
});
