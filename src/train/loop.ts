/**
 * `train(config)`: the whole of `rrhf train`, as a coordinator of the
 * building blocks in this folder. It loads the tokenizer, model and data,
 * reports what truncation did before any step runs, plans the steps, builds
 * optimizer / schedule / data order / non-finite guard / metrics logger,
 * resumes from a checkpoint when asked, then repeats `trainStep` (step.ts),
 * logging every `logging_steps`, evaluating every `eval_steps` on
 * `eval_data`, and writing `checkpoint-N/` every `save_steps`; the final
 * model goes into `output_dir`.
 *
 * Choices:
 * - A non-finite step (NaN/inf loss or gradient) is skipped but still
 *   advances `global_step`, the schedule and the data position, as the HF
 *   Trainer does: its batch is not retried, and step numbers in logs and
 *   checkpoint names keep meaning "batches consumed". The optimizer's own
 *   update count (AdamW bias correction) does not advance.
 * - N steps straight and k steps + resume + N-k steps give bit-identical
 *   weights on one backend and thread count: weights, optimizer moments,
 *   data position and the schedule's step are all restored exactly.
 * - An output folder that already holds checkpoints is refused unless the
 *   run resumes, so two runs never mix their checkpoints.
 *
 * @example
 * const config = resolveTrainConfig({ overrides: { model: "m", data: "d.jsonl", output_dir: "out", max_steps: 20 } });
 * const result = await train(config, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
 * result.globalStep; // 20
 */
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { UserError } from "../errors.js";
import { getBackend } from "../kernels/select.js";
import { loadModelFolder } from "../models/hf/folder.js";
import { createCausalLM } from "../models/registry.js";
import { loadTokenizer } from "../tokenize/tokenizer.js";
import { saveCheckpoint, type LogEntry, type TrainerState } from "./checkpoint.js";
import { listCheckpoints, pruneCheckpoints, removeStaleCheckpointTemps, resolveResumeCheckpoint } from "./checkpoint-dir.js";
import { effectiveEvalSteps, rrhfConfigFromTrainConfig, type TrainConfig } from "./config.js";
import { DataOrder } from "./data-order.js";
import { evaluate } from "./eval.js";
import { MetricsLogger, type ProgressMode } from "./metrics-log.js";
import { NonFiniteGuard } from "./nonfinite-guard.js";
import { createOptimizer, segmentsFromSpecs } from "./optim/index.js";
import { trainingPlan } from "./plan.js";
import { collateExamples, dataWarnings, fileOrderBatches, loadEncodedData, type EncodedData } from "./run-data.js";
import { formatRunHeader, formatRunSummary } from "./run-report.js";
import { dataOrderRngState, restoreCheckpoint } from "./run-resume.js";
import { assertOutputDirUsable, removeStaleFinalTemps, saveFinalModel, writeModelFiles } from "./run-save.js";
import { LrSchedule } from "./schedule.js";
import { trainStep, type StepContext } from "./step.js";

/**
 * Test hook: a comma-separated list of global steps (1-based) whose loss is
 * replaced by NaN, to exercise the skip / stop policy on a healthy model.
 */
export const NONFINITE_TEST_ENV = "RRHF_TEST_NONFINITE_STEPS";

/** Where a run writes. */
export interface TrainIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Stream of the progress display; a TTY gets a bar. Default: plain lines through `stdout`. */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Default "auto" (bar on a TTY, plain lines otherwise). */
  progress?: ProgressMode;
}

export interface TrainResult {
  outputDir: string;
  /** Updates done (skipped non-finite steps included), = totalSteps when the run finished. */
  globalStep: number;
  totalSteps: number;
  skippedNonfiniteSteps: number;
  numInputTokensSeen: number;
  /** The checkpoint this run continued from, or null. */
  resumedFrom: string | null;
  /** Checkpoint folders this run wrote (pruned ones included). */
  checkpoints: string[];
  /** The last training and evaluation log entries (null when none was written). */
  lastLog: LogEntry | null;
  lastEval: LogEntry | null;
}

