/**
 * The interface every causal language model implements (GPT-2, the Llama
 * family).
 *
 * The training path never builds rows×T×V logits: `forward` returns only the
 * log-probability of each response token (a fused, chunked LM head), and its
 * `backward` takes d loss / d those log-probs from the RRHF loss.
 *
 * The forward reads the query-grouped batch (`QueryBatch`, tokenize/batch.ts)
 * and returns per-response token log-probs as a ragged array indexed by the
 * batch's response-token offsets.
 *
 * @example
 * const model = loadCausalLM("models/gpt2", { trainable: true });
 * const batch = collate([encodeRecord(tok, record)], { padTokenId: tok.special.pad_token_id });
 * const pass = model.forward(batch);            // pass.tokenLogps: [Σ|y_i|], ragged by batch.responseTokenStart
 * const { result, dTokenLogps } = rrhfLossWithGrad(pass.tokenLogps, batch);
 * pass.backward(dTokenLogps);                   // accumulates into model.grads
 * pass.release();                               // buffers back to the pool
 */
import { UserError } from "../errors.js";
import type { Backend } from "../kernels/backend.js";
import type { QueryBatch } from "../tokenize/batch.js";
import type { DecodeOptions, DecodeSession } from "./causal-lm-decode.js";
import type { NormalizedConfig } from "./hf/config-types.js";
import type { ParamStore } from "./hf/param-store.js";

/**
 * Right-padded rows for {@link CausalLM.logits}: flat [rows * T] arrays with
 * T = `seqLen` (the batch's `paddedRows` view is one). `attention_mask` is 1
 * on each row's real tokens: normally a prefix of the row (read as
 * lengths); other masks (official compat mode hides ids equal to the pad id)
 * are applied key by key.
 *
 * @example
 * const input: PaddedInput = { rows: 1, seqLen: 3, input_ids: [5, 6, 7], attention_mask: [1, 1, 1] };
 * const logits = model.logits(input); // [1 * 3 * vocab]
 */
export interface PaddedInput {
  rows: number;
  /** T, the padded row length. */
  seqLen: number;
  input_ids: ArrayLike<number>;
  attention_mask: ArrayLike<number>;
}

/**
 * The batch layouts of the forward pass (see {@link ForwardOptions.layout}); the one list every command and setting uses.
 *
 * @example
 * for (const layout of FORWARD_LAYOUTS) model.forward(batch, { layout, grad: false }).release(); // all give the same log-probs
 */
export const FORWARD_LAYOUTS = ["plain", "shared-prefix", "packed", "packed-shared-prefix"] as const;

/**
 * One of {@link FORWARD_LAYOUTS}.
 *
 * @example
 * const layout: ForwardLayout = "packed-shared-prefix";
 * const pass = model.forward(batch, { layout });
 */
export type ForwardLayout = (typeof FORWARD_LAYOUTS)[number];

/**
 * Options of {@link CausalLM.forward}.
 *
 * @example
 * const options: ForwardOptions = { grad: false, layout: "plain" }; // inference only, padded rows as the official code
 * const pass = model.forward(batch, options);
 * const logps = pass.tokenLogps; // read before release
 * pass.release();
 */
export interface ForwardOptions {
  /** false: inference only, nothing recorded for backward. Default true. */
  grad?: boolean;
  /**
   * "plain": every row computed on its own (what the official code does).
   * "shared-prefix": the rows of one query share their query tokens; the
   * query (all but its last token) is computed once and its keys/values are
   * read by all k continuations, whose gradients accumulate into it. Same
   * numbers as "plain", less work when queries are long.
   * "packed": like "plain", but no compute on padding: the real tokens of
   * all rows are concatenated into one sequence ([Ntot, C], Ntot = sum of
   * real lengths) and attention is block-diagonal causal per row.
   * "packed-shared-prefix": both: each query's prefix once and every
   * continuation at its own length, all in one packed sequence; each
   * continuation attends to its prefix and causally to itself.
   * Every layout plans from the batch's offsets; only "plain" builds the padded rows.
   */
  layout?: ForwardLayout;
  /** Positions whose logits the fused LM head forms at once (default: about 4M logits per chunk). */
  headChunk?: number;
  /**
   * Gradient (activation) checkpointing, as HF's `gradient_checkpointing_enable()`:
   * each transformer block keeps only its input during the forward and is
   * recomputed in `backward` — less memory, about one more forward of
   * compute; same numbers bit for bit. Works in every layout; ignored with
   * `grad: false`. Default: the model's own setting (off unless it was built with it).
   */
  gradientCheckpointing?: boolean;
}

/**
 * One forward pass, kept alive until `release` so `backward` can run.
 *
 * @example
 * const pass: LogpPass = model.forward(batch);
 * const { dTokenLogps } = rrhfLossWithGrad(pass.tokenLogps, batch);
 * pass.backward(dTokenLogps); // once; adds into model.grads
 * pass.release();             // always, also after an error
 */
