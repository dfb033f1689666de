/** A fake decode session for strategy tests: logits are a fixed function of the whole sequence so far. */
import type { DecodeSession } from "../../src/models/causal-lm-decode.js";
import { resolveSettings } from "../../src/settings/index.js";
import { GENERATE_SETTINGS, type GenerateSettings } from "../../src/generate/settings.js";
import type { OpenSession } from "../../src/generate/types.js";

/** Deterministic pseudo-random logits in [-3, 3) for a sequence (a hash of its tokens). */
export function hashedLogits(V: number): (seq: readonly number[]) => Float32Array {
  return (seq) => {
    let h = 2166136261;
    for (const t of seq) h = Math.imul(h ^ (t + 1), 16777619) >>> 0;
    const out = new Float32Array(V);
    for (let i = 0; i < V; i++) {
      h = Math.imul(h ^ (i + 7), 2246822519) >>> 0;
      h ^= h >>> 13;
      out[i] = ((h >>> 0) / 2 ** 32) * 6 - 3;
    }
    return out;
  };
}

/** An OpenSession over `logitsOf`; `calls` counts step/reorder calls. */
export function fakeOpen(V: number, logitsOf: (seq: readonly number[]) => Float32Array, calls = { steps: 0, reorders: 0 }): OpenSession {
  return (prompts, k, maxNewTokens) => {
    const seqs = prompts.flatMap((p) => Array.from({ length: k }, () => [...p]));
    const N = seqs.length;
    const lengths = new Int32Array(N);
    const logitsAll = () => {
      const out = new Float32Array(N * V);
      seqs.forEach((s, q) => {
        out.set(logitsOf(s), q * V);
      });
      return out;
    };
    const session: DecodeSession = {
      prompts: prompts.length,
      continuations: k,
      sequences: N,
      vocabSize: V,
      maxNewTokens,
      lengths,
      prefillLogits: logitsAll(),
      cacheBytes: 0,
      step(tokens) {
        calls.steps++;
        for (let q = 0; q < N; q++) {
          if (lengths[q] >= maxNewTokens) throw new Error("fake session full");
          seqs[q].push(tokens[q]);
          lengths[q]++;
        }
        return logitsAll();
      },
      reorder(sources) {
        calls.reorders++;
        const copy = seqs.map((s) => [...s]);
        const lens = Int32Array.from(lengths);
        for (let q = 0; q < N; q++) {
          seqs[q] = [...copy[sources[q]]];
          lengths[q] = lens[sources[q]];
        }
      },
    };
    return session;
  };
}

/** Resolved generation settings with some overrides. */
export function settingsWith(input: Partial<GenerateSettings>): GenerateSettings {
  return resolveSettings(GENERATE_SETTINGS, input, "test");
}
