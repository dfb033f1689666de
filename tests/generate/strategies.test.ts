import assert from "node:assert/strict";
import { test } from "node:test";
import { generate, generateWith } from "../../src/generate/generate.js";
import { logSoftmax, softmax } from "../../src/generate/processors.js";
import { loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";
import { fakeOpen, hashedLogits, settingsWith } from "./fake-session.js";

const V = 12;
const logitsOf = hashedLogits(V);
const open = fakeOpen(V, logitsOf);
const prompts = [[1, 2, 3], [4]];

function ranked(seq: readonly number[]): number[] {
  const l = logitsOf(seq);
  return Array.from({ length: V }, (_, i) => i).sort((a, b) => l[b] - l[a]);
}

test("greedy is the argmax chain (fake model)", () => {
  const [[a], [b]] = generateWith(open, prompts, { settings: settingsWith({ strategy: "greedy", max_new_tokens: 6 }), eosTokenIds: [] });
  for (const [prompt, gen] of [
    [prompts[0], a],
    [prompts[1], b],
  ] as const) {
    assert.equal(gen.tokens.length, 6);
    assert.equal(gen.finish, "length");
    gen.tokens.forEach((tok, i) => assert.equal(tok, ranked([...prompt, ...gen.tokens.slice(0, i)])[0]));
  }
});

test("greedy on gpt2-tiny is the argmax chain of recomputed logits", () => {
  const model = loadCausalLM(fixture("models", "gpt2-tiny"), { backend: "ref" });
  const Vm = model.config.vocabSize;
  const prompt = [5, 9, 14];
  const [[gen]] = generate(model, [prompt], { settings: settingsWith({ strategy: "greedy", max_new_tokens: 8 }), eosTokenIds: [] });
  const seq = [...prompt];
  for (let i = 0; i < 8; i++) {
    const all = model.logits({ rows: 1, seqLen: seq.length, input_ids: seq, attention_mask: seq.map(() => 1) });
    const last = all.subarray((seq.length - 1) * Vm);
    let best = 0;
    for (let j = 1; j < Vm; j++) if (last[j] > last[best]) best = j;
    seq.push(best);
  }
  assert.deepEqual(gen.tokens, seq.slice(prompt.length));
});

test("top-k sampling never emits a token outside the top k", () => {
  const settings = settingsWith({ strategy: "sample", top_k: 3, num_return_sequences: 16, max_new_tokens: 6, seed: 3 });
  const out = generateWith(open, prompts, { settings, eosTokenIds: [] });
  const seen = new Set<number>();
  out.forEach((gens, p) =>
    gens.forEach((g) =>
      g.tokens.forEach((tok, i) => {
        const top = ranked([...prompts[p], ...g.tokens.slice(0, i)]);
        assert.ok(top.slice(0, 3).includes(tok), `token ${tok} outside the top 3`);
        seen.add(top.indexOf(tok));
      }),
    ),
  );
  assert.deepEqual([...seen].sort(), [0, 1, 2], "every rank of the top 3 is drawn sometimes");
});

test("top-p sampling stays inside the nucleus", () => {
  const settings = settingsWith({ strategy: "sample", top_k: 0, top_p: 0.5, num_return_sequences: 16, max_new_tokens: 5, seed: 9 });
  const out = generateWith(open, prompts, { settings, eosTokenIds: [] });
  out.forEach((gens, p) =>
    gens.forEach((g) =>
      g.tokens.forEach((tok, i) => {
        const seq = [...prompts[p], ...g.tokens.slice(0, i)];
        const probs = softmax(Float64Array.from(logitsOf(seq)));
        // the nucleus: most likely first, until the mass before a token reaches 0.5
        let mass = 0;
        const nucleus: number[] = [];
        for (const t of ranked(seq)) {
          if (mass >= 0.5) break;
          nucleus.push(t);
          mass += probs[t];
        }
        assert.ok(nucleus.includes(tok), `token ${tok} outside the nucleus ${nucleus}`);
      }),
    ),
  );
});

test("the same seed gives the same output, another seed another; every strategy is reproducible", () => {
  for (const strategy of ["sample", "greedy", "beam", "diverse-beam"] as const) {
    const base = {
      strategy,
      max_new_tokens: 6,
      temperature: 1.5,
      num_return_sequences: strategy === "greedy" ? 1 : 4,
      num_beam_groups: strategy === "diverse-beam" ? 2 : 1,
      diversity_penalty: 0.5,
    };
    const run = (seed: number) =>
      JSON.stringify(generateWith(open, prompts, { settings: settingsWith({ ...base, seed }), eosTokenIds: [] }));
    assert.equal(run(1), run(1), strategy);
    if (strategy === "sample") assert.notEqual(run(1), run(2));
  }
});

test("EOS ends a sequence (not kept in its tokens); min_new_tokens forbids it until then", () => {
  const eos = ranked([1, 2, 3])[0]; // greedy picks EOS at once
  const [[now]] = generateWith(open, [[1, 2, 3]], {
    settings: settingsWith({ strategy: "greedy", max_new_tokens: 5 }),
    eosTokenIds: [eos],
  });
  assert.deepEqual(now, { tokens: [], finish: "eos", score: null });
  const [[later]] = generateWith(open, [[1, 2, 3]], {
    settings: settingsWith({ strategy: "greedy", max_new_tokens: 5, min_new_tokens: 2 }),
    eosTokenIds: [eos],
  });
  assert.ok(later.tokens.length >= 2 && !later.tokens.includes(eos));
  assert.equal(later.tokens[0], ranked([1, 2, 3])[1]);
});

test("a stop string ends a sequence once its text contains it", () => {
  const decode = (ids: number[]) => ids.map((i) => String.fromCharCode(97 + i)).join("");
  const settings = settingsWith({ strategy: "greedy", max_new_tokens: 8 });
  const [[free]] = generateWith(open, [[1, 2, 3]], { settings, eosTokenIds: [] });
  const stopText = decode(free.tokens.slice(2, 4));
  const [[stopped]] = generateWith(open, [[1, 2, 3]], { settings, eosTokenIds: [], stop: { strings: [stopText], decode } });
  assert.equal(stopped.finish, "stop");
  assert.ok(decode(stopped.tokens).includes(stopText));
  assert.ok(stopped.tokens.length <= 4);
  assert.deepEqual(stopped.tokens, free.tokens.slice(0, stopped.tokens.length));
});

/** Every sequence of `h` tokens with its summed log-prob. */
function exhaustive(
  prompt: number[],
  h: number,
  Vs: number,
  logits: (s: readonly number[]) => Float32Array,
): { tokens: number[]; sum: number }[] {
  let live = [{ tokens: [] as number[], sum: 0 }];
  for (let t = 0; t < h; t++) {
    live = live.flatMap(({ tokens, sum }) => {
      const row = Float64Array.from(logits([...prompt, ...tokens]));
      logSoftmax(row);
      return Array.from({ length: Vs }, (_, i) => ({ tokens: [...tokens, i], sum: sum + row[i] }));
    });
  }
  return live;
}

test("beam search returns hypotheses sorted by score, equal to an exhaustive search (tiny vocabulary, short horizon)", () => {
  const Vs = 3;
  const small = hashedLogits(Vs);
  const settings = settingsWith({ strategy: "beam", num_beams: 9, num_return_sequences: 5, max_new_tokens: 3, length_penalty: 1 });
  const [beams] = generateWith(fakeOpen(Vs, small), [[2, 1]], { settings, eosTokenIds: [] });
  const best = exhaustive([2, 1], 3, Vs, small)
    .sort((a, b) => b.sum - a.sum)
    .slice(0, 5);
  assert.deepEqual(
    beams.map((b) => b.tokens),
    best.map((b) => b.tokens),
  );
  beams.forEach((b, i) => {
    assert.ok(Math.abs((b.score ?? NaN) - best[i].sum / 3) < 1e-9, "score = summed log-prob / length ** length_penalty");
    if (i > 0) assert.ok((beams[i - 1].score ?? 0) >= (b.score ?? 0));
  });
});

test("beam search: an EOS finishes a hypothesis scored by its length (the EOS counted)", () => {
  const eos = 0;
  const settings = settingsWith({ strategy: "beam", num_beams: 4, num_return_sequences: 4, max_new_tokens: 4, length_penalty: 0.5 });
  const [beams] = generateWith(open, [[7]], { settings, eosTokenIds: [eos] });
  assert.equal(beams.length, 4);
  for (const b of beams) {
    assert.ok(!b.tokens.includes(eos));
    let sum = 0;
    const seq = [7];
    for (const tok of [...b.tokens, ...(b.finish === "eos" ? [eos] : [])]) {
      const row = Float64Array.from(logitsOf(seq));
      logSoftmax(row);
      sum += row[tok];
      seq.push(tok);
    }
    assert.ok(Math.abs((b.score ?? NaN) - sum / (seq.length - 1) ** 0.5) < 1e-9);
  }
});

test("diverse beam search: groups differ from each other; without the penalty they coincide", () => {
  const base = { strategy: "diverse-beam" as const, num_beams: 4, num_beam_groups: 4, num_return_sequences: 4, max_new_tokens: 5 };
  const [same] = generateWith(open, [[5, 6]], { settings: settingsWith({ ...base, diversity_penalty: 0 }), eosTokenIds: [] });
  assert.equal(new Set(same.map((g) => JSON.stringify(g.tokens))).size, 1);
  const [diverse] = generateWith(open, [[5, 6]], { settings: settingsWith({ ...base, diversity_penalty: 100 }), eosTokenIds: [] });
  assert.equal(new Set(diverse.map((g) => g.tokens[0])).size, 4, "each group starts with its own token");
});

test("settings that contradict each other are refused", () => {
  assert.throws(
    () => generateWith(open, prompts, { settings: settingsWith({ strategy: "greedy", num_return_sequences: 2 }), eosTokenIds: [] }),
    /greedy/,
  );
  assert.throws(
    () =>
      generateWith(open, prompts, {
        settings: settingsWith({ strategy: "diverse-beam", num_beams: 4, num_beam_groups: 3 }),
        eosTokenIds: [],
      }),
    /multiple/,
  );
  assert.throws(
    () =>
      generateWith(open, prompts, { settings: settingsWith({ strategy: "beam", num_beams: 2, num_return_sequences: 3 }), eosTokenIds: [] }),
    /exceeds num_beams/,
  );
});

test("EOS ids: generation_config.json's (an id or a list) when present, else config.json's", async () => {
  const { eosTokenIdsOf } = await import("../../src/generate/generate.js");
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tempDir } = await import("../helpers.js");
  const dir = tempDir();
  assert.deepEqual(eosTokenIdsOf(dir, [2]), [2]);
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: [2, 7] }));
  assert.deepEqual(eosTokenIdsOf(dir, [2]), [2, 7]);
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: 5 }));
  assert.deepEqual(eosTokenIdsOf(dir, [2]), [5]);
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: "x" }));
  assert.throws(() => eosTokenIdsOf(dir, [2]), /eos_token_id must be an integer or a list/);
});
