/**
 * GPT-2 (HF `GPT2LMHeadModel`): learned positions, pre-LayerNorm blocks,
 * Conv1D projections stored [in, out], tanh GELU, LM head tied to `wte`
 * (or a separate `lm_head.weight` when untied).
 *
 * @example
 * const hf = loadModelFolder("models/gpt2");
 * const model = new Gpt2Model(hf.normalized, hf.params, { backend: refBackend, grads: null });
 * model.logits({ rows: 1, seqLen: 3, input_ids: [15496, 995, 0], attention_mask: [1, 1, 1] });
 */
import type { Graph } from "../../autodiff/graph.js";
import { gelu } from "../../autodiff/ops/activations.js";
import { add } from "../../autodiff/ops/elementwise.js";
import { embedding } from "../../autodiff/ops/embedding.js";
import { mergeHeads, splitHeads } from "../../autodiff/ops/layout.js";
import { linear } from "../../autodiff/ops/matmul.js";
import { layerNorm } from "../../autodiff/ops/norm.js";
import { UserError } from "../../errors.js";
import type { Tensor } from "../../tensor/tensor.js";
import { DecoderLM, type AttentionContext, type BlockOutput, type BodyOutput, type CausalLMOptions } from "../causal-lm-pass.js";
import type { NormalizedConfig } from "../hf/config-types.js";
import type { ParamStore } from "../hf/param-store.js";

export class Gpt2Model extends DecoderLM {
  constructor(config: NormalizedConfig, params: ParamStore, opts: CausalLMOptions) {
    super(config, params, opts);
    if (config.arch !== "gpt2") throw new UserError(`Gpt2Model: config is for ${config.architecture}`);
    if (config.activation !== "gelu_new") {
      throw new UserError(`GPT-2: activation_function ${config.activation} is not supported (only gelu_new)`);
    }
  }

  protected headWeight(): Tensor {
    return this.param(this.config.tieWordEmbeddings ? "transformer.wte.weight" : "lm_head.weight");
  }

  private ln(g: Graph, x: Tensor, name: string): Tensor {
    return layerNorm(g, x, this.param(`${name}.weight`), this.param(`${name}.bias`), this.config.normEps);
  }

  /** Conv1D: x @ W + b with W stored [in, out]. */
  private conv1d(g: Graph, x: Tensor, name: string): Tensor {
    return linear(g, x, this.param(`${name}.weight`), this.param(`${name}.bias`), "in_out");
  }

  protected body(g: Graph, ids: Int32Array, B: number, T: number, ctx: AttentionContext): BodyOutput {
    const c = this.config;
    const end = this.positionEnd(ctx, T);
    if (end > c.maxPositions) {
      throw new UserError(`GPT-2: positions up to ${end} exceed n_positions ${c.maxPositions}`);
    }
    const positions = this.positionIds(ctx, B, T);
    const h = add(
      g,
      embedding(g, this.param("transformer.wte.weight"), ids, [B, T]),
      embedding(g, this.param("transformer.wpe.weight"), positions, [B, T]),
    );
    const out = this.runBlocks(g, h, ctx, (bg, i, x, bctx) => this.block(bg, i, x, bctx));
    return { hidden: this.ln(g, out.h, "transformer.ln_f"), kv: out.kv };
  }

  /** Block i: pre-LN attention and MLP, each added to the residual stream h [B, T, C]. */
  private block(g: Graph, i: number, h: Tensor, ctx: AttentionContext): BlockOutput {
    const c = this.config;
    const C = c.hiddenSize;
    const H = c.numHeads;
    const p = `transformer.h.${i}.`;
    // q, k, v: column ranges of the fused projection, each split into heads in one copy.
    const qkv = this.conv1d(g, this.ln(g, h, `${p}ln_1`), `${p}attn.c_attn`);
    const kv = { k: splitHeads(g, qkv, H, C, C), v: splitHeads(g, qkv, H, 2 * C, C) };
    let scale = c.scaleAttnWeights ? 1 / Math.sqrt(c.headDim) : 1;
    if (c.scaleAttnByInverseLayerIdx) scale /= i + 1;
    const a = this.attend(g, i, splitHeads(g, qkv, H, 0, C), kv.k, kv.v, ctx, scale);
    h = add(g, h, this.conv1d(g, mergeHeads(g, a), `${p}attn.c_proj`));
    const m = gelu(g, this.conv1d(g, this.ln(g, h, `${p}ln_2`), `${p}mlp.c_fc`));
    return { h: add(g, h, this.conv1d(g, m, `${p}mlp.c_proj`)), kv };
  }
}
