/** The RRHF loss, its gradient and ranking metrics: the public surface of this folder. */
export type { LogpArray, RrhfLossBatch } from "./layout.js";
export {
  DEFAULT_LENGTH_PENALTY,
  DEFAULT_RRHF_WEIGHT,
  OFFICIAL_CODE_RRHF_WEIGHT,
  type RrhfCompat,
  type RrhfLossOptions,
} from "./options.js";
export { NonFiniteLogpError, type PolicyScores } from "./scores.js";
export { rrhfLoss, rrhfLossBackward, rrhfLossWithGrad, type RrhfLossResult } from "./loss.js";
export { rankingMetrics, type RankingMetrics } from "./metrics.js";
