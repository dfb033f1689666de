/**
 * The trainer's public surface: `train(config)` and how to build its config.
 * The building blocks it composes (optimisers, schedules, data order,
 * checkpoints, metrics logging) are internal; see each module.
 */
export {
  loadTrainConfigFile,
  resolveTrainConfig,
  TRAIN_SETTINGS,
  type TrainConfig,
  type TrainConfigInput,
} from "./config.js";
export type { LogEntry } from "./checkpoint.js";
export { train, type TrainInterruption, type TrainIo, type TrainResult } from "./loop.js";
export { sft } from "./sft.js";
export { resolveSftConfig, SFT_SETTINGS, type SftConfigInput } from "./sft-config.js";
export { TRAIN_OBJECTIVES, type TrainObjective } from "./settings.js";
