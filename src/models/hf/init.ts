import type { NormalizedConfig } from "./config-types.js";
import type { ParamStore } from "./param-store.js";
import { weightLayout } from "./param-specs.js";
import { Xoshiro128 } from "./prng.js";

/**
 * Fills `store` with a fresh initialisation following Hugging Face's
 * `_init_weights` for the architecture:
 * - linear/Conv1D and embedding weights ~ normal(0, initializer_range);
 * - biases 0; LayerNorm weight 1, bias 0; RMSNorm weight 1;
 * - GPT-2: every `c_proj.weight` (attention and MLP) ~ normal(0, initializer_range / sqrt(2 · n_layer));
 * - Llama family: the embedding row of `pad_token_id` is 0 (HF's padding_idx).
 * Parameters are drawn in arena order from one Xoshiro128 stream seeded by
 * `seed`, so a seed gives the same bytes on every run and machine.
 *
 * @example
 * initParams(model.normalized, model.params, 42);
 */
export function initParams(n: NormalizedConfig, store: ParamStore, seed: number): void {
  const rng = new Xoshiro128(seed);
  const std = n.initializerRange;
  const residualStd = std / Math.sqrt(2 * n.numLayers);
  const layout = weightLayout(n);
  for (const name of store.names()) {
    const v = store.view(name);
    if (name.endsWith(".bias")) v.fill(0);
    else if (/(^|\.)(ln_\d|ln_f|input_layernorm|post_attention_layernorm|norm)\.weight$/.test(name)) v.fill(1);
    else {
      const s = n.arch === "gpt2" && name.endsWith(".c_proj.weight") ? residualStd : std;
      for (let i = 0; i < v.length; i++) v[i] = rng.nextNormal() * s;
    }
  }
  if (n.arch === "llama" && n.padTokenId !== null && n.padTokenId < n.vocabSize) {
    const H = n.hiddenSize;
    store.view(layout.embedding).fill(0, n.padTokenId * H, (n.padTokenId + 1) * H);
  }
}
