/** Generation: strategies (greedy, sampling, beam, diverse beam) over a model's KV-cache decode step. */
export {
  GENERATE_SETTINGS,
  GENERATE_STRATEGIES,
  checkGenerateSettings,
  generateSettings,
  generateSettingsProblems,
  type GenerateSettings,
  type GenerateStrategy,
} from "./settings.js";
export { generate, generateWith, eosTokenIdsOf } from "./generate.js";
export { cutAtStop, type FinishReason, type GenerateRequest, type Generation, type OpenSession, type StopStrings } from "./types.js";
