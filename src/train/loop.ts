/**
 * `train(config)`: the whole of `rrhf train`, as a coordinator of the
 * building blocks in this folder. It loads the tokenizer, model and data,
 * reports what truncation did before any step runs, plans the steps, builds
 * optimizer / schedule / data order / non-finite guard / metrics logger,
 * resumes from a checkpoint when asked, then repeats `trainStep` (step.ts),
 * logging every `logging_steps`, evaluating every `eval_steps` on
 * `eval_data`, and writing `checkpoint-N/` every `save_steps` and at the last
 * step (as HF does, so a finished run can be extended); the final model goes
 * into `output_dir`. An aborted `signal` (the CLI wires Ctrl-C to it) stops
 * the run after the step in progress, with a checkpoint to resume from.
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
 * - Test hooks (forced NaN steps, a pause inside a checkpoint save) are
 *   options (`TrainIo.hooks`), never environment variables.
 *
 * @example
 * const config = resolveTrainConfig({ overrides: { model: "m", data: "d.jsonl", output_dir: "out", max_steps: 20 } });
 * const result = await train(config, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
 * result.globalStep; // 20
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { Writable } from "node:stream";
import { saveCheckpoint, type LogEntry, type TrainerState } from "./checkpoint.js";
import { pruneCheckpoints } from "./checkpoint-dir.js";
import type { TrainConfig } from "./config.js";
import { evaluate } from "./eval.js";
import { MetricsLogger, type ProgressMode } from "./metrics-log.js";
import { collateExamples, fileOrderBatches } from "./run-data.js";
import { formatInterruptSummary, formatRunHeader, formatRunSummary } from "./run-report.js";
import { dataOrderRngState } from "./run-resume.js";
import { saveFinalModel, writeModelFiles } from "./run-save.js";
import { prepareOutputDir, setUpRun, type RunSetup } from "./run-setup.js";
import { rowTokens } from "../tokenize/batch.js";
import { SFT_OMITTED_METRICS, trainStep } from "./step.js";

/** Ways for tests to provoke rare events in a real run; ordinary callers leave them out. */
export interface TrainHooks {
  /** True for a 1-based global step whose loss is to be replaced by NaN (exercises the skip / stop policy). */
  forceNonFinite?: (step: number) => boolean;
  /** Called half-way through each checkpoint save with its temp folder (a test can kill the process there). */
  onCheckpointPartlyWritten?: (tempDir: string) => void | Promise<void>;
}

/** Where a run writes, and how it can be stopped. */
export interface TrainIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Stream of the progress display; a TTY gets a bar. Default: plain lines through `stdout`. */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Default "auto" (bar on a TTY, plain lines otherwise). */
  progress?: ProgressMode;
  /**
   * Aborting it stops the run gracefully: the step in progress finishes, a
   * checkpoint is written, and `train` resolves with `interrupted` set (no
   * final model). The CLI aborts it on the first Ctrl-C.
   */
  signal?: AbortSignal;
  /**
   * Called after each checkpoint is complete, with its folder (metrics.jsonl is up to date then);
   * `rrhf train` refreshes report.html here.
   */
  onCheckpointSaved?: (checkpointDir: string) => void;
  /** Test hooks (not part of the package's exports); ordinary callers leave this out. */
  hooks?: TrainHooks;
}

/**
 * Where an interrupted run stopped.
 *
 * @example
 * const result = await train(config, { stdout: () => {}, stderr: () => {}, signal: AbortSignal.timeout(10_000) });
 * if (result.interrupted) console.log(`stopped at step ${result.interrupted.step}; resume from ${result.interrupted.checkpoint}`);
 */
export interface TrainInterruption {
  step: number;
  /** The checkpoint to resume from (null when the run stopped before its first step and there is none). */
  checkpoint: string | null;
}

/**
 * What {@link train} did: steps, checkpoints, the last logged metrics, and whether it was interrupted.
 *
 * @example
 * const result: TrainResult = await train(config);
 * console.log(result.globalStep, result.totalSteps, result.outputDir, result.checkpoints);
 */
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
  /** Set when `signal` stopped the run before its last step. */
  interrupted: TrainInterruption | null;
}

const silentIo: TrainIo = { stdout: () => {}, stderr: () => {} };

function linesTo(write: (text: string) => void): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      write(String(chunk));
      done();
    },
  });
}

/** The steps of one run segment (fresh or resumed), with the state that checkpoints record. */
class StepLoop {
  globalStep: number;
  tokensSeen: number;
  readonly checkpoints: string[] = [];
  lastLog: LogEntry | null = null;
  lastEval: LogEntry | null = null;
  /** The checkpoint written at the current step, if any (an interruption right after a save reuses it). */
  private savedNow: string | null = null;

  constructor(
    private readonly run: RunSetup,
    private readonly logger: MetricsLogger,
    private readonly hooks: TrainHooks,
    private readonly onCheckpointSaved: ((checkpointDir: string) => void) | undefined,
  ) {
    this.globalStep = run.restored?.trainerState.global_step ?? 0;
    this.tokensSeen = run.restored?.trainerState.num_input_tokens_seen ?? 0;
  }

  /** Runs the steps to the end, or until `signal` aborts; returns where it was interrupted, or null. */
  async runAll(signal: AbortSignal | undefined): Promise<TrainInterruption | null> {
    const start = this.globalStep;
    while (this.globalStep < this.run.plan.totalSteps) {
      // One event-loop turn per step, so an abort (e.g. the CLI's Ctrl-C handler) is seen between steps.
      await nextTurn();
      if (signal?.aborted) {
        // One more turn lets whoever aborted finish reacting (the CLI restores Ctrl-C's default action) before the save.
        await nextTurn();
        const checkpoint = this.globalStep === start ? this.run.resumeDir : (this.savedNow ?? (await this.checkpointNow()));
        return { step: this.globalStep, checkpoint };
      }
      await this.step();
    }
    this.logEntry(this.logger.flush(this.globalStep, this.run.order.epochProgress()));
    return null;
  }

