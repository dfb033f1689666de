/**
 * A scorer SPEC string chooses the scorer:
 *
 * | SPEC | scorer |
 * |---|---|
 * | `model:DIR` | a reward-model folder (`*ForSequenceClassification`) |
 * | `http://HOST:PORT/PATH`, `https://...` | an HTTP endpoint (protocol: http.ts) |
 * | `cmd:COMMAND` | a command run once through `sh -c`, JSON lines on stdin/stdout |
 * | `rule:length`, `rule:regex:PATTERN`, `rule:keyword:W1,W2`, `rule:exact` | built-in rules |
 */
import { UserError } from "../errors.js";
import type { BackendName } from "../kernels/select.js";
import { createCommandScorer } from "./command.js";
import { createHttpScorer } from "./http.js";
import { createModelScorer } from "./model.js";
import { createRuleScorer } from "./rule.js";
import type { Scorer } from "./scorer.js";
import { defaultsOf } from "../settings/index.js";
import { SCORE_SETTINGS, type ScoreSettings } from "./settings.js";

/**
 * Options of {@link createScorer}: the scoring settings (defaults from
 * SCORE_SETTINGS) and, for `model:`, the kernel backend.
 *
 * @example
 * const opts: ScorerOptions = { timeout: 10, retries: 1, backend: "ref" };
 */
export interface ScorerOptions extends Partial<Omit<ScoreSettings, "batch_size">> {
  backend?: BackendName;
}

const SPEC_HELP = "model:DIR, http(s)://HOST/PATH, cmd:COMMAND, rule:length, rule:regex:PATTERN, rule:keyword:WORDS or rule:exact";

/**
 * Builds the scorer a SPEC names (see the table above). Close it when done.
 *
 * @example
 * const scorer = await createScorer("rule:keyword:thanks,please");
 * const scores = await scorer.score([{ query: "Hi", responses: ["thanks!", "no"] }]); // [[1, 0]]
 * await scorer.close();
 */
export async function createScorer(spec: string, opts: ScorerOptions = {}): Promise<Scorer> {
  const s = { ...(defaultsOf(SCORE_SETTINGS) as ScoreSettings), ...opts };
  if (spec.startsWith("model:")) {
    return createModelScorer(spec.slice("model:".length), {
      chatTemplate: s.chat_template,
      ...(opts.backend ? { backend: opts.backend } : {}),
    });
  }
  if (spec.startsWith("http://") || spec.startsWith("https://")) {
    return createHttpScorer(spec, { timeout: s.timeout, retries: s.retries, retryDelay: s.retry_delay });
  }
  if (spec.startsWith("cmd:")) return createCommandScorer(spec.slice("cmd:".length), s.timeout);
  if (spec.startsWith("rule:")) return createRuleScorer(spec.slice("rule:".length));
  throw new UserError(`unknown scorer ${JSON.stringify(spec)} (give ${SPEC_HELP})`);
}
