/**
 * The generation behind `rrhf serve`: a loaded model and tokenizer, a
 * request checked against them ({@link prepareJob}: prompt ids, token
 * budget, generation settings), and the job run one decode step at a time
 * ({@link runJob}), yielding to the event loop between steps so that other
 * requests are answered (or refused) and streamed text goes out as it comes.
 *
 * @example
 * const served = await loadServedModel("tests/fixtures/models/gpt2-tiny", undefined, { name: null, backend: "ref", threads: null });
 * const job = prepareJob(served, parseCompletionRequest(body, { maxN: 4 }), 16);
 * const result = await runJob(served, job, { signal, onText: (choice, delta) => send(choice, delta) });
 */
import { randomInt } from "node:crypto";
import { basename, resolve } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { UserError } from "../errors.js";
import { eosTokenIdsOf } from "../generate/generate.js";
import { promptTokenIds } from "../generate/prompt.js";
import { sampleSteps } from "../generate/sample.js";
import { generateSettings } from "../generate/settings.js";
import { cutAtStop, type Generation, type GenerateRequest } from "../generate/types.js";
import { getBackend } from "../kernels/select.js";
import type { CausalLM } from "../models/causal-lm.js";
import { loadCausalLM } from "../models/registry.js";
import type { BackendName } from "../kernels/select.js";
import { loadTokenizer, type RrhfTokenizer } from "../tokenize/tokenizer.js";
import { ApiError, type ParsedRequest } from "./request.js";

/** A model ready to serve. */
export interface ServedModel {
  name: string;
  model: CausalLM;
  tok: RrhfTokenizer;
  eosTokenIds: number[];
  created: number;
}

/** Loads the model folder (and its tokenizer, or `tokenizerDir`). */
export async function loadServedModel(
  dir: string,
  tokenizerDir: string | undefined,
  options: { name: string | null; backend: BackendName; threads: number | null },
): Promise<ServedModel> {
  const backend = getBackend(options.backend, options.threads === null ? {} : { threads: options.threads });
  const model = loadCausalLM(dir, { backend });
  const tok = await loadTokenizer(tokenizerDir ?? dir);
  const name = options.name ?? basename(resolve(dir));
  return { name, model, tok, eosTokenIds: eosTokenIdsOf(dir, model.config.eosTokenIds), created: Math.floor(Date.now() / 1000) };
}

/** A request checked against the model: ready to run. */
export interface PreparedJob {
  request: ParsedRequest;
  promptIds: number[][];
  generate: GenerateRequest;
  /** Sampling (temperature above 0) or greedy; greedy decodes one sequence per prompt and repeats it n times. */
  sample: boolean;
}

/** One choice of a finished job. */
export interface JobChoice {
  index: number;
  text: string;
  finish_reason: "stop" | "length";
}