const silentIo: TrainIo = { stdout: () => {}, stderr: () => {} };

function nonFiniteTestSteps(): Set<number> {
  const raw = process.env[NONFINITE_TEST_ENV];
  if (!raw) return new Set();
  return new Set(raw.split(",").map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0));
}

function linesTo(write: (text: string) => void): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      write(String(chunk));
      done();
    },
  });
}

/** Runs one training (or its continuation) as `config` says. */
export async function train(config: TrainConfig, io: TrainIo = silentIo): Promise<TrainResult> {
  const out = config.output_dir;
  assertOutputDirUsable(out, config.model);
  removeStaleCheckpointTemps(out);
  removeStaleFinalTemps(out);
  const resumeDir = config.resume_from_checkpoint ? resolveResumeCheckpoint(out, config.resume_from_checkpoint) : null;
  if (resumeDir === null && listCheckpoints(out).length > 0) {
    if (!config.overwrite_output_dir) {
      throw new UserError(
        `${out} already holds checkpoints of a run: continue it with --resume-from-checkpoint latest, start over with --overwrite-output-dir, or choose another --out`,
      );
    }
    for (const c of listCheckpoints(out)) rmSync(c.dir, { recursive: true, force: true });
  }

  if (config.compat === "official" && config.eval_data && config.per_device_eval_batch_size !== 1) {
    throw new UserError("compat official evaluates one query per batch, as it trains; pass --per-device-eval-batch-size 1 (per_device_eval_batch_size: 1 in a config file)");
  }
  const backend = getBackend(config.backend);
  const tok = await loadTokenizer(config.model);
  const hf = loadModelFolder(config.model, { alloc: (n) => backend.alloc(n) });
  const model = createCausalLM(hf, { backend, trainable: true });
  const positions = hf.normalized.maxPositions;
  const maxLength = Math.min(config.model_max_length, positions);
  if (maxLength < config.model_max_length) {
    io.stderr(`rrhf: note: model_max_length ${config.model_max_length} exceeds the model's ${positions} positions; using ${positions}\n`);
  }
  const dataSettings = { ...config, model_max_length: maxLength };
  const data = await loadEncodedData(config.data, tok, dataSettings);
  const evalData: EncodedData | null = config.eval_data ? await loadEncodedData(config.eval_data, tok, dataSettings) : null;
  // Before any step: what truncation dropped is reported, never trained on silently.
  for (const w of [...dataWarnings(data, maxLength), ...(evalData ? dataWarnings(evalData, maxLength) : [])]) {
    io.stderr(`rrhf: warning: ${w}\n`);
  }
  const plan = trainingPlan({ numExamples: data.examples.length, ...config });
  const schedule = LrSchedule.fromTrainingArgs(config, plan.totalSteps);
  const optimizer = createOptimizer(config.optim, segmentsFromSpecs(model.params.specs()), config);
  const restored = resumeDir ? restoreCheckpoint(resumeDir, { model, optimizer, schedule, config }) : null;
  const order = new DataOrder({
    numExamples: data.examples.length,
    batchSize: config.per_device_train_batch_size,
    seed: config.seed,
    position: restored?.trainerState.data_position,
  });
  const guard = new NonFiniteGuard(config.max_consecutive_nonfinite_steps, restored?.trainerState.skipped_nonfinite_steps ?? 0);
  let globalStep = restored?.trainerState.global_step ?? 0;
  let tokensSeen = restored?.trainerState.num_input_tokens_seen ?? 0;
  const priorHistory = restored?.logHistory ?? [];
  const ctx: StepContext = {
    model,
    optimizer,
    schedule,
    guard,
    lossOptions: rrhfConfigFromTrainConfig(config),
    maxGradNorm: config.max_grad_norm,
    forwardOptions: { layout: config.layout, gradientCheckpointing: config.gradient_checkpointing },
  };
  const evalSteps = effectiveEvalSteps(config);
  const forced = nonFiniteTestSteps();

  io.stdout(formatRunHeader({ config, backend: backend.name, hf, data, evalData, plan, schedule, resumedFrom: resumeDir, startStep: globalStep }));
  const logger = new MetricsLogger({
    outputDir: out,
    totalSteps: plan.totalSteps,
    loggingSteps: config.logging_steps,
    startStep: globalStep,
    skippedSoFar: guard.total,
    stream: io.progressStream ?? linesTo(io.stdout),
    progress: io.progressStream ? (io.progress ?? "auto") : io.progress === "none" ? "none" : "plain",
  });
  const checkpoints: string[] = [];
  let lastLog: LogEntry | null = null;
  let lastEval: LogEntry | null = null;
  const trainerState = (): TrainerState => ({
    global_step: globalStep,
    epoch: order.epochProgress(),
    max_steps: plan.totalSteps,
    num_train_epochs: config.num_train_epochs,
    logging_steps: config.logging_steps,
    save_steps: config.save_steps,
    eval_steps: config.eval_data ? evalSteps : null,
    train_batch_size: config.per_device_train_batch_size,
    num_input_tokens_seen: tokensSeen,
    data_position: order.getPosition(),
    skipped_nonfinite_steps: guard.total,
    log_history: [...priorHistory, ...logger.history],
  });
  try {
    while (globalStep < plan.totalSteps) {
      const micro = order.nextStep(config.gradient_accumulation_steps).map((b) => collateExamples(data, b.indices, dataSettings));
      const result = trainStep(ctx, micro, globalStep, forced.has(globalStep + 1));
      globalStep++;
      for (const b of micro) tokensSeen += b.lengths.reduce((a, n) => a + n, 0);
      const epoch = order.epochProgress();
      if (result.applied) lastLog = logger.logStep(globalStep, epoch, result.metrics) ?? lastLog;
      else {
        logger.logSkipped(globalStep, result.reason);
        // A logging step that was skipped still logs the window (the steps before it), so lines stay on schedule.
        if (globalStep % config.logging_steps === 0 || globalStep === plan.totalSteps) lastLog = logger.flush(globalStep, epoch) ?? lastLog;
      }
      if (evalData && (globalStep % evalSteps === 0 || globalStep === plan.totalSteps)) {
        const m = evaluate(model, fileOrderBatches(evalData, config.per_device_eval_batch_size, dataSettings), ctx.lossOptions, ctx.forwardOptions);
        lastEval = logger.logEval(globalStep, epoch, m);
      }
      if (config.save_steps > 0 && globalStep % config.save_steps === 0) {
        // Close the logging window here, so a run resumed from this checkpoint logs the same windows.
        lastLog = logger.flush(globalStep, epoch) ?? lastLog;
        const dir = await saveCheckpoint({
          outputDir: out,
          writeModel: (d) => writeModelFiles(d, hf),
          params: model.params.data,
          optimizerName: optimizer.name,
          optimizerState: optimizer.state(),
          schedule: schedule.state(globalStep),
          rng: dataOrderRngState(config.seed, order.getPosition().epoch),
          trainerState: trainerState(),
          trainingArgs: config,
        });
        checkpoints.push(dir);
        pruneCheckpoints(out, config.save_total_limit, resumeDir ? [resumeDir] : []);
      }
    }
    lastLog = logger.flush(globalStep, order.epochProgress()) ?? lastLog;
    saveFinalModel(out, hf);
  } finally {
    logger.close();
  }
  const result: TrainResult = {
    outputDir: out,
    globalStep,
    totalSteps: plan.totalSteps,
    skippedNonfiniteSteps: guard.total,
    numInputTokensSeen: tokensSeen,
    resumedFrom: resumeDir,
    checkpoints,
    lastLog,
    lastEval,
  };
  io.stdout(formatRunSummary(result));
  return result;
}
