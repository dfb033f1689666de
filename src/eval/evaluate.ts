/**
 * `evaluate`: the numbers that say whether training helped (spec,
 * "Definitions for scoring and evaluation"):
 *
 * - on scored data (`data`): `ranking_accuracy` (pairs of a query's responses
 *   whose given scores differ, ordered the same way by the policy's
 *   length-normalised log-prob scores; ties in the given scores skipped),
 *   `perplexity` (exp of the mean NLL over every scored token: response +
 *   EOS, paper tokenisation) and, with `ref`, `kl`: the mean over those
 *   positions of the full-vocabulary KL(policy ‖ ref), in nats;
 * - on prompts with a scorer (`prompts`, `scorer`): `reward_mean` and
 *   `reward_median` of the policy's greedy generations and, with `ref` (and
 *   no `data`), `kl` on those generations (the RLHF convention).
 *
 * A metric that was not asked for is null. `tokens` counts the positions the
 * metrics read: scored data tokens plus generated tokens.
 */
import { checkGenerateSettings, GENERATE_SETTINGS } from "../generate/settings.js";
import { eosTokenIdsOf, generate } from "../generate/generate.js";
import { UserError } from "../errors.js";
import { getBackend } from "../kernels/select.js";
import type { CausalLM } from "../models/causal-lm.js";
import { loadCausalLM } from "../models/registry.js";
import { rankingMetrics } from "../rrhf/metrics.js";
import { resolveLossOptions } from "../rrhf/options.js";
import { computePolicyScores } from "../rrhf/scores.js";
import { createScorer } from "../score/spec.js";
import type { Scorer } from "../score/scorer.js";
import { resolveSettings, type SettingsInput } from "../settings/index.js";
import { buildQueryBatch } from "../tokenize/batch.js";
import { clampModelMaxLength } from "../tokenize/settings.js";
import { loadTokenizer, type RrhfTokenizer } from "../tokenize/tokenizer.js";
import { fileOrderBatches, loadEncodedData, requireChatTemplate } from "../train/run-data.js";
import { klSums, nllSums, tokenLogProbs } from "./positions.js";
import { promptTokenIds, readPromptRecords, scoreItemOf } from "./prompts.js";
import { EVAL_SETTINGS, type EvalSettings } from "./settings.js";

/**
 * The result of {@link evaluate}: exactly the keys of `rrhf eval --json`.
 *
 * @example
 * const r: EvalResult = await evaluate({ model: "runs/x", data: "tests/fixtures/train/tiny-train.jsonl" });
 * r.perplexity; // a number; r.reward_mean is null (no prompts)
 */
export interface EvalResult {
  ranking_accuracy: number | null;
  perplexity: number | null;
  kl: number | null;
  reward_mean: number | null;
  reward_median: number | null;
  tokens: number;
}

/**
 * Options of {@link evaluate}. `data` and/or `prompts` (with `scorer`) say what is measured.
 *
 * @example
 * const options: EvaluateOptions = { model: "runs/x", ref: "models/start", prompts: "prompts.jsonl", scorer: "rule:length", settings: { max_new_tokens: 32 } };
 */
export interface EvaluateOptions {
  /** The policy's Hugging Face folder. */
  model: string;
  /** The reference model's folder (for `kl`); same vocabulary as the policy. */
  ref?: string | null;
  /** Scored records `{query|messages, responses, scores}`. */
  data?: string | null;
  /** Prompts `{query|messages[, answer]}` to generate from greedily. */
  prompts?: string | null;
  /** A scorer SPEC (see createScorer) or a scorer (not closed here); needed with `prompts`. */
  scorer?: string | Scorer | null;
  /** Tokenizer folder (default: the model folder). */
  tokenizer?: string;
  /** Any of EVAL_SETTINGS (defaults for the rest). */
  settings?: SettingsInput;
  /** Progress lines. */
  log?: (line: string) => void;
}

