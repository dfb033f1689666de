import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSafetensors } from "../../../src/io/safetensors.js";
import { normalizeConfig } from "../../../src/models/hf/config.js";
import { initParams } from "../../../src/models/hf/init.js";
import { ParamStore } from "../../../src/models/hf/param-store.js";
import { weightLayout } from "../../../src/models/hf/param-specs.js";

export const TINY_GPT2 = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  n_embd: 8,
  n_layer: 2,
  n_head: 2,
  n_positions: 16,
  vocab_size: 11,
} as const;

export const TINY_LLAMA = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 13,
  pad_token_id: 0,
} as const;

/** An initialised store for `config` (seed 1). */
export function initStore(config: object): ParamStore {
  const n = normalizeConfig(config);
  const store = ParamStore.create(weightLayout(n).specs);
  initParams(n, store, 1);
  return store;
}

/**
 * Writes a model folder by hand: config.json plus model.safetensors holding
 * `tensors` (name → [shape, values]) — how tests build checkpoints the
 * loader must accept or reject.
 */
export function writeFolder(dir: string, config: object, tensors: Array<{ name: string; shape: number[]; data: Float32Array }>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  writeSafetensors(join(dir, "model.safetensors"), tensors);
  return dir;
}

/** The store's tensors as a list for writeFolder. */
export function tensorsOf(store: ParamStore): Array<{ name: string; shape: number[]; data: Float32Array }> {
  return store.names().map((name) => ({ name, shape: [...store.shape(name)], data: store.view(name) }));
}
