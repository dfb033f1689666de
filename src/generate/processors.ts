/**
 * Logits processors and warpers with Hugging Face's semantics, over one
 * row of scores (a Float64Array of the vocabulary, changed in place; a
 * removed token becomes -Infinity). The order is HF's: processors
 * (diversity, repetition penalty, min_new_tokens) before warpers
 * (temperature, top_k, top_p, min_p), which only sampling applies.
 *
 * @example
 * const row = Float64Array.of(2, -1, 0.5);
 * repetitionPenalty(row, [0, 1], 2);   // [1, -2, 0.5]
 * topK(row, 2);                        // [1, -Infinity, 0.5]
 */
import type { GenerateSettings } from "./settings.js";

/** CTRL's repetition penalty: each token seen in `context` has a positive score divided by `penalty`, a negative one multiplied. */
export function repetitionPenalty(scores: Float64Array, context: readonly number[], penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(context)) {
    const x = scores[id];
    scores[id] = x < 0 ? x * penalty : x / penalty;
  }
}

/** Forbids every EOS id (score -Infinity). */
export function forbidTokens(scores: Float64Array, ids: readonly number[]): void {
  for (const id of ids) if (id >= 0 && id < scores.length) scores[id] = -Infinity;
}

/** HF's top_k: keeps every token scoring at least the k-th largest score (ties kept); k >= vocab or 0 keeps all. */
export function topK(scores: Float64Array, k: number): void {
  if (k <= 0 || k >= scores.length) return;
  const kth = Float64Array.from(scores).sort().reverse()[k - 1];
  for (let i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = -Infinity;
}

/** Softmax of a row (in float64); -Infinity becomes 0. */
export function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const x of scores) if (x > max) max = x;
  const p = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    p[i] = scores[i] === -Infinity ? 0 : Math.exp(scores[i] - max);
    sum += p[i];
  }
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}

/** Log-softmax of a row, in place. */
export function logSoftmax(scores: Float64Array): void {
  let max = -Infinity;
  for (const x of scores) if (x > max) max = x;
  let sum = 0;
  for (const x of scores) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < scores.length; i++) scores[i] -= lse;
}

/**
 * HF's top_p (nucleus): sorts ascending and drops the tokens whose
 * cumulative probability stays at or below 1 - p, keeping at least the most
 * likely token; p >= 1 keeps all.
 */
export function topP(scores: Float64Array, p: number): void {
  if (p >= 1) return;
  const probs = softmax(scores);
  const order = Array.from(scores.keys()).sort((a, b) => probs[a] - probs[b] || a - b);
  let cumulative = 0;
  for (let r = 0; r < order.length - 1; r++) {
    cumulative += probs[order[r]];
    if (cumulative > 1 - p) break;
    scores[order[r]] = -Infinity;
  }
}

/** HF's min_p: drops tokens whose probability is below p × the top probability (the top token always stays). */
export function minP(scores: Float64Array, p: number | null): void {
  if (p === null || p <= 0) return;
  const probs = softmax(scores);
  let top = 0;
  for (const x of probs) if (x > top) top = x;
  for (let i = 0; i < scores.length; i++) if (probs[i] < p * top) scores[i] = -Infinity;
}

/** The warpers of sampling, in HF's order: temperature, top_k, top_p, min_p. */
export function warp(scores: Float64Array, s: Pick<GenerateSettings, "temperature" | "top_k" | "top_p" | "min_p">): void {
  if (s.temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= s.temperature;
  topK(scores, s.top_k);
  topP(scores, s.top_p);
  minP(scores, s.min_p);
}

/** Index of the largest score (the first on ties, as torch.argmax). */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** Draws a token from the softmax of `scores` with a uniform `u` in [0, 1). */
export function drawToken(scores: Float64Array, u: number): number {
  const probs = softmax(scores);
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    last = i;
    cumulative += probs[i];
    if (u < cumulative) return i;
  }
  return last;
}
