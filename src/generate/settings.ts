/**
 * The generation settings (Hugging Face `GenerationConfig` names and
 * semantics): the strategy, its lengths, the logits processors and warpers,
 * beam search and the seed. `rrhf sample` takes its flags from this table,
 * `generate` its defaults.
 *
 * @example
 * const s: GenerateSettings = resolveSettings(GENERATE_SETTINGS, { strategy: "diverse-beam", num_beams: 4, num_beam_groups: 4 }, "flags");
 * GENERATE_STRATEGIES;            // ["greedy", "sample", "beam", "diverse-beam"]: the GenerateStrategy values
 * generateSettingsProblems(s);    // [] (a list of [field, problem] otherwise)
 * checkGenerateSettings(s);       // throws one UserError naming every problem
 * generateSettings({ strategy: "beam", num_beams: 4 }); // the defaults, these over them, all checked
 */
import { UserError } from "../errors.js";
import { resolveSettings, rules, setting, type SettingsInput, type SettingsOf } from "../settings/index.js";

/** The decoding strategies (`--strategy`). */
export const GENERATE_STRATEGIES = ["greedy", "sample", "beam", "diverse-beam"] as const;

/** One of {@link GENERATE_STRATEGIES}. */
export type GenerateStrategy = (typeof GENERATE_STRATEGIES)[number];

export const GENERATE_SETTINGS = {
  strategy: setting({
    rule: rules.choice(GENERATE_STRATEGIES),
    default: "sample",
    metavar: "name",
    help:
      "greedy: the argmax chain; sample: multinomial sampling through temperature, top_k, top_p, min_p; " +
      "beam: beam search (num_beams); diverse-beam: group beam search (num_beam_groups, diversity_penalty).",
  }),
  num_return_sequences: setting({
    rule: rules.int({ min: 1 }),
    default: 1,
    flag: "-k, --num-return-sequences",
    metavar: "k",
    help: "Responses per prompt (k): independent samples, or the best finished beams (at most num_beams).",
  }),
  max_new_tokens: setting({
    rule: rules.int({ min: 1 }),
    default: 128,
    metavar: "n",
    help: "Most tokens generated per response (the paper: 128).",
  }),
  min_new_tokens: setting({
    rule: rules.int({ min: 0 }),
    default: 0,
    metavar: "n",
    help: "EOS is forbidden until a response has this many tokens.",
  }),
  temperature: setting({
    rule: rules.number({ gt: 0 }),
    default: 1.0,
    metavar: "t",
    help: "Sampling: logits are divided by t (below 1 sharper, above 1 flatter).",
  }),
  top_k: setting({
    rule: rules.int({ min: 0 }),
    default: 50,
    metavar: "k",
    help: "Sampling: keep the k most likely tokens (ties with the k-th kept); 0 = off.",
  }),
  top_p: setting({
    rule: rules.number({ gt: 0, max: 1 }),
    default: 1.0,
    metavar: "p",
    help: "Sampling: keep the smallest set of most likely tokens whose probability reaches p (nucleus; always at least one); 1 = off.",
  }),
  min_p: setting({
    rule: rules.nullable(rules.number({ min: 0, max: 1 })),
    default: null,
    metavar: "p",
    help: "Sampling: drop tokens less likely than p times the most likely one; unset = off.",
  }),
  repetition_penalty: setting({
    rule: rules.number({ gt: 0 }),
    default: 1.0,
    metavar: "r",
    help: "Tokens already in the prompt or response: positive scores divided by r, negative ones multiplied (CTRL); 1 = off.",
  }),
  num_beams: setting({
    rule: rules.int({ min: 1 }),
    default: 4,
    metavar: "n",
    help: "Beam search: beams per prompt (all groups together).",
  }),
  num_beam_groups: setting({
    rule: rules.int({ min: 1 }),
    default: 1,
    metavar: "g",
    help: "Diverse beam search: groups of num_beams / g beams (the paper: 4 beams in 4 groups).",
  }),
  diversity_penalty: setting({
    rule: rules.number({ min: 0 }),
    default: 0.0,
    metavar: "d",
    help: "Diverse beam search: subtracted from a token's score once per beam of an earlier group that chose it at this step (the paper: 1.0).",
  }),
  length_penalty: setting({
    rule: rules.number(),
    default: 1.0,
    metavar: "x",
    help: "Beam search: a hypothesis scores its summed log-probability / length^x (above 0 favours longer ones).",
  }),
  early_stopping: setting({
    rule: rules.boolean(),
    default: false,
    help: "Beam search: stop a prompt as soon as num_beams hypotheses are finished (else when no beam can beat them).",
  }),
  stop: setting({
    rule: rules.nullable(rules.string()),
    default: null,
    metavar: "text",
    help: 'A stop string (e.g. "\\n\\nHuman:"): a response ends once its text contains it; the text is cut before it.',
  }),
  seed: setting({
    rule: rules.int({ min: 0 }),
    default: 0,
    metavar: "n",
    help: "Seed of the sampler; the same seed gives the same output.",
  }),
} as const;

/** The generation settings' values. */
export type GenerateSettings = SettingsOf<typeof GENERATE_SETTINGS>;

/**
 * The generation settings: the table's defaults with `input` over them
 * (HF names), each value checked against its rule and the whole against
 * {@link generateSettingsProblems}; throws one UserError naming every problem.
 */
export function generateSettings(input: SettingsInput = {}): GenerateSettings {
  const settings = resolveSettings(GENERATE_SETTINGS, input, "generation settings");
  checkGenerateSettings(settings);
  return settings;
}

/** Problems between generation settings, as `[field, problem]`. */
export function generateSettingsProblems(s: GenerateSettings): [string, string][] {
  const problems: [string, string][] = [];
  const beams = s.strategy === "beam" || s.strategy === "diverse-beam";
  if (s.strategy === "greedy" && s.num_return_sequences > 1) {
    problems.push(["num_return_sequences", "greedy decoding gives one response per prompt (use sample, beam or diverse-beam for k > 1)"]);
  }
  if (s.min_new_tokens > s.max_new_tokens)
    problems.push(["min_new_tokens", `${s.min_new_tokens} exceeds max_new_tokens ${s.max_new_tokens}`]);
  if (beams && s.num_return_sequences > s.num_beams)
    problems.push(["num_return_sequences", `${s.num_return_sequences} exceeds num_beams ${s.num_beams}`]);
  if (s.strategy === "beam" && s.num_beam_groups !== 1)
    problems.push(["num_beam_groups", "beam search has one group; use --strategy diverse-beam"]);
  if (s.strategy === "diverse-beam") {
    if (s.num_beam_groups < 2) problems.push(["num_beam_groups", "diverse-beam needs at least 2 groups"]);
    else if (s.num_beams % s.num_beam_groups !== 0)
      problems.push(["num_beams", `${s.num_beams} is not a multiple of num_beam_groups ${s.num_beam_groups}`]);
  }
  return problems;
}

/** Throws one UserError listing every problem of {@link generateSettingsProblems}. */
export function checkGenerateSettings(s: GenerateSettings): void {
  const problems = generateSettingsProblems(s);
  if (problems.length > 0) throw new UserError(`generation settings: ${problems.map(([f, p]) => `${f}: ${p}`).join("; ")}`);
}
