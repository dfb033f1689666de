/**
 * What GPT-2 and the Llama family share: turning a model body (embeddings →
 * blocks → final norm) into per-token label log-probs, in the plain, the
 * shared-prefix or a packed (no padding) layout, with the fused chunked LM
 * head; and full logits for small inputs. Each model only writes its `body`,
 * reading token positions through `positionIds` / `ropePositions`.
 */
import { Graph } from "../autodiff/graph.js";
import { checkpoint } from "../autodiff/ops/checkpoint.js";
import { causalAttention, type AttentionSegments } from "../autodiff/ops/attention.js";
import { gatherRows } from "../autodiff/ops/gather.js";
import { lmHeadLogProbs } from "../autodiff/ops/lm-head.js";
import { reshape } from "../autodiff/ops/layout.js";
import { matmul } from "../autodiff/ops/matmul.js";
import type { RopeOptions } from "../autodiff/ops/rope.js";
import { UserError } from "../errors.js";
import type { Backend } from "../kernels/backend.js";
import { parameter, type Tensor } from "../tensor/tensor.js";
import {
  checkTokenBatch,
  IGNORE_INDEX,
  keyMasking,
  type CausalLM,
  type ForwardOptions,
  type KeyMasking,
  type LogpPass,
  type TokenBatch,
} from "./causal-lm.js";
import { concatRows, prependPrefix } from "./causal-lm-ops.js";
import { planPacked } from "./causal-lm-packed.js";
import { planSharedPrefix } from "./causal-lm-prefix.js";
import type { NormalizedConfig } from "./hf/config-types.js";
import type { ParamStore } from "./hf/param-store.js";

/** One layer's keys and values for the tokens of this call: [B, Hkv, T, D] (after RoPE). */
export interface LayerKV {
  k: Tensor;
  v: Tensor;
}

/** How the tokens of one body call see keys. */
export interface AttentionContext {
  /** Absolute position of the first token; keys [0, past) come from `prefix`. */
  past: number;
  /** Per layer, cached keys/values [1 or B, Hkv, past, D] (a shared prefix, or per-row caches), or null. */
  prefix: readonly LayerKV[] | null;
  /** [B] valid keys per row, counted from absolute position 0; null with `keyMask`. */
  keyLengths: Int32Array | null;
  /** [B, past + T] key mask when the attention mask has holes; else null. */
  keyMask: Uint8Array | null;
  /**
   * [B * T] absolute position of each token, when they are not past + t
   * (the packed layouts: B = 1 and many rows back to back). Default null.
   */
  positions?: Int32Array | null;
  /** Packed rows: attention is block-diagonal causal over these segments (B = 1, past 0, no prefix). Default null. */
  segments?: AttentionSegments | null;
  /** Gradient checkpointing of this call's blocks (see {@link BlockCheckpointing}); null/absent = off. */
  checkpoint?: BlockCheckpointing | null;
}

/**
 * Each block of a body call runs as one checkpoint op (keeping only its
 * inputs: the residual stream and, in a continuation, the prefix keys/values
 * of its layer). `keepKV`: the caller reads `BodyOutput.kv` (a shared
 * prefix that continuations attend to), so each block also hands out its
 * keys/values; without it `kv` comes back empty.
 */
export interface BlockCheckpointing {
  keepKV: boolean;
}

/** What one transformer block produces: the residual stream and its layer's keys/values. */
export interface BlockOutput {
  h: Tensor;
  kv: LayerKV;
}

/** One transformer block of a model: layer `layer` over the residual stream h [B, T, C]. */
export type BlockFn = (g: Graph, layer: number, h: Tensor, ctx: AttentionContext) => BlockOutput;

export interface BodyOutput {
  /** [B, T, C] after the final norm. */
  hidden: Tensor;
  /** Per layer, the keys/values the tokens produced (what a cache keeps). */
  kv: LayerKV[];
}

/** Options every model constructor takes. */
export interface CausalLMOptions {
  /** Kernel backend (required here; `createCausalLM` defaults it to the reference backend); its `alloc` should have made the arenas. */
  backend: Backend;
  /** Gradient arena (same layout as the parameters); null = frozen. */
  grads: ParamStore | null;
  /** Default of `ForwardOptions.gradientCheckpointing` for this model. Default false. */
  gradientCheckpointing?: boolean;
}

