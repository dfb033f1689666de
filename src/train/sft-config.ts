/**
 * The settings of `rrhf sft` (`SFT_SETTINGS`: those of `rrhf train` less the
 * RRHF ones) and how an SFT config is resolved. Kept apart from `sft()` so
 * the CLI can read them without loading the model code.
 *
 * @example
 * const config = resolveSftConfig({ overrides: { model: "m", data: "sft.jsonl", output_dir: "out" } });
 * config.objective; // "sft"
 */
import { UserError } from "../errors.js";
import { RRHF_SETTINGS } from "../rrhf/settings.js";
import { loadTrainConfigFile, resolveTrainConfig } from "./config.js";
import { TRAIN_SETTINGS, type TrainConfig, type TrainConfigInput } from "./settings.js";

/** Settings of `train` that `sft` does not take: the RRHF loss and response selection, and the objective itself. */
const NOT_SFT: ReadonlySet<string> = new Set([...Object.keys(RRHF_SETTINGS), "objective"]);

type SftFieldName = Exclude<keyof typeof TRAIN_SETTINGS, keyof typeof RRHF_SETTINGS | "objective">;

/**
 * Every setting of `rrhf sft` (and {@link resolveSftConfig}): those of `rrhf train` without the RRHF ones.
 *
 * @example
 * Object.keys(SFT_SETTINGS).includes("rrhf_weight"); // false
 * SFT_SETTINGS.learning_rate.default;                // 2e-5, as train
 */
export const SFT_SETTINGS = Object.freeze(Object.fromEntries(Object.entries(TRAIN_SETTINGS).filter(([name]) => !NOT_SFT.has(name)))) as {
  readonly [K in SftFieldName]: (typeof TRAIN_SETTINGS)[K];
};

/**
 * A partial SFT config: what a file or the flags provide.
 *
 * @example
 * const input: SftConfigInput = { model: "tests/fixtures/models/gpt2-tiny", data: "tests/fixtures/train/tiny-sft.jsonl", output_dir: "runs/sft" };
 */
export type SftConfigInput = Partial<Record<SftFieldName, unknown>>;

/**
 * Resolves an SFT config as `resolveTrainConfig` does (defaults < resumed
 * checkpoint < config file < overrides), with `objective: "sft"`. A config
 * file that sets an RRHF-only key is refused, naming it.
 *
 * @example
 * const config = resolveSftConfig({ configFile: "sft.yaml", overrides: { max_steps: 100 } });
 * config.objective; // "sft"
 */
export function resolveSftConfig(opts: { configFile?: string | null; overrides?: SftConfigInput }): TrainConfig {
  const fromFile = opts.configFile ? loadTrainConfigFile(opts.configFile) : {};
  for (const [where, input] of [
    [opts.configFile ?? "", fromFile],
    ["settings", opts.overrides ?? {}],
  ] as const) {
    const key = Object.keys(input).find((k) => NOT_SFT.has(k));
    if (key !== undefined) throw new UserError(`${where}: ${key}: is a setting of rrhf train, not of rrhf sft`);
  }
  const overrides: TrainConfigInput = { ...opts.overrides, objective: "sft" };
  return resolveTrainConfig({ configFile: opts.configFile, overrides });
}
