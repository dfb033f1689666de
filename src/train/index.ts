/**
 * Trainer building blocks that do not need the model: configuration,
 * optimisers, learning-rate schedules, seeded data order, checkpoints,
 * metrics logging and the non-finite-step guard. The training loop
 * composes them; see each module's example.
 */
export {
  DEVIATIONS,
  effectiveEvalSteps,
  loadTrainConfigFile,
  LOGGING_SETTINGS,
  OPTIMIZATION_SETTINGS,
  parseTrainConfigText,
  resolveTrainConfig,
  RUN_PATH_SETTINGS,
  TRAIN_SETTINGS,
  validateTrainConfig,
  type LoggingSettings,
  type OptimizationSettings,
  type RunPathSettings,
  type TrainConfig,
  type TrainConfigInput,
  type TrainFieldName,
} from "./config.js";
export {
  checkpointName,
  checkpointProblem,
  isCompleteCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointSave,
  type LoadedCheckpoint,
  type LogEntry,
  type TrainerState,
} from "./checkpoint.js";
export {
  findLatestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  removeStaleCheckpointTemps,
  resolveResumeCheckpoint,
  type CheckpointEntry,
} from "./checkpoint-dir.js";
export { DataOrder, type Batch, type DataOrderOptions, type DataPosition } from "./data-order.js";
export { formatMetric, METRICS_FILE, MetricsLogger, type MetricsLoggerOptions, type ProgressMode, type StepMetrics } from "./metrics-log.js";
export { NonFiniteGuard } from "./nonfinite-guard.js";
export * from "./optim/index.js";
export { trainingPlan, type TrainingPlan, type TrainingPlanInput } from "./plan.js";
export { Rng, type RngState } from "./rng.js";
export {
  LR_SCHEDULER_TYPES,
  LrSchedule,
  resolveWarmupSteps,
  type LrScheduleOptions,
  type LrScheduleState,
  type LrSchedulerType,
} from "./schedule.js";
export { evaluate, type EvalMetrics } from "./eval.js";
export { NONFINITE_TEST_ENV, train, type TrainIo, type TrainResult } from "./loop.js";
export { trainStep, type StepBatch, type StepContext, type StepOutcome } from "./step.js";
