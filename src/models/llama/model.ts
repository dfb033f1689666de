/**
 * The Llama family (HF `LlamaForCausalLM`, `Qwen2ForCausalLM`,
 * `MistralForCausalLM` on sequences within its sliding window): RMSNorm pre-norm blocks,
 * rotary positions (default, linear or llama3 scaling), grouped-query
 * attention, SiLU-gated MLP, Linear weights stored [out, in], optional
 * q/k/v (and o) biases, tied or untied LM head.
 *
 * @example
 * const model = new LlamaModel(hf.normalized, hf.params, { backend: refBackend, grads: null });
 */
import type { Graph } from "../../autodiff/graph.js";
import { swiglu } from "../../autodiff/ops/activations.js";
import { add } from "../../autodiff/ops/elementwise.js";
import { embedding } from "../../autodiff/ops/embedding.js";
import { mergeHeads, splitHeads } from "../../autodiff/ops/layout.js";
import { linear } from "../../autodiff/ops/matmul.js";
import { rmsNorm } from "../../autodiff/ops/norm.js";
import { rope, type RopeTable } from "../../autodiff/ops/rope.js";
import { UserError } from "../../errors.js";
import type { Tensor } from "../../tensor/tensor.js";
import { DecoderLM, type AttentionContext, type BlockOutput, type BodyOutput, type CausalLMOptions } from "../causal-lm-pass.js";
import type { NormalizedConfig } from "../hf/config-types.js";
import type { ParamStore } from "../hf/param-store.js";
import { llamaRopeTable } from "./rope-table.js";

export class LlamaModel extends DecoderLM {
  private readonly rope: RopeTable;

  constructor(config: NormalizedConfig, params: ParamStore, opts: CausalLMOptions) {
    super(config, params, opts);
    if (config.arch !== "llama") throw new UserError(`LlamaModel: config is for ${config.architecture}`);
    if (config.activation !== "silu")
      throw new UserError(`${config.architecture}: hidden_act ${config.activation} is not supported (only silu)`);
    this.rope = llamaRopeTable(config);
  }

  protected headWeight(): Tensor {
    return this.param(this.config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  }

  /** nn.Linear: x @ W^T (+ b) with W stored [out, in]. */
  private proj(g: Graph, x: Tensor, name: string, bias: boolean): Tensor {
    return linear(g, x, this.param(`${name}.weight`), bias ? this.param(`${name}.bias`) : null, "out_in");
  }

  protected body(g: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext): BodyOutput {
    const c = this.config;
    const end = this.positionEnd(ctx, T);
    if (end > this.rope.maxPositions) {
      throw new UserError(`${c.architecture}: positions up to ${end} exceed max_position_embeddings ${this.rope.maxPositions}`);
    }
    // A sliding window changes nothing until a sequence is longer than it; beyond that it is not implemented.
    if (c.slidingWindow !== null && end > c.slidingWindow) {
      throw new UserError(
        `${c.architecture}: ${end} positions exceed sliding_window ${c.slidingWindow}; sliding-window attention is not supported`,
      );
    }
    const h = embedding(g, this.param("model.embed_tokens.weight"), ids, [B, T]);
    const out = this.runBlocks(g, h, ctx, (bg, i, x, bctx) => this.block(bg, i, x, bctx));
    return { hidden: rmsNorm(g, out.h, this.param("model.norm.weight"), c.normEps), kv: out.kv };
  }

  /** Block i: RMSNorm, rotary grouped-query attention and the gated MLP, each added to the residual stream h [B, T, C]. */
  private block(g: Graph, i: number, h: Tensor, ctx: AttentionContext): BlockOutput {
    const c = this.config;
    const eps = c.normEps;
    const p = `model.layers.${i}.`;
    const x = rmsNorm(g, h, this.param(`${p}input_layernorm.weight`), eps);
    const heads = (name: string, n: number) => splitHeads(g, this.proj(g, x, `${p}self_attn.${name}`, c.qkvBias), n);
    const q = rope(g, heads("q_proj", c.numHeads), this.rope, this.ropePositions(ctx));
    const kv = { k: rope(g, heads("k_proj", c.numKvHeads), this.rope, this.ropePositions(ctx)), v: heads("v_proj", c.numKvHeads) };
    const a = this.attend(g, i, q, kv.k, kv.v, ctx);
    h = add(g, h, this.proj(g, mergeHeads(g, a), `${p}self_attn.o_proj`, c.oBias));
    const y = rmsNorm(g, h, this.param(`${p}post_attention_layernorm.weight`), eps);
    const gated = swiglu(g, this.proj(g, y, `${p}mlp.gate_proj`, c.mlpBias), this.proj(g, y, `${p}mlp.up_proj`, c.mlpBias));
    return { h: add(g, h, this.proj(g, gated, `${p}mlp.down_proj`, c.mlpBias)), kv };
  }
}