/** A finished job: its choices (prompt-major, n per prompt) and OpenAI's usage counts. */
export interface JobResult {
  choices: JobChoice[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

function idsOfPrompt(served: ServedModel, prompt: ParsedRequest["prompts"][number], kind: ParsedRequest["kind"]): number[] {
  if ("ids" in prompt) {
    const vocab = served.model.config.vocabSize;
    const outside = prompt.ids.find((id) => id >= vocab);
    if (outside !== undefined)
      throw new ApiError(400, `prompt: token ${outside} is outside the vocabulary (size ${vocab})`, "invalid_request_error", "prompt");
    return prompt.ids;
  }
  if (kind === "chat" && served.tok.chatTemplate === null)
    throw new ApiError(
      400,
      `messages: model ${served.name} has no chat_template in its tokenizer_config.json; use /v1/completions`,
      "invalid_request_error",
      "messages",
    );
  try {
    return "text" in prompt
      ? promptTokenIds(served.tok, { query: prompt.text }, false, "prompt")
      : promptTokenIds(served.tok, { messages: prompt.messages }, true, "messages");
  } catch (err) {
    if (err instanceof UserError) throw new ApiError(400, err.message, "invalid_request_error", kind === "chat" ? "messages" : "prompt");
    throw err;
  }
}

/** The new-token budget: the request's max_tokens (refused past the context), or the default capped by it. */
function tokenBudget(served: ServedModel, promptIds: number[][], maxTokens: number | null, defaultMaxTokens: number): number {
  const context = served.model.config.maxPositions;
  const longest = Math.max(...promptIds.map((p) => p.length));
  const room = context - longest;
  if (room < 1)
    throw new ApiError(
      400,
      `the prompt has ${longest} tokens; this model's context is ${context}`,
      "invalid_request_error",
      "prompt",
      "context_length_exceeded",
    );
  if (maxTokens === null) return Math.min(defaultMaxTokens, room);
  if (maxTokens > room)
    throw new ApiError(
      400,
      `max_tokens: ${maxTokens} new tokens after a ${longest}-token prompt exceed this model's context of ${context}; ask for at most ${room}`,
      "invalid_request_error",
      "max_tokens",
      "context_length_exceeded",
    );
  return maxTokens;
}

/** Checks `request` against the model: prompt ids, token budget, settings. Throws ApiError (400) on a problem. */
export function prepareJob(served: ServedModel, request: ParsedRequest, defaultMaxTokens: number): PreparedJob {
  if (request.model !== served.name)
    throw new ApiError(
      404,
      `model: this server serves ${JSON.stringify(served.name)}, not ${JSON.stringify(request.model)}`,
      "invalid_request_error",
      "model",
      "model_not_found",
    );
  const promptIds = request.prompts.map((p) => idsOfPrompt(served, p, request.kind));
  const sample = request.temperature > 0;
  const settings = generateSettings({
    strategy: sample ? "sample" : "greedy",
    num_return_sequences: sample ? request.n : 1,
    max_new_tokens: tokenBudget(served, promptIds, request.max_tokens, defaultMaxTokens),
    temperature: sample ? request.temperature : 1,
    top_p: request.top_p,
    top_k: 0, // OpenAI has no top_k: every token stays in play
    seed: request.seed ?? randomInt(2 ** 47),
  });
  const stop = request.stop.length > 0 ? { strings: request.stop, decode: (ids: number[]) => served.tok.decode(ids) } : null;
  return { request, promptIds, sample, generate: { settings, eosTokenIds: served.eosTokenIds, stop } };
}

/**
 * The part of `text` safe to send while a response is still growing: cut at
 * a stop string, without a tail that may begin one, and without a trailing
 * replacement character (a multi-byte character whose bytes are not all out).
 */
export function settledText(text: string, stops: readonly string[], finished: boolean): string {
  const cut = cutAtStop(text, stops);
  if (finished) return cut;
  let end = cut.length;
  for (const s of stops) {
    for (let len = Math.min(s.length - 1, cut.length); len > 0; len--) {
      if (cut.endsWith(s.slice(0, len))) {
        end = Math.min(end, cut.length - len);
        break;
      }
    }
  }
  while (end > 0 && cut[end - 1] === "\uFFFD") end--;
  return cut.slice(0, end);
}

/** Streams and stops a running job. */
export interface JobHooks {
  /** Aborts the job between two decode steps (client gone, server closing). */
  signal?: AbortSignal;
  /** New text of choice `index` (streaming). */
  onText?: (index: number, delta: string) => void;
}

/** Runs a prepared job one decode step at a time; throws the signal's reason when aborted. */
export async function runJob(served: ServedModel, job: PreparedJob, hooks: JobHooks = {}): Promise<JobResult> {
  const { n } = job.request;
  const perPrompt = job.sample ? n : 1;
  const model = served.model;
  const open = (p: readonly (readonly number[])[], k: number, max: number) => model.decode(p, { continuations: k, maxNewTokens: max });
  const steps = sampleSteps(open, job.promptIds, job.generate, job.sample);
  const choices = job.promptIds.length * n;
  const sequenceOf = (choice: number): number => Math.floor(choice / n) * perPrompt + (job.sample ? choice % n : 0);
  const stops = job.request.stop;
  const sent = new Array<string>(choices).fill("");
  let result: Generation[][] | null = null;
  while (result === null) {
    hooks.signal?.throwIfAborted();
    const next = steps.next();
    if (next.done === true) result = next.value;
    else if (hooks.onText !== undefined) {
      for (let c = 0; c < choices; c++) {
        const q = sequenceOf(c);
        const text = settledText(served.tok.decode(next.value.generations[q].tokens), stops, next.value.done[q]);
        if (text.length > sent[c].length && text.startsWith(sent[c])) {
          hooks.onText(c, text.slice(sent[c].length));
          sent[c] = text;
        }
      }
    }
    // Let sockets flush and other requests be read (and refused when the queue is full) between steps.
    await nextTurn();
  }
  const flat = result.flat();
  const out: JobChoice[] = [];
  let completionTokens = 0;
  for (let c = 0; c < choices; c++) {
    const g = flat[sequenceOf(c)];
    const text = cutAtStop(served.tok.decode(g.tokens), stops);
    if (hooks.onText !== undefined && text.length > sent[c].length) hooks.onText(c, text.slice(sent[c].length));
    out.push({ index: c, text, finish_reason: g.finish === "length" ? "length" : "stop" });
    // The tokens the model produced for this choice, the EOS that ended it included.
    completionTokens += g.tokens.length + (g.finish === "eos" ? 1 : 0);
  }
  const promptTokens = job.promptIds.reduce((sum, p) => sum + p.length, 0);
  return {
    choices: out,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}