export abstract class DecoderLM implements CausalLM {
  readonly backend: Backend;
  readonly grads: ParamStore | null;
  /** Default of `ForwardOptions.gradientCheckpointing`. */
  readonly gradientCheckpointing: boolean;
  private readonly tensors = new Map<string, Tensor>();

  constructor(
    readonly config: NormalizedConfig,
    readonly params: ParamStore,
    opts: CausalLMOptions,
  ) {
    this.backend = opts.backend;
    this.grads = opts.grads;
    this.gradientCheckpointing = opts.gradientCheckpointing ?? false;
    if (this.grads && !this.grads.sameLayout(params)) throw new Error("gradient arena layout differs from the parameters'");
    for (const name of params.names()) {
      const grad = this.grads ? this.grads.view(name) : null;
      this.tensors.set(name, parameter(params.view(name), [...params.shape(name)], grad, name));
    }
  }

  /**
   * Runs `block` for every layer over h, in order: directly, or each as one
   * checkpoint op when `ctx.checkpoint` says so. Returns the last block's
   * output and every layer's keys/values (empty when checkpointing without `keepKV`).
   */
  protected runBlocks(g: Graph, h: Tensor, ctx: AttentionContext, block: BlockFn): { h: Tensor; kv: LayerKV[] } {
    const kv: LayerKV[] = [];
    const mode = ctx.checkpoint ?? null;
    for (let i = 0; i < this.config.numLayers; i++) {
      if (mode === null) {
        const out = block(g, i, h, ctx);
        h = out.h;
        kv.push(out.kv);
        continue;
      }
      const pre = ctx.prefix ? ctx.prefix[i] : null;
      const inputs = pre ? [h, pre.k, pre.v] : [h];
      const outs = checkpoint(g, inputs, (cg, [x, preK, preV]) => {
        // The block reads its layer's prefix keys/values through ctx: hand it the copies of this graph.
        let inner = ctx;
        if (ctx.prefix && preK && preV) {
          const prefix = [...ctx.prefix];
          prefix[i] = { k: preK, v: preV };
          inner = { ...ctx, prefix };
        }
        const out = block(cg, i, x, inner);
        return mode.keepKV ? [out.h, out.kv.k, out.kv.v] : [out.h];
      });
      h = outs[0];
      if (mode.keepKV) kv.push({ k: outs[1], v: outs[2] });
    }
    return { h, kv };
  }

  /** The parameter tensor of an HF tensor name. */
  protected param(name: string): Tensor {
    const t = this.tensors.get(name);
    if (t === undefined) throw new Error(`model has no parameter "${name}"`);
    return t;
  }

  /** Embeddings, blocks and final norm over ids [B * T] at positions past..past+T-1. */
  protected abstract body(g: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext): BodyOutput;

  /** The LM head matrix [V, C] (lm_head.weight, or the tied embedding). */
  protected abstract headWeight(): Tensor;

  /** Attention of one layer, reading the shared prefix's keys/values when there is one. */
  protected attend(g: Graph, layer: number, q: Tensor, k: Tensor, v: Tensor, ctx: AttentionContext, scale?: number): Tensor {
    const pre = ctx.prefix ? ctx.prefix[layer] : null;
    return causalAttention(g, q, pre ? prependPrefix(g, pre.k, k) : k, pre ? prependPrefix(g, pre.v, v) : v, {
      pastLength: ctx.past,
      keyLengths: ctx.keyLengths ?? undefined,
      keyMask: ctx.keyMask ?? undefined,
      segments: ctx.segments ?? undefined,
      scale,
    });
  }

  /** [B * T] absolute position of every token of a body call (learned position embeddings read these). */
  protected positionIds(ctx: AttentionContext, B: number, T: number): Int32Array {
    if (ctx.positions) {
      if (ctx.positions.length !== B * T) throw new Error(`positions has ${ctx.positions.length} entries for ${B}*${T} tokens`);
      return ctx.positions;
    }
    return Int32Array.from({ length: B * T }, (_, i) => ctx.past + (i % T));
  }

  /** The positions of a body call as RoPE options. */
  protected ropePositions(ctx: AttentionContext): RopeOptions {
    return ctx.positions ? { positions: ctx.positions } : { pastLength: ctx.past };
  }

