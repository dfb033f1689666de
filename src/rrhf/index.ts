/** The RRHF loss, its metrics and settings; re-exported from the package's public API. */
export { checkLayout, queryRanges, type LayoutShape, type LogpArray, type RrhfBatchLayout } from "./layout.js";
export { resolveLossOptions, type ResolvedLossOptions, type RrhfLossOptions } from "./options.js";
export {
  OFFICIAL_CODE_RRHF_WEIGHT,
  OFFICIAL_SCRIPT_RRHF_WEIGHT,
  RRHF_SETTINGS,
  rrhfSettingsProblems,
  type RrhfSettings,
} from "./settings.js";
export { computePolicyScores, NonFiniteLogpError, type PolicyScores } from "./scores.js";
export { rrhfLoss, rrhfLossBackward, rrhfLossWithGrad, type RrhfLossResult } from "./loss.js";
export {
  rankingMetrics,
  RrhfMetricsAccumulator,
  type LossParts,
  type RankingMetrics,
  type RrhfLogRecord,
} from "./metrics.js";
