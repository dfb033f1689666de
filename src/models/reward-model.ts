/**
 * Reward models from Hugging Face folders: `GPT2ForSequenceClassification`,
 * `LlamaForSequenceClassification`, `Qwen2ForSequenceClassification`,
 * `MistralForSequenceClassification` — the causal body plus a bias-free
 * `score` Linear [num_labels, hidden], num_labels 1. Inference only.
 *
 * The reward of a sequence is the score head at one token, chosen as
 * transformers does (`*ForSequenceClassification.forward`): the rightmost
 * token whose id is not `config.pad_token_id` (so with pad == eos a trailing
 * EOS is skipped; a sequence of nothing but pad reads position 0, argmax of
 * zeros), or the last token when `pad_token_id` is null. transformers refuses
 * batches of more than one row without a pad id; here every sequence is
 * read on its own real tokens, so the result never depends on the batching.
 *
 * @example
 * const rm = loadRewardModel("tests/fixtures/reward-models/gpt2-rm");
 * rm.rewards([[1, 2, 3], [4, 5]]); // Float32Array [r_1, r_2]
 */
import { UserError } from "../errors.js";
import type { CreateCausalLMOptions } from "./registry.js";
import { resolveBackend } from "./registry.js";
import type { DecoderLM } from "./causal-lm-pass.js";
import { Gpt2Model } from "./gpt2/model.js";
import type { NormalizedConfig } from "./hf/config-types.js";
import { loadModelFolder, type HfModel } from "./hf/folder.js";
import { SCORE_HEAD } from "./hf/param-specs.js";
import { LlamaModel } from "./llama/model.js";

/**
 * A loaded reward model.
 *
 * @example
 * const rm: RewardModel = loadRewardModel("tests/fixtures/reward-models/llama-rm");
 * const [r] = rm.rewards([[1, 5, 9]]);
 */
export interface RewardModel {
  readonly config: NormalizedConfig;
  /** One reward per token sequence (ids already include any special tokens). */
  rewards(sequences: readonly (readonly number[])[]): Float32Array;
}

/**
 * Options of {@link loadRewardModel}: the backend and threads, as for causal models.
 *
 * @example
 * const opts: RewardModelOptions = { backend: "wasm", threads: 2 };
 */
export type RewardModelOptions = Pick<CreateCausalLMOptions, "backend" | "threads">;

/**
 * The position transformers reads the reward at, in one sequence's ids: the
 * rightmost id that is not `padTokenId` (0 when every id is pad), or the last
 * position when there is no pad id.
 *
 * @example
 * rewardPosition([5, 6, 2, 2], 2); // 1
 * rewardPosition([5, 6, 2], null); // 2
 */
export function rewardPosition(ids: readonly number[], padTokenId: number | null): number {
  if (ids.length === 0) throw new UserError("reward model: an empty token sequence has no reward");
  if (padTokenId === null) return ids.length - 1;
  for (let t = ids.length - 1; t >= 0; t--) if (ids[t] !== padTokenId) return t;
  return 0;
}

class ScoreHeadModel implements RewardModel {
  private readonly head: Float32Array;

  constructor(
    private readonly decoder: DecoderLM,
    readonly config: NormalizedConfig,
  ) {
    this.head = decoder.params.view(SCORE_HEAD);
  }

  rewards(sequences: readonly (readonly number[])[]): Float32Array {
    const out = new Float32Array(sequences.length);
    if (sequences.length === 0) return out;
    const C = this.config.hiddenSize;
    const T = Math.max(...sequences.map((s) => s.length));
    if (T > this.config.maxPositions) {
      throw new UserError(`reward model: a sequence of ${T} tokens exceeds the model's ${this.config.maxPositions} positions`);
    }
    const rows = sequences.length;
    const ids = new Int32Array(rows * T);
    const mask = new Uint8Array(rows * T);
    sequences.forEach((s, r) => {
      if (s.length === 0) throw new UserError("reward model: an empty token sequence has no reward");
      ids.set(s, r * T);
      mask.fill(1, r * T, r * T + s.length);
    });
    const hidden = this.decoder.hiddenStates({ rows, seqLen: T, input_ids: ids, attention_mask: mask });
    sequences.forEach((s, r) => {
      const at = (r * T + rewardPosition(s, this.config.padTokenId)) * C;
      let sum = 0;
      for (let c = 0; c < C; c++) sum += hidden[at + c] * this.head[c];
      out[r] = sum;
    });
    return out;
  }
}

/**
 * Wraps an already-loaded `*ForSequenceClassification` folder as a reward model.
 *
 * @example
 * const rm = createRewardModel(loadModelFolder("tests/fixtures/reward-models/gpt2-rm"));
 */
export function createRewardModel(hf: Pick<HfModel, "normalized" | "params">, opts: RewardModelOptions = {}): RewardModel {
  const n = hf.normalized;
  if (n.task !== "sequence-classification") {
    throw new UserError(`${n.architecture} is not a reward model (need GPT2/Llama/Qwen2/MistralForSequenceClassification)`);
  }
  if (n.numLabels !== 1) throw new UserError(`${n.architecture}: a reward model needs num_labels 1 (got ${n.numLabels})`);
  const backend = resolveBackend(opts);
  const modelOpts = { backend, grads: null };
  const decoder = n.arch === "gpt2" ? new Gpt2Model(n, hf.params, modelOpts) : new LlamaModel(n, hf.params, modelOpts);
  return new ScoreHeadModel(decoder, n);
}

/**
 * Loads a reward-model folder (config.json + safetensors; the strict loader of
 * the causal models, HF tensor names: `score.weight`, GPT-2's body under
 * `transformer.`, the Llama family's under `model.`).
 *
 * @example
 * const rm = loadRewardModel("tests/fixtures/reward-models/qwen2-rm", { backend: "ref" });
 * rm.rewards([[3, 4, 5]]);
 */
export function loadRewardModel(dir: string, opts: RewardModelOptions = {}): RewardModel {
  const backend = resolveBackend(opts);
  const hf = loadModelFolder(dir, { alloc: (n) => backend.alloc(n) });
  if (hf.normalized.task !== "sequence-classification") {
    throw new UserError(
      `${dir}: ${hf.normalized.architecture} is not a reward model (need GPT2/Llama/Qwen2/MistralForSequenceClassification)`,
    );
  }
  return createRewardModel(hf, { ...opts, backend });
}
