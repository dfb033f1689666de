/** Scorers: one interface (`(query, responses) → scores`, batched) over reward models, HTTP, commands and rules. */
export { createScorer, type ScorerOptions } from "./spec.js";
export { promptText, scoresProblem, type ScoreItem, type Scorer } from "./scorer.js";
export { createRuleScorer } from "./rule.js";
export { createHttpScorer, requestBody, type HttpScorerOptions } from "./http.js";
export { createCommandScorer } from "./command.js";
export { createModelScorer, rewardInputIds, type ModelScorerOptions } from "./model.js";
export { SCORE_SETTINGS, type ScoreSettings } from "./settings.js";
