/**
 * `demo`: the whole RRHF loop on the model shipped in the package
 * (assets/demo/, made by scripts/make-demo-model.mjs with `rrhf sft`).
 *
 * The task is one-digit addition ("What is 3 + 4?\nAnswer:" → " 7"). The
 * shipped model was fine-tuned on sloppy data and usually answers one too
 * many; the reward is 1 for the exact answer (`rule:exact`), 0 otherwise.
 * `iterate` runs rounds of sample (k answers per prompt) → score → RRHF
 * training → greedy evaluation; then the start and final models are compared:
 * mean reward of greedy answers, ranking accuracy on the last round's scored
 * samples, KL to the start model, and three prompts with their answers.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluate } from "../eval/evaluate.js";
import { promptTokenIds, readPromptRecords } from "../eval/prompts.js";
import { eosTokenIdsOf, generate } from "../generate/generate.js";
import { GENERATE_SETTINGS } from "../generate/settings.js";
import { getBackend } from "../kernels/select.js";
import { loadCausalLM } from "../models/registry.js";
import { resolveSettings, type SettingsInput } from "../settings/index.js";
import { loadTokenizer } from "../tokenize/tokenizer.js";
import { iterate, type IterateRound } from "./iterate.js";
import { roundPaths } from "./stages.js";

/** The shipped model and prompts (the package's assets/demo/ folder). */
export const DEMO_ASSETS: string = fileURLToPath(new URL("../../../assets/demo/", import.meta.url));

/** The scorer of the demo: 1 when the answer, trimmed, equals the prompt's `answer`. */
export const DEMO_SCORER = "rule:exact";

/** The iterate settings of the demo (any of them can be overridden). */
export const DEMO_SETTINGS: SettingsInput = {
  rounds: 3,
  num_return_sequences: 4,
  strategy: "sample",
  temperature: 1,
  top_k: 0,
  max_new_tokens: 4,
  prompts_per_batch: 25,
  learning_rate: 3e-4,
  num_train_epochs: 2,
  per_device_train_batch_size: 4,
  lr_scheduler_type: "constant",
  logging_steps: 5,
  save_steps: 0,
  seed: 1,
};

/** Prompts shown before and after (indices into the 100 sums: 2 + 5, 7 + 8, 9 + 4). */
const SHOWN = [25, 78, 94];

/**
 * What {@link demo} measured.
 *
 * @example
 * const r: DemoResult = await demo({ out: "rrhf-demo" });
 * console.log(r.before.reward_mean, "->", r.after.reward_mean);
 */
export interface DemoResult {
  out: string;
  rounds: IterateRound[];
  before: { reward_mean: number | null; ranking_accuracy: number | null; kl: number };
  after: { reward_mean: number | null; ranking_accuracy: number | null; kl: number | null };
  examples: { query: string; answer: string; before: string; after: string }[];
}

/** Greedy answers of `modelDir` to the shown prompts. */
async function greedyAnswers(
  modelDir: string,
  prompts: string,
  backend: string,
): Promise<{ query: string; answer: string; text: string }[]> {
  const model = loadCausalLM(modelDir, { backend: getBackend(backend as "auto") });
  const tok = await loadTokenizer(modelDir);
  const records = (await readPromptRecords(prompts)).filter((_, i) => SHOWN.includes(i));
  const settings = resolveSettings(GENERATE_SETTINGS, { strategy: "greedy", max_new_tokens: 4 }, "demo");
  const out = generate(
    model,
    records.map((p) => promptTokenIds(tok, p, false, prompts)),
    { settings, eosTokenIds: eosTokenIdsOf(modelDir, model.config.eosTokenIds), stop: null },
  );
  return records.map((p, i) => ({
    query: "query" in p.prompt ? p.prompt.query : "",
    answer: p.answer ?? "",
    text: tok.decode(out[i][0].tokens),
  }));
}

/**
 * Runs (or resumes) the demo into `out` and compares the start and final models.
 *
 * @example
 * const result = await demo({ out: "rrhf-demo", log: (l) => process.stderr.write(l) });
 * process.stdout.write(formatDemoResult(result));
 */
export async function demo(options: {
  out: string;
  settings?: SettingsInput;
  log?: (line: string) => void;
  /** A terminal stream for the training progress bar. */
  progressStream?: NodeJS.WritableStream;
}): Promise<DemoResult> {
  const model = join(DEMO_ASSETS, "model");
  const prompts = join(DEMO_ASSETS, "prompts.jsonl");
  const settings = { ...DEMO_SETTINGS, ...(options.settings ?? {}) };
  const summary = await iterate({
    model,
    prompts,
    scorer: DEMO_SCORER,
    out: options.out,
    settings,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.progressStream === undefined ? {} : { progressStream: options.progressStream }),
  });
  const last = summary.rounds[summary.rounds.length - 1];
  const final = roundPaths(options.out, last.round).model;
  const scored = roundPaths(options.out, last.round).scored;
  const backend = String(settings.backend ?? "auto");
  const evalSettings = { backend };
  const before = await evaluate({ model, data: scored, settings: evalSettings });
  const after = await evaluate({ model: final, ref: model, data: scored, settings: evalSettings });
  const start = await greedyAnswers(model, prompts, backend);
  const end = await greedyAnswers(final, prompts, backend);
  return {
    out: options.out,
    rounds: summary.rounds,
    before: { reward_mean: summary.rounds[0].reward_mean, ranking_accuracy: before.ranking_accuracy, kl: 0 },
    after: { reward_mean: last.reward_mean, ranking_accuracy: after.ranking_accuracy, kl: last.kl },
    examples: start.map((s, i) => ({ query: s.query, answer: s.answer, before: s.text, after: end[i].text })),
  };
}

const fmt = (v: number | null): string => (v === null ? "-" : v.toFixed(3));

/**
 * The before/after tables a terminal shows.
 *
 * @example
 * process.stdout.write(formatDemoResult(await demo({ out: "rrhf-demo" })));
 */
export function formatDemoResult(r: DemoResult): string {
  const rows = [
    ["", "before", "after"],
    ["reward_mean (greedy answers correct)", fmt(r.before.reward_mean), fmt(r.after.reward_mean)],
    ["ranking_accuracy (last round's samples)", fmt(r.before.ranking_accuracy), fmt(r.after.ranking_accuracy)],
    ["kl to the start model", fmt(r.before.kl), fmt(r.after.kl)],
  ];
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const table = rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(w[c]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
  const examples = r.examples
    .map((e) => `${e.query.replace("\nAnswer:", "")}  expected ${e.answer}  before:${e.before}  after:${e.after}`)
    .join("\n");
  return `${table}\n\n${examples}\n`;
}