  private logEntry(entry: LogEntry | null): void {
    if (entry !== null) this.lastLog = entry;
  }

  private async step(): Promise<void> {
    const { config, data, dataSettings, order, plan } = this.run;
    const micro = order.nextStep(config.gradient_accumulation_steps).map((b) => collateExamples(data, b.indices, dataSettings));
    const result = trainStep(this.run.step, micro, this.globalStep, this.hooks.forceNonFinite?.(this.globalStep + 1) ?? false);
    const step = ++this.globalStep;
    this.savedNow = null;
    for (const b of micro) this.tokensSeen += rowTokens(b);
    const epoch = order.epochProgress();
    const last = step === plan.totalSteps;
    if (result.applied) this.logEntry(this.logger.logStep(step, epoch, result.metrics));
    else {
      this.logger.logSkipped(step, result.reason);
      // A logging step that was skipped still logs the window (the steps before it), so lines stay on schedule.
      if (step % config.logging_steps === 0 || last) this.logEntry(this.logger.flush(step, epoch));
    }
    const { evalData } = this.run;
    if (evalData && (step % this.run.evalSteps === 0 || last)) {
      const batches = fileOrderBatches(evalData, config.per_device_eval_batch_size, dataSettings);
      this.lastEval = this.logger.logEval(
        step,
        epoch,
        evaluate(this.run.model, batches, this.run.step.lossOptions, this.run.step.forwardOptions, config.objective),
      );
    }
    if (config.save_steps > 0 && (step % config.save_steps === 0 || last)) await this.checkpointNow();
  }

  /** Writes checkpoint-<globalStep> and prunes old ones; returns its folder. */
  private async checkpointNow(): Promise<string> {
    const { config, hf, model, step, order } = this.run;
    const dir = await saveCheckpoint({
      outputDir: config.output_dir,
      writeModel: (d) => writeModelFiles(d, hf),
      params: model.params.data,
      optimizerName: step.optimizer.name,
      optimizerState: step.optimizer.state(),
      schedule: step.schedule.state(this.globalStep),
      rng: dataOrderRngState(config.seed, order.getPosition().epoch),
      trainerState: this.trainerState(),
      trainingArgs: config,
      onPartlyWritten: this.hooks.onCheckpointPartlyWritten,
    });
    this.savedNow = dir;
    this.checkpoints.push(dir);
    pruneCheckpoints(config.output_dir, config.save_total_limit, this.run.resumeDir ? [this.run.resumeDir] : []);
    this.onCheckpointSaved?.(dir);
    return dir;
  }

  private trainerState(): TrainerState {
    const { config, plan, order, guard, evalSteps, restored } = this.run;
    return {
      global_step: this.globalStep,
      epoch: order.epochProgress(),
      max_steps: plan.totalSteps,
      num_train_epochs: config.num_train_epochs,
      logging_steps: config.logging_steps,
      save_steps: config.save_steps,
      eval_steps: config.eval_data ? evalSteps : null,
      train_batch_size: config.per_device_train_batch_size,
      num_input_tokens_seen: this.tokensSeen,
      data_position: order.getPosition(),
      skipped_nonfinite_steps: guard.total,
      log_history: [...(restored?.logHistory ?? []), ...this.logger.history],
      unlogged_steps: this.logger.unloggedSteps(),
    };
  }
}

function createLogger(run: RunSetup, io: TrainIo): MetricsLogger {
  return new MetricsLogger({
    outputDir: run.config.output_dir,
    totalSteps: run.plan.totalSteps,
    loggingSteps: run.config.logging_steps,
    startStep: run.restored?.trainerState.global_step ?? 0,
    skippedSoFar: run.guard.total,
    unlogged: run.restored?.unloggedSteps,
    stream: io.progressStream ?? linesTo(io.stdout),
    progress: io.progressStream ? (io.progress ?? "auto") : io.progress === "none" ? "none" : "plain",
    omit: run.config.objective === "sft" ? SFT_OMITTED_METRICS : [],
  });
}

/** Runs one training (or its continuation) as `config` says. */
export async function train(config: TrainConfig, io: TrainIo = silentIo): Promise<TrainResult> {
  const resumeDir = prepareOutputDir(config);
  const run = await setUpRun(config, resumeDir, io.stderr);
  const startStep = run.restored?.trainerState.global_step ?? 0;
  // The header shows the settings actually used (model_max_length capped at the model's positions).
  io.stdout(formatRunHeader({ ...run, config: run.dataSettings, backend: run.backendName, resumedFrom: resumeDir, startStep }));
  const logger = createLogger(run, io);
  const loop = new StepLoop(run, logger, io.hooks ?? {}, io.onCheckpointSaved);
  let interrupted: TrainInterruption | null;
  try {
    interrupted = await loop.runAll(io.signal);
    if (interrupted === null) saveFinalModel(config.output_dir, run.hf, undefined, config.save_dtype);
  } finally {
    logger.close();
  }
  const result: TrainResult = {
    outputDir: config.output_dir,
    globalStep: loop.globalStep,
    totalSteps: run.plan.totalSteps,
    skippedNonfiniteSteps: run.guard.total,
    numInputTokensSeen: loop.tokensSeen,
    resumedFrom: resumeDir,
    checkpoints: loop.checkpoints,
    lastLog: loop.lastLog,
    lastEval: loop.lastEval,
    interrupted,
  };
  io.stdout(interrupted ? formatInterruptSummary(result, interrupted) : formatRunSummary(result));
  return result;
}
