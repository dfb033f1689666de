/** Orchestration of the commands: iterated RRHF (sample → score → train → eval, by rounds, resumable by stage). */
export {
  iterate,
  formatIterateSummary,
  type IterateOptions,
  type IterateRound,
  type IterateStage,
  type IterateSummary,
} from "./iterate.js";
export { ITERATE_SETTINGS, type IterateSettings } from "./settings.js";
