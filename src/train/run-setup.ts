/**
 * Everything `train()` does before its first step: preparing the output
 * folder (crash leftovers, the checkpoint to resume, refusing to mix two
 * runs), loading tokenizer, model and data, reporting what truncation did,
 * and building plan, schedule, optimizer, data order and non-finite guard,
 * restored from the checkpoint when the run resumes.
 *
 * @example
 * const resumeDir = prepareOutputDir(config);
 * const setup = await setUpRun(config, resumeDir, (line) => process.stderr.write(line));
 * setup.plan.totalSteps; // the run's steps
 */
import { rmSync } from "node:fs";
import { UserError } from "../errors.js";
import { getBackend } from "../kernels/select.js";
import type { CausalLM } from "../models/causal-lm.js";
import { loadModelFolder, type HfModel } from "../models/hf/folder.js";
import { createCausalLM } from "../models/registry.js";
import { resolveLossOptions } from "../rrhf/options.js";
import { clampModelMaxLength } from "../tokenize/settings.js";
import { loadTokenizer } from "../tokenize/tokenizer.js";
import { listCheckpoints, removeStaleCheckpointTemps, resolveResumeCheckpoint } from "./checkpoint-dir.js";
import { effectiveEvalSteps, type TrainConfig } from "./config.js";
import { DataOrder } from "./data-order.js";
import { NonFiniteGuard } from "./nonfinite-guard.js";
import { createOptimizer, segmentsFromSpecs } from "./optim/index.js";
import { trainingPlan, type TrainingPlan } from "./plan.js";
import { dataWarnings, loadEncodedData, type EncodedData } from "./run-data.js";
import { restoreCheckpoint, type RestoredState } from "./run-resume.js";
import { loadSftData } from "./sft-data.js";
import { assertResumableArgs } from "./resume-args.js";
import { assertOutputDirUsable, removeStaleFinalTemps } from "./run-save.js";
import { LrSchedule } from "./schedule.js";
import type { StepContext } from "./step.js";

/** What the step loop works with. */
export interface RunSetup {
  config: TrainConfig;
  backendName: string;
  hf: HfModel;
  model: CausalLM;
  data: EncodedData;
  evalData: EncodedData | null;
  /** The config with model_max_length capped at the model's positions. */
  dataSettings: TrainConfig;
  plan: TrainingPlan;
  schedule: LrSchedule;
  order: DataOrder;
  guard: NonFiniteGuard;
  step: StepContext;
  evalSteps: number;
  /** The checkpoint this run continues, or null. */
  resumeDir: string | null;
  restored: RestoredState | null;
}

/**
 * Removes what a crash left in the output folder and returns the checkpoint
 * to resume (null for a fresh run). A fresh run in a folder that holds
 * checkpoints is refused unless `overwrite_output_dir` (then they go).
 */
export function prepareOutputDir(config: TrainConfig): string | null {
  const out = config.output_dir;
  assertOutputDirUsable(out, config.model);
  removeStaleCheckpointTemps(out);
  removeStaleFinalTemps(out);
  const resumeDir = config.resume_from_checkpoint ? resolveResumeCheckpoint(out, config.resume_from_checkpoint) : null;
  if (resumeDir !== null) {
    assertResumableArgs(resumeDir, config);
    return resumeDir;
  }
  if (listCheckpoints(out).length > 0) {
    if (!config.overwrite_output_dir) {
      throw new UserError(
        `${out} already holds checkpoints of a run: continue it with --resume-from-checkpoint latest, start over with --overwrite-output-dir, or choose another --out`,
      );
    }
    for (const c of listCheckpoints(out)) rmSync(c.dir, { recursive: true, force: true });
  }
  return null;
}

type Loaded = Pick<RunSetup, "backendName" | "hf" | "model" | "data" | "evalData" | "dataSettings">;

/** Loads tokenizer, model and data; warns (through `warn`) about the length cap and truncation. */
async function loadModelAndData(config: TrainConfig, warn: (line: string) => void): Promise<Loaded> {
  if (config.compat === "official" && config.eval_data && config.per_device_eval_batch_size !== 1) {
    throw new UserError(
      "compat official evaluates one query per batch, as it trains; pass --per-device-eval-batch-size 1 (per_device_eval_batch_size: 1 in a config file)",
    );
  }
  const backend = getBackend(config.backend, {
    ...(config.threads === null ? {} : { threads: config.threads }),
    ...(config.bf16 ? { bf16: true } : {}),
    ...(config.release_memory ? { releaseMemory: true } : {}),
  });
  if (config.release_memory && !backend.discard) {
    warn("--release-memory needs the native backend on Linux with transparent huge pages on; training keeps its memory");
  }
  const tok = await loadTokenizer(config.model);
  const hf = loadModelFolder(config.model, { alloc: (n) => backend.alloc(n) });
  const model = createCausalLM(hf, { backend, trainable: true });
  const positions = hf.normalized.maxPositions;
  const { maxLength, note } = clampModelMaxLength(config.model_max_length, positions);
  if (note !== null) warn(`rrhf: note: ${note}\n`);
  const dataSettings = { ...config, model_max_length: maxLength };
  const read = { format: config.data_format ?? undefined };
  // The objective decides the records: ranked responses (RRHF) or {query, response} / {text} (SFT).
  const load = config.objective === "sft" ? loadSftData : loadEncodedData;
  const data = await load(config.data, tok, dataSettings, read);
  const evalData = config.eval_data ? await load(config.eval_data, tok, dataSettings, read) : null;
  // Before any step: what truncation dropped is reported, never trained on silently.
  for (const w of [...dataWarnings(data, maxLength), ...(evalData ? dataWarnings(evalData, maxLength) : [])]) {
    warn(`rrhf: warning: ${w}\n`);
  }
  return { backendName: backend.name, hf, model, data, evalData, dataSettings };
}

/** Loads and builds everything the steps need; restores checkpoint `resumeDir` into it when given. */
export async function setUpRun(config: TrainConfig, resumeDir: string | null, warn: (line: string) => void): Promise<RunSetup> {
  const loaded = await loadModelAndData(config, warn);
  const { model, data } = loaded;
  const plan = trainingPlan({ numExamples: data.examples.length, ...config });
  const schedule = LrSchedule.fromTrainingArgs(config, plan.totalSteps);
  const optimizer = createOptimizer(config.optim, segmentsFromSpecs(model.params.specs()), config, model.backend);
  const restored = resumeDir ? restoreCheckpoint(resumeDir, { model, optimizer, schedule, config }) : null;
  for (const w of restored?.warnings ?? []) warn(`rrhf: warning: ${w}\n`);
  const order = new DataOrder({
    numExamples: data.examples.length,
    batchSize: config.per_device_train_batch_size,
    seed: config.seed,
    position: restored?.trainerState.data_position,
  });
  const guard = new NonFiniteGuard(config.max_consecutive_nonfinite_steps, restored?.trainerState.skipped_nonfinite_steps ?? 0);
  const step: StepContext = {
    model,
    optimizer,
    schedule,
    guard,
    lossOptions: resolveLossOptions(config),
    maxGradNorm: config.max_grad_norm,
    forwardOptions: { layout: config.layout, gradientCheckpointing: config.gradient_checkpointing },
    objective: config.objective,
  };
  return { ...loaded, config, plan, schedule, order, guard, step, evalSteps: effectiveEvalSteps(config), resumeDir, restored };
}
