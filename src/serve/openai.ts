/**
 * OpenAI's response shapes: completion and chat completion objects, their
 * streamed chunks (server-sent events ending in `data: [DONE]`), the model
 * list and the error body.
 *
 * @example
 * completionBody(job, result, "gpt2-tiny"); // {id, object: "text_completion", created, model, choices, usage}
 * errorBody(new ApiError(429, "busy", "rate_limit_exceeded")); // {error: {message, type, param, code}}
 */
import { randomUUID } from "node:crypto";
import type { JobChoice, JobResult } from "./engine.js";
import type { ApiError, ParsedRequest } from "./request.js";

/** `{error: {message, type, param, code}}`. */
export function errorBody(err: ApiError): object {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

/** A fresh id in OpenAI's style (`cmpl-...`, `chatcmpl-...`). */
export function responseId(kind: ParsedRequest["kind"]): string {
  return `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replaceAll("-", "")}`;
}

/** The fields every response object and chunk starts with. */
export interface ResponseHead {
  id: string;
  created: number;
  model: string;
}

function choiceBody(kind: ParsedRequest["kind"], c: JobChoice): object {
  return kind === "chat"
    ? { index: c.index, message: { role: "assistant", content: c.text }, logprobs: null, finish_reason: c.finish_reason }
    : { index: c.index, text: c.text, logprobs: null, finish_reason: c.finish_reason };
}

/** The non-streamed response: every choice and the usage counts. */
export function completionBody(kind: ParsedRequest["kind"], head: ResponseHead, result: JobResult): object {
  return {
    ...head,
    object: kind === "chat" ? "chat.completion" : "text_completion",
    choices: result.choices.map((c) => choiceBody(kind, c)),
    usage: result.usage,
  };
}

/** One streamed chunk: new text of one choice (`finish` null), or its end (`finish` set, no text). */
export function chunkBody(
  kind: ParsedRequest["kind"],
  head: ResponseHead,
  index: number,
  text: string,
  finish: JobChoice["finish_reason"] | null,
  first = false,
): object {
  const choice =
    kind === "chat"
      ? {
          index,
          delta: finish !== null ? {} : first ? { role: "assistant", content: text } : { content: text },
          logprobs: null,
          finish_reason: finish,
        }
      : { index, text, logprobs: null, finish_reason: finish };
  return { ...head, object: kind === "chat" ? "chat.completion.chunk" : "text_completion", choices: [choice] };
}

/** The last chunk with `stream_options.include_usage`: no choices, the usage counts. */
export function usageChunkBody(kind: ParsedRequest["kind"], head: ResponseHead, usage: JobResult["usage"]): object {
  return { ...head, object: kind === "chat" ? "chat.completion.chunk" : "text_completion", choices: [], usage };
}

/** One server-sent event carrying `value` as JSON. */
export function sseEvent(value: object | "[DONE]"): string {
  return `data: ${value === "[DONE]" ? value : JSON.stringify(value)}\n\n`;
}

/** `GET /v1/models`. */
export function modelsBody(name: string, created: number): object {
  return { object: "list", data: [{ id: name, object: "model", created, owned_by: "rrhf" }] };
}
