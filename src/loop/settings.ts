/**
 * The settings of `rrhf iterate`: the number of rounds, and the tables of
 * the stages it runs (sampling, scoring, training, evaluation), composed
 * without their clashes: the sampler's `seed` is the run's `seed` (each
 * round and batch draws from its own offset), beam search keeps its default
 * length penalty (`length_penalty` is the RRHF loss's), and the scorer's
 * `chat_template` is left out (`chat_template` is the policy's tokenisation).
 *
 * @example
 * const s = resolveSettings(ITERATE_SETTINGS, { rounds: 2, max_steps: 4 }, "flags");
 * s.num_return_sequences; // 4: RRHF ranks several responses per prompt
 * const settings: IterateSettings = s;
 */
import { GENERATE_SETTINGS } from "../generate/settings.js";
import { SCORE_SETTINGS } from "../score/settings.js";
import { pickSettings, rules, setting, type SettingsOf } from "../settings/index.js";
import { EVAL_SETTINGS } from "../eval/settings.js";
import { TRAIN_SETTINGS } from "../train/config.js";

const { seed: _sampleSeed, length_penalty: _beamLengthPenalty, num_return_sequences, ...SAMPLING } = GENERATE_SETTINGS;
const {
  model: _model,
  data: _data,
  output_dir: _out,
  resume_from_checkpoint: _resume,
  overwrite_output_dir: _overwrite,
  ...TRAINING
} = TRAIN_SETTINGS;

export const ITERATE_SETTINGS = {
  rounds: setting({ rule: rules.int({ min: 1 }), metavar: "r", help: "Rounds of sample, score, train and eval." }),
  eval_prompts: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "file",
    help: "Held-out prompts for each round's eval (default: the training prompts).",
  }),
  ...SAMPLING,
  num_return_sequences: setting({ ...num_return_sequences, rule: rules.int({ min: 2 }), default: 4 }),
  prompts_per_batch: setting({
    rule: rules.int({ min: 1 }),
    default: 8,
    metavar: "n",
    help: "Prompts decoded together when sampling (each with its k continuations).",
  }),
  ...pickSettings(SCORE_SETTINGS, ["batch_size", "timeout", "retries", "retry_delay"]),
  ...TRAINING,
  ...pickSettings(EVAL_SETTINGS, ["eval_batch_size"]),
} as const;

/** The settings' values of `rrhf iterate`. */
export type IterateSettings = SettingsOf<typeof ITERATE_SETTINGS>;

/** Names of the training settings iterate passes to each round's `train`. */
export const ITERATE_TRAIN_KEYS = Object.keys(TRAINING) as (keyof typeof TRAINING)[];
