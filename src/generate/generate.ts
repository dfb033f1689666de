/**
 * `generate`: responses to a batch of prompts with one of the strategies
 * (greedy, sample, beam, diverse-beam), over the model's KV-cache decoding.
 * EOS ids come from config.json and, when present, generation_config.json.
 *
 * @example
 * const model = loadCausalLM("tests/fixtures/models/gpt2-tiny", { backend: "ref" });
 * const settings = resolveSettings(GENERATE_SETTINGS, { strategy: "beam", num_beams: 2, max_new_tokens: 4 }, "example");
 * const [[best]] = generate(model, [[1, 2, 3]], { settings, eosTokenIds: model.config.eosTokenIds });
 * best.tokens; // the new token ids; best.score: its length-normalised log-probability
 * generateWith((p, k, max) => model.decode(p, { continuations: k, maxNewTokens: max }), [[1, 2, 3]], { settings, eosTokenIds: [] }); // the same
 * eosTokenIdsOf("tests/fixtures/models/gpt2-tiny", model.config.eosTokenIds); // generation_config.json's EOS ids, else config.json's
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";
import type { CausalLM } from "../models/causal-lm.js";
import { beamResponses } from "./beam.js";
import { sampleResponses } from "./sample.js";
import { checkGenerateSettings } from "./settings.js";
import type { GenerateRequest, Generation, OpenSession } from "./types.js";

/**
 * Responses [prompt][num_return_sequences] for token-id prompts (each
 * non-empty). Reproducible: the same settings (seed included) give the same output.
 */
export function generate(
  model: Pick<CausalLM, "decode">,
  prompts: readonly (readonly number[])[],
  request: GenerateRequest,
): Generation[][] {
  return generateWith((p, k, max) => model.decode(p, { continuations: k, maxNewTokens: max }), prompts, request);
}

/** {@link generate} over any decode session (a model's, or a fake one in tests). */
export function generateWith(open: OpenSession, prompts: readonly (readonly number[])[], request: GenerateRequest): Generation[][] {
  checkGenerateSettings(request.settings);
  if (prompts.length === 0) return [];
  switch (request.settings.strategy) {
    case "greedy":
      return sampleResponses(open, prompts, request, false);
    case "sample":
      return sampleResponses(open, prompts, request, true);
    case "beam":
    case "diverse-beam":
      return beamResponses(open, prompts, request);
    default:
      throw new UserError(`generate: unknown strategy ${JSON.stringify(request.settings.strategy)}`);
  }
}

function idsOf(value: unknown): number[] | null {
  if (Number.isInteger(value)) return [value as number];
  if (Array.isArray(value) && value.every((v) => Number.isInteger(v))) return value as number[];
  return null;
}

/**
 * The EOS ids of a model folder: generation_config.json's `eos_token_id`
 * (an id or a list) when the file has one, else config.json's.
 */
export function eosTokenIdsOf(modelDir: string, configEos: readonly number[]): number[] {
  const path = join(modelDir, "generation_config.json");
  if (!existsSync(path)) return [...configEos];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const eos = parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>)["eos_token_id"] : undefined;
  if (eos === undefined || eos === null) return [...configEos];
  const ids = idsOf(eos);
  if (ids === null) throw new UserError(`${path}: eos_token_id must be an integer or a list of integers, got ${JSON.stringify(eos)}`);
  return ids;
}