  /** One past the largest position of a body call of T tokens per row (for max-position checks). */
  protected positionEnd(ctx: AttentionContext, T: number): number {
    if (!ctx.positions) return ctx.past + T;
    let end = 0;
    for (const p of ctx.positions) if (p + 1 > end) end = p + 1;
    return end;
  }

  forward(batch: TokenBatch, options: ForwardOptions = {}): LogpPass {
    checkTokenBatch(batch, this.config.vocabSize);
    const grad = options.grad ?? true;
    if (grad && this.grads === null) throw new UserError("forward: this model was loaded without gradients (frozen); pass grad: false");
    const g = new Graph({ backend: this.backend, grad });
    try {
      return this.runPass(g, batch, options, grad);
    } catch (err) {
      g.release();
      throw err;
    }
  }

  private runPass(g: Graph, batch: TokenBatch, options: ForwardOptions, grad: boolean): LogpPass {
    const { rows, seqLen: T } = batch;
    const masking = keyMasking(batch);
    // Scored positions, row-major: the label at t is predicted by the hidden state at t - 1.
    const targets: number[] = [];
    const labels: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let t = 1; t < T; t++) {
        const l = batch.labels[r * T + t];
        if (l !== IGNORE_INDEX) {
          targets.push(r * T + t);
          labels.push(l);
        }
      }
    }
    const tokenLogps = new Float32Array(rows * T);
    let logps: Tensor | null = null;
    if (targets.length > 0) {
      const checkpointing = grad && (options.gradientCheckpointing ?? this.gradientCheckpointing);
      const hidden = this.layoutHidden(g, batch, masking, targets, options.layout ?? "plain", checkpointing);
      logps = lmHeadLogProbs(g, hidden, this.headWeight(), Int32Array.from(labels), { chunkRows: options.headChunk });
      for (let i = 0; i < targets.length; i++) tokenLogps[targets[i]] = logps.data[i];
    }
    if (!grad) g.release();
    let done = false;
    return {
      tokenLogps,
      backward: (dTokenLogps) => {
        if (!grad) throw new UserError("backward: the pass ran with grad: false");
        if (done) throw new UserError("backward: already called for this pass");
        if (dTokenLogps.length !== rows * T) {
          throw new UserError(`backward: dTokenLogps has ${dTokenLogps.length} values, expected ${rows * T}`);
        }
        done = true;
        if (logps === null) return;
        const d = new Float32Array(targets.length);
        for (let i = 0; i < targets.length; i++) d[i] = dTokenLogps[targets[i]];
        g.backward(logps, d);
      },
      release: () => {
        if (grad) g.release();
      },
    };
  }

  private layoutHidden(
    g: Graph,
    batch: TokenBatch,
    masking: KeyMasking,
    targets: number[],
    layout: NonNullable<ForwardOptions["layout"]>,
    checkpointing: boolean,
  ): Tensor {
    switch (layout) {
      case "plain":
        return this.plainHidden(g, batch, masking, targets, checkpointing);
      case "shared-prefix":
        return this.sharedPrefixHidden(g, batch, masking, targets, checkpointing);
      case "packed":
        return this.packedHidden(g, batch, masking, targets, false, checkpointing);
      case "packed-shared-prefix":
        return this.packedHidden(g, batch, masking, targets, true, checkpointing);
      default:
        throw new UserError(`forward: unknown layout ${JSON.stringify(layout)}`);
    }
  }

  /**
   * The real tokens of all scored rows in one sequence (no padding): one
   * body call over [1, Ntot], attention block-diagonal per row (and per
   * query prefix when shared); hidden states at the target positions - 1.
   */
  private packedHidden(g: Graph, batch: TokenBatch, masking: KeyMasking, targets: number[], sharePrefix: boolean, checkpointing: boolean): Tensor {
    const plan = planPacked(batch, masking, targets, sharePrefix);
    const out = this.body(g, plan.ids, 1, plan.tokens, {
      past: 0,
      prefix: null,
      keyLengths: null,
      keyMask: plan.keyMask,
      positions: plan.positions,
      segments: plan.segments,
      checkpoint: checkpointing ? { keepKV: false } : null,
    });
    return gatherRows(g, reshape(g, out.hidden, [plan.tokens, this.config.hiddenSize]), plan.hiddenRows);
  }

  /** Every row computed on its own; hidden states at the target positions - 1. */
  private plainHidden(g: Graph, batch: TokenBatch, masking: KeyMasking, targets: number[], checkpointing: boolean): Tensor {
    const { rows, seqLen: T } = batch;
    const out = this.body(g, Int32Array.from(batch.input_ids), rows, T, {
      past: 0,
      prefix: null,
      keyLengths: masking.lengths,
      keyMask: masking.mask,
      checkpoint: checkpointing ? { keepKV: false } : null,
    });
    const flat = reshape(g, out.hidden, [rows * T, this.config.hiddenSize]);
    return gatherRows(g, flat, Int32Array.from(targets, (i) => i - 1));
  }

  /** Each query's prefix once, then its k continuations reading the prefix's keys/values. */
  private sharedPrefixHidden(g: Graph, batch: TokenBatch, masking: KeyMasking, targets: number[], checkpointing: boolean): Tensor {
    const T = batch.seqLen;
    const C = this.config.hiddenSize;
    const parts: Tensor[] = [];
    let next = 0; // targets are row-major, groups ascending: consume them in order
    for (const { lo, hi, P, Tc } of planSharedPrefix(batch, masking)) {
      const B = hi - lo;
      const S = P + Tc;
      let prefix: LayerKV[] | null = null;
      if (P > 0) {
        const ids = Int32Array.from({ length: P }, (_, t) => batch.input_ids[lo * T + t]);
        prefix = this.body(g, ids, 1, P, {
          past: 0,
          prefix: null,
          keyLengths: masking.lengths ? Int32Array.of(P) : null,
          keyMask: masking.mask ? masking.mask.slice(lo * T, lo * T + P) : null,
          // The continuations attend to the prefix's keys/values: checkpointed blocks must hand them out.
          checkpoint: checkpointing ? { keepKV: true } : null,
        }).kv;
      }
      const ids = new Int32Array(B * Tc);
      const keyMask = masking.mask ? new Uint8Array(B * S) : null;
      for (let b = 0; b < B; b++) {
        const r = lo + b;
        for (let t = 0; t < Tc; t++) ids[b * Tc + t] = batch.input_ids[r * T + P + t];
        if (keyMask && masking.mask) keyMask.set(masking.mask.subarray(r * T, r * T + S), b * S);
      }
      const out = this.body(g, ids, B, Tc, {
        past: P,
        prefix,
        keyLengths: masking.lengths ? masking.lengths.slice(lo, hi) : null,
        keyMask,
        checkpoint: checkpointing ? { keepKV: false } : null,
      });
      const sel: number[] = [];
      while (next < targets.length && Math.floor(targets[next] / T) < hi) {
        const r = Math.floor(targets[next] / T);
        const t = targets[next] % T;
        sel.push((r - lo) * Tc + (t - 1 - P));
        next++;
      }
      if (sel.length > 0) parts.push(gatherRows(g, reshape(g, out.hidden, [B * Tc, C]), Int32Array.from(sel)));
    }
    if (next !== targets.length) throw new Error("shared-prefix plan missed scored positions");
    return parts.length === 1 ? parts[0] : concatRows(g, parts);
  }

  logits(batch: Pick<TokenBatch, "rows" | "seqLen" | "input_ids" | "attention_mask">): Float32Array {
    const { rows, seqLen: T } = batch;
    const V = this.config.vocabSize;
    checkTokenBatch({ ...batch, labels: new Int32Array(rows * T).fill(IGNORE_INDEX) }, V);
    const masking = keyMasking(batch);
    const g = new Graph({ backend: this.backend, grad: false });
    try {
      const out = this.body(g, Int32Array.from(batch.input_ids), rows, T, {
        past: 0,
        prefix: null,
        keyLengths: masking.lengths,
        keyMask: masking.mask,
      });
      const flat = reshape(g, out.hidden, [rows * T, this.config.hiddenSize]);
      return Float32Array.from(matmul(g, flat, this.headWeight(), { transB: true }).data.subarray(0, rows * T * V));
    } finally {
      g.release();
    }
  }
}
