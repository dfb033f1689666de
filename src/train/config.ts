/**
 * `TrainConfig`: every setting of `rrhf train`, Hugging Face names
 * (snake_case), flat as HF TrainingArguments. Its table is the union of the
 * section tables (paths, optimisation, logging/checkpointing, tokenisation,
 * RRHF, model), so each setting's rule, default and help live in its own
 * layer once. Settings come from defaults, then an optional JSON or YAML
 * config file, then command-line flags (flags win); a resumed run's
 * checkpoint adds its saved settings below the file.
 *
 * @example
 * const config = resolveTrainConfig({
 *   configFile: "train.yaml",                       // optional
 *   overrides: { learning_rate: 1e-5, output_dir: "out" },
 * });
 * config.lr_scheduler_type; // "linear" unless the file or a flag says otherwise
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parseDocument } from "yaml";
import { UserError } from "../errors.js";
import { rrhfSettingsProblems } from "../rrhf/settings.js";
import { checkSettingsInput, resolveSettings, type SettingsInput } from "../settings/index.js";
import { checkpointArgsSource, reusableCheckpointArgs } from "./resume-args.js";
import { TRAIN_SETTINGS, type TrainConfig, type TrainConfigInput, type TrainFieldName } from "./settings.js";

export { TRAIN_SETTINGS, type TrainConfig, type TrainConfigInput, type TrainFieldName } from "./settings.js";

/** Problems that involve several settings, as `[field, problem]`. */
function crossFieldProblems(c: TrainConfig): [string, string][] {
  const problems = rrhfSettingsProblems(c);
  if (c.compat === "official" && c.per_device_train_batch_size !== 1) {
    problems.push(["per_device_train_batch_size", "compat official trains one query per device batch, as the official code; set it to 1"]);
  }
  if (c.objective === "sft") {
    if (c.compat !== "paper") problems.push(["compat", "sft tokenises as the paper does; compat official is for the RRHF loss"]);
    for (const f of ["only_use_provide", "only_use_sample"] as const) {
      if (c[f]) problems.push([f, "selects RRHF responses; sft records have one response"]);
    }
  }
  if (c.eval_steps !== null && c.eval_data === null) problems.push(["eval_steps", "is set but there is no eval_data to evaluate"]);
  return problems;
}

/** Reads a config file's text by its extension (.json, .yaml, .yml). */
function parseConfigText(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (ext === ".json") {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new UserError(`${file}: invalid JSON: ${(err as Error).message}`);
    }
  }
  if (ext === ".yaml" || ext === ".yml") {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e.linePos?.[0].line;
      throw new UserError(`${file}${line ? `:${line}` : ""}: invalid YAML: ${e.message.split("\n")[0]}`);
    }
    try {
      // maxAliasCount bounds alias expansion (a "billion laughs" file); an alias
      // to no anchor throws here, not in parseDocument.
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (err) {
      throw new UserError(`${file}: invalid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  throw new UserError(`${file}: config files must end in .json, .yaml or .yml`);
}

/**
 * Parses a config file's text into a partial config, each value checked
 * against its setting's rule (`file: field: must be > 0`); unknown keys are
 * named with a suggestion. Cross-field checks come at the merge.
 */
export function parseTrainConfigText(text: string, file: string): TrainConfigInput {
  const value = parseConfigText(text, file);
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new UserError(`${file}: the config must be a mapping of setting: value`);
  return checkSettingsInput(TRAIN_SETTINGS, value as SettingsInput, file);
}

/**
 * Reads and checks a JSON or YAML config file (rules and unknown keys; cross-field checks come at the merge).
 *
 * @example
 * const fromFile = loadTrainConfigFile("train.yaml"); // { learning_rate: 1e-5, ... }, snake_case keys
 * const config = resolveTrainConfig({ overrides: { ...fromFile, max_steps: 10 } });
 */
export function loadTrainConfigFile(file: string): TrainConfigInput {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UserError(`${file}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseTrainConfigText(text, file);
}

/** Validates a complete config (defaults first, then `input`); all problems in one UserError. */
export function validateTrainConfig(input: TrainConfigInput, source = "train config"): TrainConfig {
  const config: TrainConfig = resolveSettings(TRAIN_SETTINGS, input, source, "give it as a flag or in the config file");
  const problems = crossFieldProblems(config);
  if (problems.length > 0) throw new UserError(problems.map(([field, problem]) => `${source}: ${field}: ${problem}`).join("\n"));
  return config;
}

/**
 * Defaults < the resumed checkpoint's training_args.json (when
 * resume_from_checkpoint is set; see resume-args.ts) < config file <
 * overrides (the CLI flags that were given).
 */
export function resolveTrainConfig(opts: { configFile?: string | null; overrides?: TrainConfigInput }): TrainConfig {
  const fromFile = opts.configFile ? loadTrainConfigFile(opts.configFile) : {};
  const merged: TrainConfigInput = { ...fromFile };
  for (const [k, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) merged[k as TrainFieldName] = v;
  const saved = checkpointArgsSource(merged);
  const fromCheckpoint = saved ? reusableCheckpointArgs(parseTrainConfigText(saved.text, saved.file), merged) : {};
  return validateTrainConfig({ ...fromCheckpoint, ...merged }, opts.configFile ? `settings (${opts.configFile} + flags)` : "settings");
}

/** Evaluation interval: eval_steps, else logging_steps (HF's fallback). */
export function effectiveEvalSteps(c: TrainConfig): number {
  return c.eval_steps ?? c.logging_steps;
}
