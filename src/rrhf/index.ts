/** The RRHF loss, its gradient, ranking metrics and settings table: the public surface of this folder. */
export type { LogpArray, RrhfLossBatch } from "./layout.js";
export {
  OFFICIAL_CODE_RRHF_WEIGHT,
  RRHF_SETTINGS,
  type RrhfSettings,
} from "./settings.js";
export type { RrhfLossOptions } from "./options.js";
export { NonFiniteLogpError, type PolicyScores } from "./scores.js";
export { rrhfLoss, rrhfLossBackward, rrhfLossWithGrad, type RrhfLossResult } from "./loss.js";
export { rankingMetrics, type RankingMetrics } from "./metrics.js";
