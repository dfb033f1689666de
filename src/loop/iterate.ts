/**
 * `iterate`: the paper's iterated RRHF ("IP"): R rounds of
 * sample → score → train → eval, the policy of each round sampling the next.
 *
 * ```
 * OUT/iterate.json          the run's inputs and settings (a rerun must match them)
 * OUT/round-0/eval.json     the start model, evaluated as every round is
 * OUT/round-N/samples.jsonl k responses per prompt from the previous round's model
 * OUT/round-N/scored.jsonl  the same with scores
 * OUT/round-N/model/        the trained model (HF folder; its checkpoints while training)
 * OUT/round-N/metrics.jsonl the training log
 * OUT/round-N/eval.json     reward_mean, reward_median and kl (vs the start model) of greedy generations,
 *                           with the keys of `rrhf eval --json`
 * OUT/summary.json          every round's eval, in order
 * ```
 *
 * Every stage writes atomically and is skipped when its result is already
 * there, so a rerun after a crash at any point continues where it stopped
 * (a training run resumes from its latest checkpoint) and ends with the same result.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";
import { formatMetric, type EvalResult } from "../eval/evaluate.js";
import { writeFileAtomic } from "../io/atomic.js";
import { createScorer } from "../score/spec.js";
import type { Scorer } from "../score/scorer.js";
import { resolveSettings, type SettingsInput } from "../settings/index.js";
import type { TrainHooks } from "../train/loop.js";
import { ITERATE_SETTINGS } from "./settings.js";
import { evalStage, roundPaths, sampleStage, scoreStage, trainStage, type StageContext } from "./stages.js";

/**
 * The stages of a round, in order.
 *
 * @example
 * const afterStage = (round: number, stage: IterateStage) => console.error(`round ${round}: ${stage} done`);
 */
export type IterateStage = "sample" | "score" | "train" | "eval";

/**
 * Options of {@link iterate}.
 *
 * @example
 * const options: IterateOptions = { model: "models/sft", prompts: "prompts.jsonl", scorer: "rule:length", out: "runs/ip", settings: { rounds: 2, max_steps: 8 } };
 */
export interface IterateOptions {
  /** The start model (Hugging Face folder with its tokenizer). */
  model: string;
  /** Prompts `{query|messages[, answer]}` to sample from each round. */
  prompts: string;
  /** A scorer SPEC (see createScorer) or a scorer (not closed here). */
  scorer: string | Scorer;
  /** Output folder (see the module comment). */
  out: string;
  /** ITERATE_SETTINGS values; `rounds` is required. */
  settings: SettingsInput;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Called after each stage that ran (not after skipped ones); a test can stop the run there. */
  afterStage?: (round: number, stage: IterateStage) => void | Promise<void>;
  /** Test hooks passed to every round's `train` (e.g. to kill the process half-way through a checkpoint). */
  trainHooks?: TrainHooks;
  /** A terminal stream for each round's training progress bar (none by default). */
  progressStream?: NodeJS.WritableStream;
}

/**
 * One row of the summary: a round's eval (round 0: the start model).
 *
 * @example
 * const row: IterateRound = { round: 1, ranking_accuracy: null, perplexity: null, kl: 0.02, reward_mean: 3.1, reward_median: 3, tokens: 96 };
 */
export type IterateRound = EvalResult & { round: number };

/**
 * What {@link iterate} returns (and writes to OUT/summary.json).
 *
 * @example
 * const { rounds } = await iterate(options);
 * rounds[rounds.length - 1].reward_mean; // the last round's mean reward
 */
export interface IterateSummary {
  model: string;
  prompts: string;
  scorer: string;
  rounds: IterateRound[];
}

function readEval(file: string): EvalResult {
  const v = JSON.parse(readFileSync(file, "utf8")) as EvalResult;
  return v;
}

/** Records the run's inputs in OUT/iterate.json; a rerun with other inputs is refused (its rounds would mix two runs). */
function checkSameRun(out: string, record: object): void {
  const file = join(out, "iterate.json");
  const text = `${JSON.stringify(record, null, 2)}\n`;
  if (!existsSync(file)) {
    writeFileAtomic(file, text);
    return;
  }
  if (readFileSync(file, "utf8") !== text) {
    throw new UserError(
      `${out} holds an iterate run with other inputs or settings (${file}); use the same flags to resume, or another --out`,
    );
  }
}

