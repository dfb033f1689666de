/**
 * Where `rrhf sample`'s responses come from: a local model (KV-cache
 * decoding) or an OpenAI-compatible endpoint. Each answers a batch of
 * prompts with k responses per prompt; several local models are pooled
 * (k each, in model order).
 */
import type { PromptInput } from "../../generate/prompt.js";
import { endpointResponses, type EndpointClient } from "../../generate/endpoint.js";
import { eosTokenIdsOf, generate } from "../../generate/generate.js";
import { promptTokenIds } from "../../generate/prompt.js";
import { cutAtStop } from "../../generate/types.js";
import { UserError } from "../../errors.js";
import { getBackend } from "../../kernels/select.js";
import { loadCausalLM } from "../../models/registry.js";
import { queryToMessages } from "../../tokenize/chat-template.js";
import { loadTokenizer } from "../../tokenize/tokenizer.js";
import { requireChatTemplate } from "../../train/run-data.js";
import type { SampleCommandSettings } from "./sample-settings.js";

/** One prompt of a batch: its input and where it is (`file:line`, for messages). */
export interface BatchPrompt {
  prompt: PromptInput;
  name: string;
}

/** Answers a batch: k responses per prompt. `first` is the batch's first prompt index (it seeds the batch). */
export interface Responder {
  respond(batch: readonly BatchPrompt[], first: number, onTokens: (n: number) => void): Promise<string[][]>;
}

/** A local model folder (its tokenizer, or `tokenizerDir`). */
export async function localResponder(dir: string, tokenizerDir: string | undefined, s: SampleCommandSettings): Promise<Responder> {
  const model = loadCausalLM(dir, { backend: getBackend(s.backend, s.threads === null ? {} : { threads: s.threads }) });
  const tokDir = tokenizerDir ?? dir;
  const tok = await loadTokenizer(tokDir);
  if (s.chat_template) requireChatTemplate(tok, tokDir);
  const eosTokenIds = eosTokenIdsOf(dir, model.config.eosTokenIds);
  const stopStrings = s.stop === null ? [] : [s.stop];
  const stop = stopStrings.length > 0 ? { strings: stopStrings, decode: (ids: number[]) => tok.decode(ids) } : null;
  return {
    respond: async (batch, first, onTokens) => {
      const prompts = batch.map((p) => promptTokenIds(tok, p.prompt, s.chat_template, p.name));
      // A seed per batch start: a resumed run draws what the uninterrupted one would have for the same batches.
      const out = generate(model, prompts, { settings: { ...s, seed: s.seed + first }, eosTokenIds, stop, onTokens });
      return out.map((gens) => gens.map((g) => cutAtStop(tok.decode(g.tokens), stopStrings)));
    },
  };
}

/** Settings an endpoint cannot honour, refused with the reason. */
function checkEndpointSettings(s: SampleCommandSettings): void {
  if (s.strategy === "beam" || s.strategy === "diverse-beam")
    throw new UserError(
      `--endpoint: --strategy ${s.strategy} is not available through an OpenAI-compatible endpoint (the API has no beam search); use --strategy sample or greedy, or a local --model`,
    );
  if (s.endpoint_model === null)
    throw new UserError("--endpoint needs --endpoint-model NAME (the `model` of each request; see the server's GET /v1/models)");
}

/** The non-OpenAI sampling fields vLLM and llama.cpp take, sent only when set away from their defaults. */
function extraFields(s: SampleCommandSettings): Record<string, number> {
  const extra: Record<string, number> = {};
  if (s.top_k !== 50 && s.top_k !== 0) extra.top_k = s.top_k;
  if (s.min_p !== null) extra.min_p = s.min_p;
  if (s.repetition_penalty !== 1) extra.repetition_penalty = s.repetition_penalty;
  if (s.min_new_tokens > 0) extra.min_tokens = s.min_new_tokens;
  return extra;
}

/** An OpenAI-compatible server: at most `concurrency` requests in flight, one per prompt (n = k). */
export function endpointResponder(s: SampleCommandSettings, env: NodeJS.ProcessEnv = process.env): Responder {
  checkEndpointSettings(s);
  let apiKey: string | null = null;
  if (s.api_key_env !== null) {
    apiKey = env[s.api_key_env] ?? null;
    if (apiKey === null || apiKey === "") throw new UserError(`--api-key-env ${s.api_key_env}: that environment variable is not set`);
  }
  const client: EndpointClient = {
    url: s.endpoint ?? "",
    model: s.endpoint_model ?? "",
    apiKey,
    maxAttempts: s.endpoint_max_attempts,
    timeoutMs: s.endpoint_timeout_s * 1000,
  };
  const stopStrings = s.stop === null ? [] : [s.stop];
  const greedy = s.strategy === "greedy";
  const params = {
    n: s.num_return_sequences,
    max_tokens: s.max_new_tokens,
    temperature: greedy ? 0 : s.temperature,
    top_p: greedy ? 1 : s.top_p,
    stop: stopStrings,
    extra: greedy ? {} : extraFields(s),
  };
  const toInput = (p: PromptInput): PromptInput => ("query" in p && s.chat_template ? { messages: queryToMessages(p.query) } : p);
  return {
    respond: async (batch, first, onTokens) => {
      const results: string[][] = new Array(batch.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batch.length) {
          const i = next++;
          const answer = await endpointResponses(client, toInput(batch[i].prompt), { ...params, seed: s.seed + first + i });
          onTokens(answer.completionTokens);
          results[i] = answer.texts.map((t) => cutAtStop(t, stopStrings));
        }
      };
      await Promise.all(Array.from({ length: Math.min(s.concurrency, batch.length) }, worker));
      return results;
    },
  };
}
