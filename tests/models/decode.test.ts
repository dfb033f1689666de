import assert from "node:assert/strict";
import { test } from "node:test";
import type { CausalLM } from "../../src/models/causal-lm.js";
import { loadNativeAddon } from "../../src/kernels/native/index.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";

/** Logits [vocab] after the last token of `ids`, recomputed from scratch. */
function lastLogits(model: CausalLM, ids: number[]): Float32Array {
  const V = model.config.vocabSize;
  const all = model.logits({ rows: 1, seqLen: ids.length, input_ids: ids, attention_mask: ids.map(() => 1) });
  return all.slice((ids.length - 1) * V, ids.length * V);
}

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

for (const name of ["gpt2-tiny", "llama-tiny"]) {
  test(`${name}: KV-cached greedy decoding equals recomputing from scratch (tokens, logits within 1e-5)`, () => {
    const model = loadCausalLM(fixture("models", name), { backend: "ref" });
    const V = model.config.vocabSize;
    const prompts = [
      [5, 17, 3, 22, 9],
      [11, 4],
    ];
    const k = 2;
    const steps = 8;
    const session = model.decode(prompts, { continuations: k, maxNewTokens: steps });
    assert.equal(session.sequences, 4);
    const c = model.config;
    assert.equal(session.cacheBytes, 8 * c.numLayers * c.numKvHeads * c.headDim * (7 + 4 * steps));
    // Continuation 1 of each prompt starts with a different token than greedy, to show the continuations are independent.
    const seqs = [0, 1, 2, 3].map((s) => [...prompts[Math.floor(s / k)]]);
    let logits = session.prefillLogits;
    for (let t = 0; t < steps; t++) {
      const tokens = seqs.map((seq, s) => {
        const row = logits.subarray(s * V, (s + 1) * V);
        const ref = lastLogits(model, seq);
        assert.ok(maxDiff(row, ref) < 1e-5, `step ${t} sequence ${s}: logits differ by ${maxDiff(row, ref)}`);
        const greedy = argmax(ref);
        assert.equal(argmax(row), greedy);
        return t === 0 && s % 2 === 1 ? (greedy + 1) % V : greedy;
      });
      tokens.forEach((tok, s) => {
        seqs[s].push(tok);
      });
      logits = session.step(tokens);
    }
    assert.deepEqual([...session.lengths], [steps, steps, steps, steps]);
    assert.throws(() => session.step([1, 1, 1, 1]), /maxNewTokens/);
  });

  test(`${name}: reorder forks a continuation: its own cache rows are copied, the decode goes on as recomputed`, () => {
    const model = loadCausalLM(fixture("models", name), { backend: "ref" });
    const V = model.config.vocabSize;
    const session = model.decode([[7, 8, 9]], { continuations: 3, maxNewTokens: 4 });
    session.step([1, 2, 3]);
    session.step([4, 5, 6]);
    session.reorder([2, 2, 0]); // beams 0 and 1 continue beam 2; beam 2 continues beam 0
    const logits = session.step([10, 11, 12]);
    const expected = [
      [7, 8, 9, 3, 6, 10],
      [7, 8, 9, 3, 6, 11],
      [7, 8, 9, 1, 4, 12],
    ];
    expected.forEach((seq, s) => {
      const d = maxDiff(logits.subarray(s * V, (s + 1) * V), lastLogits(model, seq));
      assert.ok(d < 1e-5, `sequence ${s}: logits differ by ${d}`);
    });
    assert.throws(() => model.decode([[1], [2]], { continuations: 1, maxNewTokens: 2 }).reorder([1, 0]), /another prompt/);
    assert.throws(() => model.decode([[]], { maxNewTokens: 2 }), /empty/);
  });
}

/** Backends the decode tests run on: the reference, and the native one (small-M sgemm path) when its addon is built. */
const DECODE_BACKENDS = loadNativeAddon().ok ? (["ref", "native"] as const) : (["ref"] as const);

for (const name of ["gpt2-tiny", "llama-tiny"]) {
  for (const backend of DECODE_BACKENDS) {
    test(`${name} (${backend}): prompts decoded together give each prompt's logits decoded alone`, () => {
      const model = loadCausalLM(fixture("models", name), { backend });
      const V = model.config.vocabSize;
      const prompts = [
        [5, 17, 3, 22, 9, 30, 1],
        [11, 4],
        [8, 8, 2, 40],
      ];
      const k = 2;
      const steps = 6;
      // Each sequence is fed its own fixed token stream, so batching cannot hide behind equal rows.
      const tokenAt = (s: number, t: number) => (s * 13 + t * 7 + 3) % V;
      const together = model.decode(prompts, { continuations: k, maxNewTokens: steps });
      const alone = prompts.map((p) => model.decode([p], { continuations: k, maxNewTokens: steps }));
      const compare = (batched: Float32Array, singles: Float32Array[], t: number) => {
        singles.forEach((single, p) => {
          const d = maxDiff(batched.subarray(p * k * V, (p + 1) * k * V), single);
          assert.ok(d < 1e-5, `step ${t} prompt ${p}: batched logits differ from the prompt decoded alone by ${d}`);
        });
      };
      compare(
        together.prefillLogits,
        alone.map((a) => a.prefillLogits),
        -1,
      );
      for (let t = 0; t < steps; t++) {
        const feed = Array.from({ length: prompts.length * k }, (_, s) => tokenAt(s, t));
        const batched = together.step(feed);
        const singles = alone.map((a, p) => a.step(feed.slice(p * k, (p + 1) * k)));
        compare(batched, singles, t);
      }
    });
  }
}