/**
 * Runs (or resumes) the rounds and returns the summary (see the module comment).
 *
 * @example
 * const summary = await iterate({
 *   model: "tests/fixtures/models/gpt2-tiny",
 *   prompts: "tests/fixtures/score/prompts.jsonl",
 *   scorer: "rule:length",
 *   out: "runs/iterate",
 *   settings: { rounds: 2, max_new_tokens: 8, max_steps: 4, learning_rate: 1e-3 },
 * });
 * process.stdout.write(formatIterateSummary(summary));
 */
export async function iterate(options: IterateOptions): Promise<IterateSummary> {
  const settings = resolveSettings(ITERATE_SETTINGS, options.settings, "iterate");
  const log = options.log ?? (() => {});
  const scorerSpec = typeof options.scorer === "string" ? options.scorer : options.scorer.spec;
  mkdirSync(options.out, { recursive: true });
  // Compute settings change how fast, not what: a resume may pick other ones.
  const { backend: _backend, threads: _threads, ...recorded } = settings;
  checkSameRun(options.out, { model: options.model, prompts: options.prompts, scorer: scorerSpec, settings: recorded });
  const scorer =
    typeof options.scorer === "string"
      ? await createScorer(options.scorer, {
          timeout: settings.timeout,
          retries: settings.retries,
          retry_delay: settings.retry_delay,
          backend: settings.backend,
        })
      : options.scorer;
  const ctx: StageContext = {
    settings,
    prompts: options.prompts,
    evalPrompts: settings.eval_prompts ?? options.prompts,
    scorer,
    startModel: options.model,
    log,
    trainHooks: options.trainHooks ?? {},
    ...(options.progressStream === undefined ? {} : { progressStream: options.progressStream }),
  };
  const after = options.afterStage ?? (() => {});
  try {
    const start = roundPaths(options.out, 0);
    mkdirSync(start.dir, { recursive: true });
    if (!existsSync(start.eval)) {
      log("rrhf: iterate: round 0: eval of the start model\n");
      await evalStage(ctx, options.model, start.eval);
    }
    for (let n = 1; n <= settings.rounds; n++) {
      const paths = roundPaths(options.out, n);
      const from = n === 1 ? options.model : roundPaths(options.out, n - 1).model;
      mkdirSync(paths.dir, { recursive: true });
      const stages: [IterateStage, boolean, () => Promise<unknown>][] = [
        ["sample", existsSync(paths.samples), () => sampleStage(ctx, from, n, paths.samples)],
        ["score", existsSync(paths.scored), () => scoreStage(ctx, paths.samples, paths.scored)],
        ["train", existsSync(join(paths.model, "config.json")), () => trainStage(ctx, from, paths)],
        ["eval", existsSync(paths.eval), () => evalStage(ctx, paths.model, paths.eval)],
      ];
      for (const [stage, done, run] of stages) {
        if (done) {
          log(`rrhf: iterate: round ${n}: ${stage}: already done\n`);
          continue;
        }
        log(`rrhf: iterate: round ${n}: ${stage}\n`);
        await run();
        await after(n, stage);
      }
    }
  } finally {
    if (typeof options.scorer === "string") await scorer.close();
  }
  const rounds: IterateRound[] = [];
  for (let n = 0; n <= settings.rounds; n++) rounds.push({ round: n, ...readEval(roundPaths(options.out, n).eval) });
  const summary: IterateSummary = { model: options.model, prompts: options.prompts, scorer: scorerSpec, rounds };
  writeFileAtomic(join(options.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/**
 * The per-round table of reward and KL (vs the start model) a terminal shows.
 *
 * @example
 * process.stdout.write(formatIterateSummary(await iterate(options)));
 */
export function formatIterateSummary(summary: IterateSummary): string {
  const header = ["round", "reward_mean", "reward_median", "kl"];
  const rows = summary.rounds.map((r) => [
    String(r.round),
    ...(["reward_mean", "reward_median", "kl"] as const).map((k) => (r[k] === null ? "-" : formatMetric(r[k]))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd()}\n`;
  return [line(header), ...rows.map(line)].join("");
}
