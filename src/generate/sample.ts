/**
 * Greedy decoding and multinomial sampling (HF `do_sample`), k independent
 * continuations per prompt over one KV-cache session: each step applies the
 * processors (repetition_penalty, min_new_tokens) and, when sampling, the
 * warpers (temperature, top_k, top_p, min_p), then picks the argmax or draws.
 */
import { Rng } from "../train/rng.js";
import { argmax, drawToken, forbidTokens, repetitionPenalty, warp } from "./processors.js";
import { hitsStop, type GenerateRequest, type Generation, type OpenSession } from "./types.js";

/** Greedy (`sample` false) or sampled responses: [prompt][k], k = num_return_sequences. */
export function sampleResponses(
  open: OpenSession,
  prompts: readonly (readonly number[])[],
  req: GenerateRequest,
  sample: boolean,
): Generation[][] {
  const steps = sampleSteps(open, prompts, req, sample);
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/** What {@link sampleSteps} yields after each decode step: every sequence's response so far (prompt-major) and whether it ended. */
export interface SampleStep {
  generations: readonly Generation[];
  done: readonly boolean[];
}

/**
 * {@link sampleResponses} one decode step at a time: yields after each step
 * (so a server can stream the new text and let other work run between
 * steps) and returns the responses [prompt][k]. Stopping it early leaves the
 * responses as they were, finish "length".
 */
export function* sampleSteps(
  open: OpenSession,
  prompts: readonly (readonly number[])[],
  req: GenerateRequest,
  sample: boolean,
): Generator<SampleStep, Generation[][]> {
  const s = req.settings;
  const k = s.num_return_sequences;
  const maxNew = s.max_new_tokens;
  // The last token is never fed back, so the caches need one slot less.
  const session = open(prompts, k, Math.max(1, maxNew - 1));
  const V = session.vocabSize;
  const N = session.sequences;
  const rng = Rng.fromSeed(s.seed);
  const out: Generation[] = Array.from({ length: N }, () => ({ tokens: [], finish: "length", score: null }));
  const done = new Array<boolean>(N).fill(false);
  let logits = session.prefillLogits;
  const feed = new Int32Array(N);
  for (let t = 0; t < maxNew; t++) {
    let produced = 0;
    for (let q = 0; q < N; q++) {
      if (done[q]) continue;
      const gen = out[q];
      const scores = new Float64Array(logits.subarray(q * V, (q + 1) * V));
      repetitionPenalty(scores, [...prompts[Math.floor(q / k)], ...gen.tokens], s.repetition_penalty);
      if (gen.tokens.length < s.min_new_tokens) forbidTokens(scores, req.eosTokenIds);
      let token: number;
      if (sample) {
        warp(scores, s);
        token = drawToken(scores, rng.nextFloat());
      } else token = argmax(scores);
      produced++;
      feed[q] = token;
      if (req.eosTokenIds.includes(token)) {
        gen.finish = "eos";
        done[q] = true;
        continue;
      }
      gen.tokens.push(token);
      if (hitsStop(req.stop, gen.tokens)) {
        gen.finish = "stop";
        done[q] = true;
      }
    }
    req.onTokens?.(produced);
    yield { generations: out, done };
    if (t === maxNew - 1 || done.every(Boolean)) break;
    logits = session.step(feed); // finished sequences are fed their last token; their logits are ignored
  }
  return prompts.map((_, p) => out.slice(p * k, (p + 1) * k));
}
