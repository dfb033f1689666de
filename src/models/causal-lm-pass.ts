/**
 * What GPT-2 and the Llama family share: turning a model body (embeddings →
 * blocks → final norm) into per-response token log-probs of a query-grouped
 * batch (layouts: causal-lm-layouts.ts), with the fused chunked LM head; and
 * full logits for small inputs. Each model only writes its `body`,
 * reading token positions through `positionIds` / `ropePositions`.
 */
import { Graph } from "../autodiff/graph.js";
import { checkpoint } from "../autodiff/ops/checkpoint.js";
import { causalAttention } from "../autodiff/ops/attention.js";
import { lmHeadLogProbs } from "../autodiff/ops/lm-head.js";
import { reshape } from "../autodiff/ops/layout.js";
import { matmul } from "../autodiff/ops/matmul.js";
import type { RopeOptions } from "../autodiff/ops/rope.js";
import { UserError } from "../errors.js";
import type { Backend } from "../kernels/backend.js";
import { parameter, type Tensor } from "../tensor/tensor.js";
import { checkQueryBatch, type QueryBatch } from "../tokenize/batch.js";
import { checkPaddedInput, keyMasking, type CausalLM, type ForwardOptions, type LogpPass, type PaddedInput } from "./causal-lm.js";
import { layoutHidden, type AttentionContext, type BlockFn, type BlockOutput, type BodyOutput, type LayerKV } from "./causal-lm-layouts.js";
import { prependPrefix } from "./causal-lm-ops.js";
import { decodeAttention, startDecode, type DecodeOptions, type DecodeSession } from "./causal-lm-decode.js";
import { rowKeys, scoredTargets } from "./causal-lm-targets.js";
import type { NormalizedConfig } from "./hf/config-types.js";
import type { ParamStore } from "./hf/param-store.js";

export type { AttentionContext, BlockCheckpointing, BlockFn, BlockOutput, BodyOutput, LayerKV } from "./causal-lm-layouts.js";

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
        const out = freeingDead(g, () => block(g, i, h, ctx));
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
        const out = freeingDead(cg, () => block(cg, i, x, inner));
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
    if (ctx.decode) return decodeAttention(g, layer, q, k, v, ctx.decode, scale ?? 1 / Math.sqrt(q.dim(3)));
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

  forward(batch: QueryBatch, options: ForwardOptions = {}): LogpPass {
    checkQueryBatch(batch, this.config.vocabSize);
    const grad = options.grad ?? true;
    if (grad && this.grads === null) throw new UserError("forward: this model was loaded without gradients (frozen); pass grad: false");
    // The pass's outputs are copied out before backward, so backward may free the activations as it goes.
    const g = new Graph({ backend: this.backend, grad, freeInBackward: true });
    try {
      return this.runPass(g, batch, options, grad);
    } catch (err) {
      g.release();
      throw err;
    }
  }

  private runPass(g: Graph, batch: QueryBatch, options: ForwardOptions, grad: boolean): LogpPass {
    const targets = scoredTargets(batch);
    const tokens = batch.responseIds.length;
    const tokenLogps = new Float32Array(tokens);
    let logps: Tensor | null = null;
    if (targets.count > 0) {
      const input = {
        batch,
        targets,
        keys: rowKeys(batch),
        body: (bg: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext) => this.body(bg, ids, B, T, ctx),
        hiddenSize: this.config.hiddenSize,
        checkpointing: grad && (options.gradientCheckpointing ?? this.gradientCheckpointing),
      };
      const hidden = layoutHidden(g, input, options.layout ?? "plain");
      logps = lmHeadLogProbs(g, hidden, this.headWeight(), targets.labels, { chunkRows: options.headChunk });
      for (let i = 0; i < targets.count; i++) tokenLogps[targets.ragged[i]] = logps.data[i];
    }
    if (!grad) g.release();
    let done = false;
    return {
      tokenLogps,
      backward: (dTokenLogps) => {
        if (!grad) throw new UserError("backward: the pass ran with grad: false");
        if (done) throw new UserError("backward: already called for this pass");
        if (dTokenLogps.length !== tokens) {
          throw new UserError(`backward: dTokenLogps has ${dTokenLogps.length} values, expected ${tokens} (one per response token)`);
        }
        done = true;
        if (logps === null) return;
        g.backward(
          logps,
          Float32Array.from(targets.ragged, (k) => dTokenLogps[k]),
        );
      },
      release: () => {
        if (grad) g.release();
      },
    };
  }

  decode(prompts: readonly (readonly number[])[], options: DecodeOptions): DecodeSession {
    return startDecode(
      {
        config: this.config,
        newGraph: () => new Graph({ backend: this.backend, grad: false }),
        run: (g, ids, B, T, positions, decode) =>
          this.body(g, ids, B, T, {
            past: 0,
            prefix: null,
            keyLengths: decode ? null : Int32Array.of(T),
            keyMask: null,
            positions,
            decode,
          }),
        head: (g, hidden, rows) =>
          matmul(g, reshape(g, hidden, [rows, this.config.hiddenSize]), this.headWeight(), { transB: true }).data.subarray(
            0,
            rows * this.config.vocabSize,
          ),
      },
      prompts,
      options,
    );
  }

  /**
   * The final hidden states (after the last norm) [rows * T * hidden] of
   * right-padded rows, no grad: what a reward model's `score` head reads.
   * Padding positions hold unspecified values.
   */
  hiddenStates(batch: PaddedInput): Float32Array {
    return this.paddedPass(batch, (_g, hidden, rows) => hidden.data.slice(0, rows * this.config.hiddenSize));
  }

  logits(batch: PaddedInput): Float32Array {
    const V = this.config.vocabSize;
    return this.paddedPass(batch, (g, hidden, rows) => matmul(g, hidden, this.headWeight(), { transB: true }).data.slice(0, rows * V));
  }

  /** The body over right-padded rows without gradients; `read` gets the final hidden states [rows * T, C] and their row count. */
  private paddedPass(batch: PaddedInput, read: (g: Graph, hidden: Tensor, rows: number) => Float32Array): Float32Array {
    const { rows, seqLen: T } = batch;
    checkPaddedInput(batch, this.config.vocabSize);
    const masking = keyMasking(batch);
    const g = new Graph({ backend: this.backend, grad: false });
    try {
      const out = this.body(g, Int32Array.from(batch.input_ids), rows, T, {
        past: 0,
        prefix: null,
        keyLengths: masking.lengths,
        keyMask: masking.mask,
      });
      return read(g, reshape(g, out.hidden, [rows * T, this.config.hiddenSize]), rows * T);
    } finally {
      g.release();
    }
  }
}

/**
 * Runs one block and hands back, at once, the buffers of what it made that neither its outputs nor any backward
 * rule read (raw projections, head copies, the branches added to the residual stream): the next block reuses
 * them, so a step holds only what its backward pass needs (Graph.freeUnsaved).
 */
function freeingDead(g: Graph, block: () => BlockOutput): BlockOutput {
  const mark = g.mark();
  const out = block();
  g.freeUnsaved(mark, [out.h, out.kv.k, out.kv.v]);
  return out;
}
