/**
 * `TrainConfig`: every setting of `rrhf train`, HF TrainingArguments names
 * (snake_case), validated by zod. Settings come from defaults, then an
 * optional JSON or YAML config file, then command-line flags (flags win);
 * a resumed run's checkpoint adds its saved settings below the file.
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
import { z } from "zod";
import { UserError } from "../errors.js";
import type { RrhfConfig } from "../rrhf/config.js";
import { checkpointArgsSource, reusableCheckpointArgs } from "./resume-args.js";
import { REQUIRED_FIELDS, TRAIN_DEFAULTS, TRAIN_FIELD_SCHEMAS, type TrainFieldName } from "./config-fields.js";

export { DEVIATIONS, TRAIN_DEFAULTS, TRAIN_FIELD_HELP, type FieldHelp, type FieldKind, type TrainFieldName } from "./config-fields.js";

const baseSchema = z.strictObject(TRAIN_FIELD_SCHEMAS);

/** The full schema, with the checks that involve several fields. */
export const trainConfigSchema = baseSchema.superRefine((c, ctx) => {
  const fail = (path: TrainFieldName, message: string): void => {
    ctx.addIssue({ code: "custom", path: [path], message });
  };
  if (c.only_use_provide && c.only_use_sample) {
    fail("only_use_sample", "only_use_provide and only_use_sample exclude each other (together they keep no response)");
  }
  if (c.compat === "official" && c.per_device_train_batch_size !== 1) {
    fail("per_device_train_batch_size", "compat official trains one query per device batch, as the official code; set it to 1");
  }
  if (c.eval_steps !== null && c.eval_data === null) fail("eval_steps", "is set but there is no eval_data to evaluate");
});

/** Every setting of a training run. */
export type TrainConfig = z.infer<typeof baseSchema>;

/** A partial config: what a file or the flags provide. Values are checked later. */
export type TrainConfigInput = Partial<Record<TrainFieldName, unknown>>;

const FIELD_NAMES = Object.keys(TRAIN_FIELD_SCHEMAS) as TrainFieldName[];

/** Closest known field name by edit distance, for "did you mean" hints. */
function closestField(key: string): string | null {
  const norm = key.replace(/-/g, "_").toLowerCase();
  if ((FIELD_NAMES as string[]).includes(norm)) return norm;
  let best: string | null = null;
  let bestD = 4;
  for (const f of FIELD_NAMES) {
    const d = editDistance(norm, f);
    if (d < bestD) [best, bestD] = [f, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

function formatIssues(source: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((iss) => {
      const field = iss.path.length > 0 ? iss.path.map(String).join(".") : "-";
      if (iss.code === "unrecognized_keys") {
        return iss.keys
          .map((k) => {
            const hint = closestField(k);
            return `${source}: ${k}: unknown setting${hint ? ` (did you mean ${hint}?)` : ""}`;
          })
          .join("\n");
      }
      return `${source}: ${field}: ${iss.message}`;
    })
    .join("\n");
}

/** Parses a config file's text by its extension (.json, .yaml, .yml) into a partial config. */
export function parseTrainConfigText(text: string, file: string): TrainConfigInput {
  const ext = extname(file).toLowerCase();
  let value: unknown;
  if (ext === ".json") {
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw new UserError(`${file}: invalid JSON: ${(err as Error).message}`);
    }
  } else if (ext === ".yaml" || ext === ".yml") {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e.linePos?.[0].line;
      throw new UserError(`${file}${line ? `:${line}` : ""}: invalid YAML: ${e.message.split("\n")[0]}`);
    }
    value = doc.toJS() as unknown;
  } else {
    throw new UserError(`${file}: config files must end in .json, .yaml or .yml`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new UserError(`${file}: the config must be a mapping of setting: value`);
  const parsed = baseSchema.partial().safeParse(value);
  if (!parsed.success) throw new UserError(formatIssues(file, parsed.error.issues));
  return parsed.data;
}

/**
 * Reads and checks a JSON or YAML config file (types and unknown keys; cross-field checks come at the merge).
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
  const merged: Record<string, unknown> = { ...TRAIN_DEFAULTS };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const missing = REQUIRED_FIELDS.filter((k) => merged[k] === undefined);
  if (missing.length > 0) {
    throw new UserError(missing.map((k) => `${source}: ${k}: required (give it as a flag or in the config file)`).join("\n"));
  }
  const parsed = trainConfigSchema.safeParse(merged);
  if (!parsed.success) throw new UserError(formatIssues(source, parsed.error.issues));
  return parsed.data;
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

/** The loss settings of a run, in the RRHF module's own shape. */
export function rrhfConfigFromTrainConfig(c: TrainConfig): RrhfConfig {
  return {
    lengthPenalty: c.length_penalty,
    rrhfWeight: c.rrhf_weight,
    compat: c.compat,
    onlyUseProvide: c.only_use_provide,
    onlyUseSample: c.only_use_sample,
  };
}

/** Evaluation interval: eval_steps, else logging_steps (HF's fallback). */
export function effectiveEvalSteps(c: TrainConfig): number {
  return c.eval_steps ?? c.logging_steps;
}
