/**
 * KV-cache decoding for the causal models: each prompt is prefilled once and
 * its keys/values are stored once (the shared prefix of training, applied to
 * generation); its k continuations each own a preallocated cache that grows
 * by one slot per step. A decode step runs every sequence of every prompt
 * in one body call of one token per row and returns next-token logits
 * [sequences, vocab] (no gradients).
 *
 * Memory: the cache holds, in float32,
 *   2 (keys and values) × layers × kvHeads × headDim × (Σ prompt lengths + sequences × maxNewTokens)
 * values, allocated once at the start; no step copies it (the new token's
 * keys/values are written into their slot and attention reads the prompt's
 * and the continuation's caches where they lie). Besides the caches, the
 * attention keeps a reused scratch of about k × (query heads / kv heads) ×
 * (2 × headDim + longest prompt + maxNewTokens) floats.
 *
 * @example
 * const options: DecodeOptions = { continuations: 4, maxNewTokens: 128 };
 * const session: DecodeSession = model.decode([promptIds], options); // session.cacheBytes: the bound above
 */
import type { Graph } from "../autodiff/graph.js";
import { UserError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { DecodeScratch, decodeAttentionInto } from "./decode-attention.js";
import type { NormalizedConfig } from "./hf/config-types.js";

/** Options of {@link CausalLM.decode}. */
export interface DecodeOptions {
  /** Continuations per prompt (k); sequence s belongs to prompt floor(s / k). Default 1. */
  continuations?: number;
  /** Tokens each continuation may be fed at most: the size of its own cache. */
  maxNewTokens: number;
}

/**
 * A decoding session over a batch of prompts, k continuations each
 * (`sequences` = prompts × k, prompt-major). Feed one token per sequence with
 * `step`; fork or reorder continuations (beam search) with `reorder`.
 *
 * @example
 * const model = loadCausalLM("tests/fixtures/models/gpt2-tiny", { backend: "ref" });
 * const session = model.decode([[1, 2, 3], [4, 5]], { continuations: 2, maxNewTokens: 8 });
 * let logits = session.prefillLogits;            // [4, vocab]: after each prompt, the same for its 2 continuations
 * logits = session.step([7, 8, 9, 9]);           // feeds one token per sequence, returns the next logits
 * session.reorder([1, 1, 2, 3]);                 // sequence 0 becomes a copy of sequence 1 (a forked beam)
 */
export interface DecodeSession {
  /** Prompts in the batch. */
  readonly prompts: number;
  /** Continuations per prompt (k). */
  readonly continuations: number;
  /** prompts × k. */
  readonly sequences: number;
  readonly vocabSize: number;
  /** Capacity of each continuation's own cache (tokens it may be fed). */
  readonly maxNewTokens: number;
  /** [sequences] tokens fed to each continuation so far. */
  readonly lengths: Int32Array;
  /** [sequences, vocab] logits after the prompt (before any step); rows of one prompt are equal. */
  readonly prefillLogits: Float32Array;
  /** Bytes the key/value caches take (the bound in the module's TSDoc). */
  readonly cacheBytes: number;
  /**
   * Feeds `tokens[s]` to every sequence s and returns the next-token logits
   * [sequences, vocab] in a buffer the session reuses: valid until the next
   * step (copy what must outlive it). A fresh buffer every step cost more than
   * the step's attention (large allocations are page-faulted in anew).
   */
  step(tokens: ArrayLike<number>): Float32Array;
  /**
   * Sequence s continues from what sequence `sources[s]` held (same prompt):
   * its own cache rows are copied (the prompt's cache is never copied).
   */
  reorder(sources: ArrayLike<number>): void;
}

/** One body call's decode state, read by the model's attention (`AttentionContext.decode`). */
export interface DecodeAttention {
  /** Per layer and prompt: the prompt's keys and values [kvHeads, P, headDim]. */
  promptK: Float32Array[][];
  promptV: Float32Array[][];
  /** Per prompt: its length P. */
  promptLengths: Int32Array;
  /** Per layer: every continuation's own keys/values [sequences, kvHeads, maxNewTokens, headDim]. */
  ownK: Float32Array[];
  ownV: Float32Array[];
  /** [sequences] prompt of each sequence. */
  promptOf: Int32Array;
  /** [sequences] slot the token of this call goes to (tokens fed so far). */
  lengths: Int32Array;
  maxNewTokens: number;
  /** Buffers the attention reuses from step to step. */
  scratch: DecodeScratch;
}

/** The model internals a session drives (DecoderLM hands them over). */
export interface DecodeHooks {
  config: NormalizedConfig;
  /** The model's body over ids [B * T] (explicit positions when given; one decode token per row with `decode`). */
  run(
    g: Graph,
    ids: Int32Array,
    B: number,
    T: number,
    positions: Int32Array | null,
    decode: DecodeAttention | null,
  ): { hidden: Tensor; kv: { k: Tensor; v: Tensor }[] };
  /** Logits [rows, vocab] of hidden states [rows, C]. */
  head(g: Graph, hidden: Tensor, rows: number): Float32Array;
  newGraph(): Graph;
}

/**
 * Attention of one decode step: q [B, Hq, 1, D] of each sequence over its
 * prompt's cached keys then its own; k, v [B, Hkv, 1, D] (the new token's)
 * are first written into the sequence's own cache slot. Out [B, Hq, 1, D].
 * The kernel (decode-attention.ts) reads each prompt's cache once for all its continuations.
 */
export function decodeAttention(g: Graph, layer: number, q: Tensor, k: Tensor, v: Tensor, d: DecodeAttention, scale: number): Tensor {
  const [B, Hq, T, D] = q.shape;
  const Hkv = k.dim(1);
  if (T !== 1 || k.dim(2) !== 1 || k.dim(0) !== B)
    throw new UserError(`decodeAttention: one token per sequence, got q ${q.describe()}, k ${k.describe()}`);
  const out = g.output(q.shape, [q, k, v]);
  decodeAttentionInto(g.backend, out.data, q.data, k.data, v.data, { B, Hq, Hkv, D }, d, layer, scale, d.scratch);
  return out;
}

function checkPrompts(prompts: readonly (readonly number[])[], vocab: number, k: number, maxNewTokens: number): void {
  if (prompts.length === 0) throw new UserError("decode: no prompts");
  if (!Number.isInteger(k) || k < 1) throw new UserError(`decode: continuations must be an integer >= 1, got ${k}`);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1)
    throw new UserError(`decode: maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new UserError(`decode: prompt ${i} is empty (start it with a BOS token)`);
    for (const id of p) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab)
        throw new UserError(`decode: prompt ${i} holds token ${id}, outside the vocabulary (size ${vocab})`);
    }
  });
}

/** Starts a session: prefills every prompt once (one body call each) and allocates every cache. */
export function startDecode(hooks: DecodeHooks, prompts: readonly (readonly number[])[], options: DecodeOptions): DecodeSession {
  const c = hooks.config;
  const V = c.vocabSize;
  const k = options.continuations ?? 1;
  const M = options.maxNewTokens;
  checkPrompts(prompts, V, k, M);
  const L = c.numLayers;
  const Hkv = c.numKvHeads;
  const D = c.headDim;
  const N = prompts.length * k;
  const state: DecodeAttention = {
    promptK: Array.from({ length: L }, () => []),
    promptV: Array.from({ length: L }, () => []),
    promptLengths: Int32Array.from(prompts, (p) => p.length),
    ownK: Array.from({ length: L }, () => new Float32Array(N * Hkv * M * D)),
    ownV: Array.from({ length: L }, () => new Float32Array(N * Hkv * M * D)),
    promptOf: Int32Array.from({ length: N }, (_, s) => Math.floor(s / k)),
    lengths: new Int32Array(N),
    maxNewTokens: M,
    scratch: new DecodeScratch(),
  };
  const prefillLogits = new Float32Array(N * V);
  const stepLogits = new Float32Array(N * V); // what every step returns (see DecodeSession.step)
  prompts.forEach((prompt, p) => {
    const g = hooks.newGraph();
    try {
      const P = prompt.length;
      const out = hooks.run(g, Int32Array.from(prompt), 1, P, null, null);
      for (let l = 0; l < L; l++) {
        // slice, not Float32Array.from: from() iterates element by element (several ms per step for the logits).
        state.promptK[l].push(out.kv[l].k.data.slice());
        state.promptV[l].push(out.kv[l].v.data.slice());
      }
      const C = c.hiddenSize;
      const last = g.input(out.hidden.data.slice((P - 1) * C, P * C), [1, C]);
      const logits = hooks.head(g, last, 1);
      for (let j = 0; j < k; j++) prefillLogits.set(logits, (p * k + j) * V);
    } finally {
      g.release();
    }
  });
  const promptTokens = prompts.reduce((n, p) => n + p.length, 0);
  return {
    prompts: prompts.length,
    continuations: k,
    sequences: N,
    vocabSize: V,
    maxNewTokens: M,
    lengths: state.lengths,
    prefillLogits,
    cacheBytes: 4 * 2 * L * Hkv * D * (promptTokens + N * M),
    step: (tokens) => decodeStep(hooks, state, tokens, stepLogits),
    reorder: (sources) => reorderSequences(state, sources, Hkv, Hkv * D),
  };
}

/** One step: the next-token logits [sequences, vocab] are written into `logits`, which is returned. */
function decodeStep(hooks: DecodeHooks, state: DecodeAttention, tokens: ArrayLike<number>, logits: Float32Array): Float32Array {
  const N = state.lengths.length;
  const V = hooks.config.vocabSize;
  if (tokens.length !== N) throw new UserError(`decode step: ${tokens.length} tokens for ${N} sequences`);
  const ids = new Int32Array(N);
  const positions = new Int32Array(N);
  for (let s = 0; s < N; s++) {
    const id = tokens[s];
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new UserError(`decode step: token ${id} is outside the vocabulary (size ${V})`);
    if (state.lengths[s] >= state.maxNewTokens)
      throw new UserError(`decode step: sequence ${s} already holds maxNewTokens ${state.maxNewTokens} tokens`);
    ids[s] = id;
    positions[s] = state.promptLengths[state.promptOf[s]] + state.lengths[s];
  }
  const g = hooks.newGraph();
  try {
    const out = hooks.run(g, ids, N, 1, positions, state);
    logits.set(hooks.head(g, out.hidden, N));
    for (let s = 0; s < N; s++) state.lengths[s]++;
    return logits;
  } finally {
    g.release();
  }
}

/** Sequence s takes the own cache rows (and length) of sequence sources[s]; copies only rows that change. */
function reorderSequences(state: DecodeAttention, sources: ArrayLike<number>, heads: number, rowWidth: number): void {
  const N = state.lengths.length;
  const M = state.maxNewTokens;
  if (sources.length !== N) throw new UserError(`decode reorder: ${sources.length} sources for ${N} sequences`);
  const moves: number[] = [];
  for (let s = 0; s < N; s++) {
    const from = sources[s];
    if (!Number.isInteger(from) || from < 0 || from >= N)
      throw new UserError(`decode reorder: source ${from} of sequence ${s} is not a sequence`);
    if (state.promptOf[from] !== state.promptOf[s])
      throw new UserError(`decode reorder: sequence ${s} cannot continue sequence ${from} of another prompt`);
    if (from !== s) moves.push(s);
  }
  if (moves.length === 0) return;
  const newLengths = Int32Array.from(state.lengths, (n, s) => state.lengths[sources[s]] ?? n);
  const D = rowWidth / heads;
  const block = heads * M * D; // one sequence's cache [kvHeads, M, D]
  for (const caches of [state.ownK, state.ownV]) {
    for (const cache of caches) {
      // Snapshot the sources first: a source may itself be overwritten by this reorder.
      const saved = new Map<number, Float32Array>();
      for (const s of moves) {
        const from = sources[s];
        if (!saved.has(from)) saved.set(from, cache.slice(from * block, (from + 1) * block));
      }
      for (const s of moves) {
        const src = saved.get(sources[s]) as Float32Array;
        const used = newLengths[s] * D; // only the filled slots of each head
        for (let h = 0; h < heads; h++) cache.set(src.subarray(h * M * D, h * M * D + used), s * block + h * M * D);
      }
    }
  }
  state.lengths.set(newLengths);
}
