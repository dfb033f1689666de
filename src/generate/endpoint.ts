/**
 * Sampling through any OpenAI-compatible server (vLLM, llama.cpp's server,
 * Ollama, TGI, `rrhf serve`): k responses to one prompt from
 * `/completions` (a plain query) or `/chat/completions` (a conversation),
 * with global fetch. 429, 5xx and network errors are retried with
 * exponential backoff (Retry-After honoured) up to `maxAttempts`; any other
 * status is a UserError showing the server's message.
 *
 * @example
 * const client: EndpointClient = { url: "http://127.0.0.1:8000/v1", model: "gpt2-tiny", apiKey: null, maxAttempts: 5, timeoutMs: 600_000 };
 * const { texts } = await endpointResponses(client, { query: "Hello" }, { n: 4, max_tokens: 16, temperature: 0.8, top_p: 1, stop: [], seed: 1 });
 */
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../errors.js";
import type { PromptInput } from "./prompt.js";

/** Where and how to ask. */
export interface EndpointClient {
  /** Base URL, OpenAI's `base_url` (e.g. `http://127.0.0.1:8000/v1`); `/completions` or `/chat/completions` is appended. */
  url: string;
  /** The `model` field of each request. */
  model: string;
  /** Sent as `Authorization: Bearer KEY` when set. */
  apiKey: string | null;
  /** Tries per request, the first included. */
  maxAttempts: number;
  /** Each try's time limit (then retried, like a network error). */
  timeoutMs: number;
  /** First backoff delay; doubled on each retry (default 500 ms). */
  baseDelayMs?: number;
}

/** The sampling fields of a request (OpenAI names); `extra` holds non-OpenAI ones (vLLM's top_k, min_p, ...). */
export interface EndpointParams {
  n: number;
  max_tokens: number;
  temperature: number;
  top_p: number;
  stop: string[];
  seed: number;
  extra?: Record<string, number>;
}

/** The k texts (in choice order) and the completion tokens the server reported (0 when it reported none). */
export interface EndpointAnswer {
  texts: string[];
  completionTokens: number;
}

/** Longest wait a Retry-After may impose. */
const MAX_RETRY_AFTER_MS = 60_000;

/** Retry-After as milliseconds (seconds or an HTTP date), or null. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : null;
}

function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const message = typeof body.error === "string" ? body.error : (body.error?.message ?? body.message ?? body.detail);
    if (typeof message === "string") return message;
  } catch {
    // not JSON: the text itself
  }
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}

/** One POST with retries; the parsed JSON answer. */
async function postWithRetries(client: EndpointClient, path: string, body: object): Promise<Record<string, unknown>> {
  const url = `${client.url.replace(/\/+$/, "")}${path}`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (client.apiKey !== null) headers.authorization = `Bearer ${client.apiKey}`;
  let delay = client.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    let problem: string;
    let wait: number | null = null;
    try {
      const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(client.timeoutMs) });
      const text = await res.text();
      if (res.ok) {
        try {
          return JSON.parse(text) as Record<string, unknown>;
        } catch {
          throw new UserError(`${url}: HTTP ${res.status} but the answer is not JSON: ${serverMessage(text)}`);
        }
      }
      if (res.status !== 429 && res.status < 500) throw new UserError(`${url}: HTTP ${res.status}: ${serverMessage(text)}`);
      problem = `HTTP ${res.status}: ${serverMessage(text)}`;
      wait = retryAfterMs(res.headers.get("retry-after"));
    } catch (err) {
      if (err instanceof UserError) throw err;
      problem = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ""}` : String(err);
    }
    if (attempt >= client.maxAttempts) throw new UserError(`${url}: gave up after ${attempt} attempts; last: ${problem}`);
    await sleep(wait ?? delay);
    delay *= 2;
  }
}

function choiceTexts(answer: Record<string, unknown>, chat: boolean, where: string): string[] {
  const choices = answer.choices;
  if (!Array.isArray(choices)) throw new UserError(`${where}: the answer has no choices list`);
  const indexed = choices.map((c: unknown, i) => {
    const choice = (c ?? {}) as { index?: unknown; text?: unknown; message?: { content?: unknown } };
    const text = chat ? choice.message?.content : choice.text;
    if (typeof text !== "string") throw new UserError(`${where}: choices[${i}] has no ${chat ? "message.content" : "text"} string`);
    return { index: typeof choice.index === "number" ? choice.index : i, text };
  });
  return indexed.sort((a, b) => a.index - b.index).map((c) => c.text);
}

/**
 * k = `params.n` responses to `prompt`: a conversation through
 * `/chat/completions`, a query through `/completions`. A server that
 * returns fewer choices than asked (no `n` support) is asked again for the rest.
 */
export async function endpointResponses(client: EndpointClient, prompt: PromptInput, params: EndpointParams): Promise<EndpointAnswer> {
  const chat = "messages" in prompt;
  const path = chat ? "/chat/completions" : "/completions";
  const texts: string[] = [];
  let completionTokens = 0;
  for (let round = 0; texts.length < params.n; round++) {
    if (round >= params.n) throw new UserError(`${client.url}${path}: asked for ${params.n} choices, got ${texts.length}`);
    const { extra, ...fields } = params;
    const body = {
      model: client.model,
      ...(chat ? { messages: prompt.messages } : { prompt: prompt.query }),
      ...fields,
      ...extra,
      n: params.n - texts.length,
      seed: params.seed + round,
      stop: params.stop.length > 0 ? params.stop : undefined,
    };
    const answer = await postWithRetries(client, path, body);
    texts.push(...choiceTexts(answer, chat, `${client.url}${path}`).slice(0, params.n - texts.length));
    const usage = answer.usage as { completion_tokens?: unknown } | undefined;
    if (typeof usage?.completion_tokens === "number") completionTokens += usage.completion_tokens;
  }
  return { texts, completionTokens };
}