export interface LogpPass {
  /**
   * [Σ|y_i|] ragged: entry `batch.responseTokenStart[i] + j` is
   * log p(token j of response i | its query, the response's earlier tokens).
   * (A first response token after an empty query has no predictor: 0.)
   */
  readonly tokenLogps: Float32Array;
  /**
   * Back-propagates `dTokenLogps` (ragged as tokenLogps, d loss / d tokenLogps) and
   * ACCUMULATES the parameter gradients into the model's gradient arena.
   * Once per pass; not available when the pass ran with `grad: false`.
   */
  backward(dTokenLogps: ArrayLike<number>): void;
  /** Returns every buffer of the pass to the pool; the pass is unusable after. */
  release(): void;
}

/**
 * A causal LM over a parameter arena with HF tensor names.
 *
 * @example
 * const model: CausalLM = loadCausalLM("tests/fixtures/models/gpt2-tiny", { trainable: true });
 * model.config.architecture;                   // "GPT2LMHeadModel"
 * model.params.view("transformer.wte.weight"); // a parameter by its Hugging Face name
 * const pass = model.forward(batch);           // see LogpPass
 */
export interface CausalLM {
  readonly config: NormalizedConfig;
  /** Kernel backend the model computes with. */
  readonly backend: Backend;
  /** The parameter arena, HF tensor names and layouts. */
  readonly params: ParamStore;
  /** Gradients, same names and offsets as `params`; null for a frozen (inference-only) model. Zero it between optimiser steps. */
  readonly grads: ParamStore | null;
  /** Per-response token log-probs (ragged) without materialising rows×T×V logits. */
  forward(batch: QueryBatch, options?: ForwardOptions): LogpPass;
  /**
   * Full logits [rows * T * vocab] (no grad). For tests and sampling on
   * small inputs; padding positions hold unspecified values.
   */
  logits(batch: PaddedInput): Float32Array;
  /**
   * KV-cache decoding: prefills each prompt once and returns a session whose
   * `step` feeds one token to each of the prompts × k continuations and
   * returns next-token logits [sequences, vocab] (no grad). The prompts'
   * keys/values are stored once and shared by their continuations; memory
   * is 8 × layers × kvHeads × headDim × (Σ prompt lengths + sequences × maxNewTokens) bytes,
   * allocated up front.
   */
  decode(prompts: readonly (readonly number[])[], options: DecodeOptions): DecodeSession;
}

/** Which keys each row's queries may read, derived from `attention_mask`. */
export interface KeyMasking {
  /** [rows] real length of each row when every row's mask is a prefix of ones (right padding), else null. */
  lengths: Int32Array | null;
  /** [rows, T] the mask itself when some row has holes (official compat mode masks ids equal to pad), else null. */
  mask: Uint8Array | null;
}

/**
 * Reads the attention mask (built by the collator from real lengths, not
 * from ids: pad may equal EOS). Right-padded masks become lengths, which
 * let attention skip padded keys outright; any other mask is kept as is.
 */
export function keyMasking(batch: PaddedInput): KeyMasking {
  const { rows, seqLen: T, attention_mask: mask } = batch;
  if (mask.length !== rows * T) {
    throw new UserError(`attention_mask has ${mask.length} values, expected rows*T = ${rows}*${T}`);
  }
  const lengths = new Int32Array(rows);
  let prefix = true;
  for (let r = 0; r < rows && prefix; r++) {
    let n = 0;
    while (n < T && mask[r * T + n] !== 0) n++;
    for (let t = n; t < T; t++) if (mask[r * T + t] !== 0) prefix = false;
    lengths[r] = n;
  }
  if (prefix) return { lengths, mask: null };
  const copy = new Uint8Array(rows * T);
  for (let i = 0; i < copy.length; i++) copy[i] = mask[i] !== 0 ? 1 : 0;
  return { lengths: null, mask: copy };
}

/** Checks a padded input has rows*T ids, all in the vocabulary. */
export function checkPaddedInput(batch: PaddedInput, vocabSize: number): void {
  const n = batch.rows * batch.seqLen;
  if (!Number.isInteger(batch.rows) || !Number.isInteger(batch.seqLen) || batch.rows < 1 || batch.seqLen < 1) {
    throw new UserError(`padded input: rows and seqLen must be positive integers, got ${batch.rows} and ${batch.seqLen}`);
  }
  if (batch.input_ids.length !== n) throw new UserError(`padded input: input_ids has ${batch.input_ids.length} values, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const id = batch.input_ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new UserError(`padded input: input_ids[${i}] = ${id} is outside the vocabulary (size ${vocabSize})`);
    }
  }
}
