/**
 * The stages of one `rrhf iterate` round, each writing its result
 * atomically (a temp file or folder renamed into place, or a file whose
 * existence marks the stage complete), so that a rerun after a crash skips
 * what is done and redoes only the stage that was cut off.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeStreamAtomic } from "../data/atomic-writer.js";
import { evaluate, type EvalResult } from "../eval/evaluate.js";
import { promptTokenIds, readPromptRecords } from "../eval/prompts.js";
import { eosTokenIdsOf, generate } from "../generate/generate.js";
import { resolveSettings } from "../settings/index.js";
import { GENERATE_SETTINGS } from "../generate/settings.js";
import { cutAtStop } from "../generate/types.js";
import { writeFileAtomic } from "../io/atomic.js";
import { getBackend } from "../kernels/select.js";
import { loadCausalLM } from "../models/registry.js";
import { scoreFile } from "../score/file.js";
import type { Scorer } from "../score/scorer.js";
import { listCheckpoints } from "../train/checkpoint-dir.js";
import { resolveTrainConfig, type TrainConfigInput } from "../train/config.js";
import { train, type TrainHooks } from "../train/loop.js";
import { loadTokenizer } from "../tokenize/tokenizer.js";
import { UserError } from "../errors.js";
import { ITERATE_TRAIN_KEYS, type IterateSettings } from "./settings.js";

/** Where a round's files go (see the module comment of iterate.ts). */
export interface RoundPaths {
  dir: string;
  samples: string;
  scored: string;
  model: string;
  metrics: string;
  eval: string;
}

/** The files of round `n` under `out`. */
export function roundPaths(out: string, n: number): RoundPaths {
  const dir = join(out, `round-${n}`);
  return {
    dir,
    samples: join(dir, "samples.jsonl"),
    scored: join(dir, "scored.jsonl"),
    model: join(dir, "model"),
    metrics: join(dir, "metrics.jsonl"),
    eval: join(dir, "eval.json"),
  };
}

/** What every stage reads. */
export interface StageContext {
  settings: IterateSettings;
  prompts: string;
  evalPrompts: string;
  scorer: Scorer;
  /** The model iterate started from (the KL reference). */
  startModel: string;
  log: (line: string) => void;
  trainHooks: TrainHooks;
  /** Where each round's training draws its progress bar (a terminal), or undefined for none. */
  progressStream?: NodeJS.WritableStream;
}

/** Samples k responses per prompt from `modelDir` into `target` (`{query|messages, responses[, answer]}` lines). */
export async function sampleStage(ctx: StageContext, modelDir: string, round: number, target: string): Promise<void> {
  const s = ctx.settings;
  const model = loadCausalLM(modelDir, { backend: getBackend(s.backend, s.threads === null ? {} : { threads: s.threads }) });
  const tok = await loadTokenizer(modelDir);
  const prompts = await readPromptRecords(ctx.prompts, s.data_format);
  const eosTokenIds = eosTokenIdsOf(modelDir, model.config.eosTokenIds);
  const stopStrings = s.stop === null ? [] : [s.stop];
  const stop = stopStrings.length > 0 ? { strings: stopStrings, decode: (ids: number[]) => tok.decode(ids) } : null;
  const genInput: Record<string, unknown> = {};
  for (const key of Object.keys(GENERATE_SETTINGS)) if (key in s) genInput[key] = s[key as keyof IterateSettings];
  let dropped = 0;
  await writeStreamAtomic(target, async (write) => {
    for (let start = 0; start < prompts.length; start += s.prompts_per_batch) {
      const batch = prompts.slice(start, start + s.prompts_per_batch);
      const ids = batch.map((p) => promptTokenIds(tok, p, s.chat_template, ctx.prompts));
      // Every round and batch has its own seed: a rerun draws exactly what the first run drew.
      const settings = resolveSettings(GENERATE_SETTINGS, { ...genInput, seed: s.seed + round * 1_000_003 + start }, "iterate");
      const out = generate(model, ids, { settings, eosTokenIds, stop });
      for (let i = 0; i < batch.length; i++) {
        // An empty answer (EOS first) is not valid data; a prompt left with fewer than two answers has nothing to rank.
        const responses = out[i].map((g) => cutAtStop(tok.decode(g.tokens), stopStrings)).filter((r) => r !== "");
        const p = batch[i];
        if (responses.length < 2) {
          dropped++;
          continue;
        }
        await write(`${JSON.stringify({ ...p.prompt, responses, ...(p.answer === undefined ? {} : { answer: p.answer }) })}\n`);
      }
    }
  });
  if (dropped > 0) ctx.log(`rrhf: iterate: round ${round}: ${dropped} prompt(s) left out: fewer than two non-empty answers\n`);
}

/** Scores `samples` into `scored` (scoreFile: resumable, renamed into place when complete). */
export async function scoreStage(ctx: StageContext, samples: string, scored: string): Promise<void> {
  await scoreFile(samples, scored, ctx.scorer, { batchSize: ctx.settings.batch_size });
}

/**
 * Trains `from` on `scored` into `paths.model`; complete once the final
 * model's config.json is there (the trainer writes it last). A run cut off
 * after a checkpoint resumes from it. Copies metrics.jsonl beside the round's other files.
 */
export async function trainStage(ctx: StageContext, from: string, paths: RoundPaths): Promise<void> {
  const s = ctx.settings;
  const overrides: TrainConfigInput = { model: from, data: paths.scored, output_dir: paths.model };
  for (const key of ITERATE_TRAIN_KEYS) overrides[key] = s[key];
  if (listCheckpoints(paths.model).length > 0) overrides.resume_from_checkpoint = "latest";
  const result = await train(resolveTrainConfig({ overrides }), {
    stdout: () => {},
    stderr: ctx.log,
    hooks: ctx.trainHooks,
    ...(ctx.progressStream === undefined ? {} : { progressStream: ctx.progressStream }),
  });
  if (result.interrupted) throw new UserError(`training of ${paths.model} stopped at step ${result.interrupted.step}`);
  const metrics = join(paths.model, "metrics.jsonl");
  if (existsSync(metrics)) writeFileAtomic(paths.metrics, readFileSync(metrics));
}

/** Evaluates `modelDir` (reward of greedy generations on the eval prompts, KL vs the start model) into `target`. */
export async function evalStage(ctx: StageContext, modelDir: string, target: string): Promise<EvalResult> {
  const s = ctx.settings;
  const result = await evaluate({
    model: modelDir,
    ref: ctx.startModel,
    prompts: ctx.evalPrompts,
    scorer: ctx.scorer,
    settings: {
      data_format: s.data_format,
      model_max_length: s.model_max_length,
      max_query_share: s.max_query_share,
      chat_template: s.chat_template,
      length_penalty: s.length_penalty,
      max_new_tokens: s.max_new_tokens,
      eval_batch_size: s.eval_batch_size,
      backend: s.backend,
      threads: s.threads,
      layout: s.layout,
    },
  });
  writeFileAtomic(target, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
