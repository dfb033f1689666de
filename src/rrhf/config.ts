/**
 * `RrhfConfig`: the loss settings of a training run, with defaults, zod
 * validation and per-field help text (the CLI turns each field into a flag).
 *
 * @example
 * const config = parseRrhfConfig({ lengthPenalty: 1, compat: "official" }, "train.yaml: rrhf");
 * const out = rrhfLoss(batch, lossOptionsFromConfig(config));
 */
import { z } from "zod";
import { UserError } from "../errors.js";
import {
  DEFAULT_LENGTH_PENALTY,
  DEFAULT_RRHF_WEIGHT,
  OFFICIAL_CODE_RRHF_WEIGHT,
  OFFICIAL_SCRIPT_RRHF_WEIGHT,
  type ResolvedLossOptions,
  type RrhfCompat,
} from "./options.js";

/** The RRHF settings of a training run. */
export interface RrhfConfig {
  lengthPenalty: number;
  rrhfWeight: number;
  compat: RrhfCompat;
  onlyUseProvide: boolean;
  onlyUseSample: boolean;
}

/** Defaults: the paper's loss (length penalty 1, ranking weight 1), every response used. */
export const DEFAULT_RRHF_CONFIG: Readonly<RrhfConfig> = Object.freeze({
  lengthPenalty: DEFAULT_LENGTH_PENALTY,
  rrhfWeight: DEFAULT_RRHF_WEIGHT,
  compat: "none",
  onlyUseProvide: false,
  onlyUseSample: false,
});

/** Help of one field: the CLI flag, the official train.py argument it mirrors, and a sentence. */
export interface ConfigFieldHelp {
  flag: string;
  official: string;
  help: string;
}

/** Per-field help, read by the CLI to build flags and by docs. */
export const RRHF_CONFIG_HELP: Readonly<Record<keyof RrhfConfig, ConfigFieldHelp>> = Object.freeze({
  lengthPenalty: {
    flag: "--length-penalty",
    official: "length_penalty",
    help:
      "Exponent on the response length when normalising policy scores (p = sum logp / |y|^x); " +
      "default 1.0; above 1 favours longer answers, below 1 shorter.",
  },
  rrhfWeight: {
    flag: "--rrhf-weight",
    official: "rrhf_weight",
    help:
      `Weight of the ranking loss in rrhf_weight * L_rank + L_sft; default 1.0 (the official train.sh passes ${OFFICIAL_SCRIPT_RRHF_WEIGHT}; ` +
      `the official code's own default is ${OFFICIAL_CODE_RRHF_WEIGHT}, pass it explicitly to reproduce runs that relied on it).`,
  },
  compat: {
    flag: "--compat",
    official: "-",
    help:
      '"none" (default) follows the paper; "official" reproduces GanjinZero/RRHF train.py: lengths are the padded ' +
      "batch length and the SFT loss averages the best response over the whole padded row.",
  },
  onlyUseProvide: {
    flag: "--only-use-provide",
    official: "only_use_provide",
    help: "Train only on the last two responses of each query (the dataset's own answers in the official data).",
  },
  onlyUseSample: {
    flag: "--only-use-sample",
    official: "only_use_sample",
    help: "Train on all but the last two responses of each query (the sampled ones); needs at least 3 per query.",
  },
});

/** zod schema of `RrhfConfig`; missing fields take their defaults, unknown fields are rejected. */
export const rrhfConfigSchema = z
  .strictObject({
    // zod 4's number() already rejects NaN and ±Infinity.
    lengthPenalty: z.number().default(DEFAULT_LENGTH_PENALTY),
    rrhfWeight: z.number().min(0).default(DEFAULT_RRHF_WEIGHT),
    compat: z.enum(["none", "official"]).default("none"),
    onlyUseProvide: z.boolean().default(false),
    onlyUseSample: z.boolean().default(false),
  })
  .refine((c) => !(c.onlyUseProvide && c.onlyUseSample), {
    message: "onlyUseProvide and onlyUseSample exclude each other (together they would keep no response)",
    path: ["onlyUseSample"],
  });

/**
 * Validates a config object (e.g. a section of a YAML file), filling
 * defaults. Throws UserError listing every problem as `source: field: problem`.
 */
export function parseRrhfConfig(input: unknown, source = "rrhf config"): RrhfConfig {
  const parsed = rrhfConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((iss) => {
    const field = iss.path.length > 0 ? iss.path.map(String).join(".") : "-";
    return `${source}: ${field}: ${iss.message}`;
  });
  throw new UserError(lines.join("\n"));
}

/** The loss options a config selects. */
export function lossOptionsFromConfig(config: RrhfConfig): ResolvedLossOptions {
  return { lengthPenalty: config.lengthPenalty, rrhfWeight: config.rrhfWeight, compat: config.compat };
}
