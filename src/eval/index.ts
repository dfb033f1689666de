/** Evaluation: ranking accuracy, perplexity and KL on scored data; reward of greedy generations on prompts. */
export { evaluate, formatEvalTable, EVAL_RESULT_KEYS, type EvalResult, type EvaluateOptions } from "./evaluate.js";
export { EVAL_SETTINGS, type EvalSettings } from "./settings.js";
export { readPromptRecords, promptTokenIds, type PromptRecord } from "./prompts.js";