interface Models {
  policy: CausalLM;
  ref: CausalLM | null;
  tok: RrhfTokenizer;
}

interface DataMetrics {
  ranking_accuracy: number | null;
  perplexity: number;
  kl: number | null;
  tokens: number;
}

async function evaluateData(file: string, m: Models, s: EvalSettings, modelDir: string): Promise<DataMetrics> {
  // As training does: a budget beyond the model's positions is cut to them.
  const maxLength = clampModelMaxLength(s.model_max_length, m.policy.config.maxPositions).maxLength;
  const paper = { compat: "paper" as const, only_use_provide: false, only_use_sample: false };
  const dataSettings = { ...s, ...paper, model_max_length: maxLength, model: modelDir };
  const data = await loadEncodedData(file, m.tok, dataSettings, { format: s.data_format ?? undefined });
  const loss = resolveLossOptions({ length_penalty: s.length_penalty });
  let pairs = 0;
  let correct = 0;
  let nll = 0;
  let tokens = 0;
  let kl = 0;
  let klTokens = 0;
  for (const batch of fileOrderBatches(data, s.eval_batch_size, dataSettings)) {
    const logps = tokenLogProbs(m.policy, batch, s.layout);
    const sums = nllSums(batch, logps);
    nll += sums.nll;
    tokens += sums.tokens;
    const ranking = rankingMetrics(computePolicyScores(logps, batch, loss).policyScores, batch.scores, batch.queryRowStart);
    pairs += ranking.pairs;
    correct += ranking.correctPairs;
    if (m.ref) {
      const k = klSums(m.policy, m.ref, batch);
      kl += k.kl;
      klTokens += k.tokens;
    }
  }
  if (tokens === 0) throw new UserError(`${file}: no scored tokens to evaluate`);
  return {
    ranking_accuracy: pairs > 0 ? correct / pairs : null,
    perplexity: Math.exp(nll / tokens),
    kl: m.ref && klTokens > 0 ? kl / klTokens : null,
    tokens,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface PromptMetrics {
  reward_mean: number;
  reward_median: number;
  kl: number | null;
  tokens: number;
}

async function evaluatePrompts(file: string, scorer: Scorer, m: Models, s: EvalSettings, modelDir: string): Promise<PromptMetrics> {
  if (s.chat_template) requireChatTemplate(m.tok, modelDir);
  const prompts = await readPromptRecords(file, s.data_format);
  const eos = eosTokenIdsOf(modelDir, m.policy.config.eosTokenIds);
  const gen = resolveSettings(GENERATE_SETTINGS, { strategy: "greedy", max_new_tokens: s.max_new_tokens }, "eval");
  checkGenerateSettings(gen);
  const rewards: number[] = [];
  let tokens = 0;
  let kl = 0;
  let klTokens = 0;
  for (let start = 0; start < prompts.length; start += s.eval_batch_size) {
    const chunk = prompts.slice(start, start + s.eval_batch_size);
    const ids = chunk.map((p) => promptTokenIds(m.tok, p, s.chat_template, file));
    const out = generate(m.policy, ids, { settings: gen, eosTokenIds: eos });
    const items = chunk.map((p, i) => scoreItemOf(p, [m.tok.decode(out[i][0].tokens)]));
    const scores = await scorer.score(items);
    for (const row of scores) rewards.push(row[0]);
    // The EOS that ended a generation is one of the policy's choices too: it counts.
    const groups = chunk.map((_, i) => {
      const g = out[i][0];
      const ended = g.finish === "eos" && eos.length > 0 ? [eos[0]] : [];
      return { queryIds: ids[i], responses: [{ ids: [...g.tokens, ...ended] }] };
    });
    for (const g of groups) tokens += g.responses[0].ids.length;
    if (m.ref) {
      const k = klSums(m.policy, m.ref, buildQueryBatch(groups, { padTokenId: m.tok.special.pad_token_id }));
      kl += k.kl;
      klTokens += k.tokens;
    }
  }
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  return { reward_mean: mean, reward_median: median(rewards), kl: m.ref && klTokens > 0 ? kl / klTokens : null, tokens };
}

/**
 * Evaluates a policy model (see the module comment for each metric).
 *
 * @example
 * const r = await evaluate({
 *   model: "tests/fixtures/models/gpt2-tiny",
 *   ref: "tests/fixtures/models/gpt2-tiny",
 *   data: "tests/fixtures/train/tiny-train.jsonl",
 * });
 * console.log(r.ranking_accuracy, r.perplexity, r.kl); // kl is 0 for a model against itself
 */
export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  const s = resolveSettings(EVAL_SETTINGS, options.settings ?? {}, "eval");
  const data = options.data ?? null;
  const prompts = options.prompts ?? null;
  const scorerOption = options.scorer ?? null;
  if (data === null && prompts === null)
    throw new UserError("eval: give --data FILE (scored records) and/or --prompts FILE with --scorer SPEC");
  if (prompts !== null && scorerOption === null) throw new UserError("eval: --prompts needs --scorer SPEC to score the generations");
  const backend = getBackend(s.backend, s.threads === null ? {} : { threads: s.threads });
  const policy = loadCausalLM(options.model, { backend });
  const ref = options.ref ? loadCausalLM(options.ref, { backend }) : null;
  if (ref && ref.config.vocabSize !== policy.config.vocabSize) {
    throw new UserError(
      `--ref ${options.ref}: its vocabulary has ${ref.config.vocabSize} tokens, the policy's ${policy.config.vocabSize}; KL needs one vocabulary`,
    );
  }
  const tok = await loadTokenizer(options.tokenizer ?? options.model);
  const models: Models = { policy, ref, tok };
  const log = options.log ?? (() => {});
  const result: EvalResult = { ranking_accuracy: null, perplexity: null, kl: null, reward_mean: null, reward_median: null, tokens: 0 };
  if (data !== null) {
    log(`rrhf: eval: scoring ${data} with ${options.model}\n`);
    const d = await evaluateData(data, models, s, options.tokenizer ?? options.model);
    Object.assign(result, d);
  }
  if (prompts !== null && scorerOption !== null) {
    log(`rrhf: eval: greedy generations for ${prompts}\n`);
    const scorer =
      typeof scorerOption === "string"
        ? await createScorer(scorerOption, { timeout: s.timeout, retries: s.retries, retry_delay: s.retry_delay, backend: s.backend })
        : scorerOption;
    try {
      const p = await evaluatePrompts(prompts, scorer, models, s, options.model);
      result.reward_mean = p.reward_mean;
      result.reward_median = p.reward_median;
      // On data, KL measures drift on those texts; only without data is it taken on the generations.
      if (data === null) result.kl = p.kl;
      result.tokens += p.tokens;
    } finally {
      if (typeof scorerOption === "string") await scorer.close();
    }
  }
  return result;
}

/** The metrics in the order tables and JSON show them. */
export const EVAL_RESULT_KEYS = ["ranking_accuracy", "perplexity", "kl", "reward_mean", "reward_median", "tokens"] as const;

/**
 * A readable two-column table of an {@link EvalResult} (metrics that were not measured show "-").
 *
 * @example
 * process.stdout.write(formatEvalTable(await evaluate({ model: "m", data: "d.jsonl" })));
 */
export function formatEvalTable(r: EvalResult): string {
  const width = Math.max(...EVAL_RESULT_KEYS.map((k) => k.length));
  return EVAL_RESULT_KEYS.map((k) => {
    const v = r[k];
    const text = v === null ? "-" : k === "tokens" ? String(v) : formatMetric(v);
    return `${k.padEnd(width)}  ${text}\n`;
  }).join("");
}

/** A metric with 4 significant decimals (or exponent form for tiny values). */
export function formatMetric(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(3);
  return v.toFixed(4);
}
