/** The RRHF loss, its metrics and settings; re-exported from the package's public API. */
export type { LogpArray, RrhfLossBatch } from "./layout.js";
export {
  DEFAULT_LENGTH_PENALTY,
  DEFAULT_RRHF_WEIGHT,
  OFFICIAL_CODE_RRHF_WEIGHT,
  OFFICIAL_SCRIPT_RRHF_WEIGHT,
  resolveLossOptions,
  type ResolvedLossOptions,
  type RrhfCompat,
  type RrhfLossOptions,
} from "./options.js";
export { computePolicyScores, NonFiniteLogpError, type PolicyScores } from "./scores.js";
export { rrhfLoss, rrhfLossBackward, rrhfLossWithGrad, type RrhfLossResult } from "./loss.js";
export {
  rankingMetrics,
  RrhfMetricsAccumulator,
  type LossParts,
  type RankingMetrics,
  type RrhfLogRecord,
} from "./metrics.js";
export {
  DEFAULT_RRHF_CONFIG,
  lossOptionsFromConfig,
  parseRrhfConfig,
  RRHF_CONFIG_HELP,
  rrhfConfigSchema,
  type ConfigFieldHelp,
  type RrhfConfig,
} from "./config.js";
