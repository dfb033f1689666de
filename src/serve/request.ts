/**
 * Parsing and validation of the OpenAI request bodies `rrhf serve` accepts
 * (pure functions: fuzzed in tests/fuzz). A bad request becomes an
 * {@link ApiError} with the HTTP status and OpenAI's error fields; an
 * accepted one a {@link ParsedRequest} whose every number is within bounds.
 *
 * @example
 * const body = parseJsonBody(Buffer.from('{"model":"m","prompt":"Hi","n":2}'));
 * const req = parseCompletionRequest(body, { maxN: 16 });
 * req.n; // 2
 */
import { CHAT_ROLES, type ChatMessage, type ChatRole } from "../data/record.js";
import { UserError } from "../errors.js";

/** An error a client caused (or a server state it meets), answered as OpenAI's `{error: {message, type, param, code}}`. */
export class ApiError extends UserError {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = "invalid_request_error",
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** A completion prompt: text, or token ids. */
export type CompletionPrompt = { text: string } | { ids: number[] };

/** An accepted request: the fields generation reads, every one within bounds. */
export interface ParsedRequest {
  kind: "completion" | "chat";
  model: string;
  /** Completions: one or more prompts; chat: one conversation. */
  prompts: CompletionPrompt[] | [{ messages: ChatMessage[] }];
  n: number;
  /** 0 means greedy decoding. */
  temperature: number;
  top_p: number;
  /** null: the server's default (capped by the model's context). */
  max_tokens: number | null;
  stop: string[];
  /** null: a fresh random seed. */
  seed: number | null;
  stream: boolean;
  /** stream_options.include_usage: a last chunk with the usage counts. */
  include_usage: boolean;
}

/** The server's bounds a request must keep. */
export interface RequestLimits {
  /** Most choices (n times prompts) per request. */
  maxN: number;
}

/** Most stop strings (OpenAI's limit) and prompts per request. */
const MAX_STOP_STRINGS = 4;
const MAX_PROMPTS = 64;

type Body = Readonly<Record<string, unknown>>;

const bad = (param: string, message: string): ApiError => new ApiError(400, `${param}: ${message}`, "invalid_request_error", param);

/** The body as a JSON object, or a 400. */
export function parseJsonBody(bytes: Uint8Array): Body {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ApiError(400, `request body: not valid JSON (${(err as Error).message})`, "invalid_request_error", null, "invalid_json");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ApiError(400, "request body: must be a JSON object");
  return value as Body;
}

/** `body[key]` as a number within [min, max] (an integer when asked), or null when absent. */
function optionalNumber(body: Body, key: string, min: number, max: number, integer = false): number | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v)))
    throw bad(key, `must be ${integer ? "an integer" : "a number"}, got ${describe(v)}`);
  if (v < min || v > max) throw bad(key, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function optionalBoolean(body: Body, key: string): boolean {
  const v = body[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw bad(key, `must be true or false, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return v.length > 40 ? "a string" : JSON.stringify(v);
  return typeof v === "object" ? "an object" : String(v);
}

function stopStrings(body: Body): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || !list.every((s): s is string => typeof s === "string" && s.length > 0))
    throw bad("stop", "must be a non-empty string or a list of them");
  if (list.length > MAX_STOP_STRINGS) throw bad("stop", `at most ${MAX_STOP_STRINGS} stop strings, got ${list.length}`);
  return list;
}

/** OpenAI parameters rrhf serve cannot honour: refused unless they hold their no-op value. */
const UNSUPPORTED: readonly [string, (v: unknown) => boolean][] = [
  ["logprobs", (v) => v === false || v === null],
  ["top_logprobs", (v) => v === null || v === 0],
  ["echo", (v) => v === false || v === null],
  ["suffix", (v) => v === null || v === ""],
  ["best_of", (v) => v === null || v === 1],
  ["presence_penalty", (v) => v === null || v === 0],
  ["frequency_penalty", (v) => v === null || v === 0],
  ["logit_bias", (v) => v === null || (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0)],
  ["tools", (v) => v === null || (Array.isArray(v) && v.length === 0)],
  ["functions", (v) => v === null || (Array.isArray(v) && v.length === 0)],
];

function refuseUnsupported(body: Body): void {
  for (const [key, isNoOp] of UNSUPPORTED) {
    if (body[key] !== undefined && !isNoOp(body[key])) throw bad(key, "not supported by rrhf serve");
  }
}

/** The fields completions and chat share. */
function commonFields(body: Body, limits: RequestLimits, prompts: number): Omit<ParsedRequest, "kind" | "prompts"> {
  refuseUnsupported(body);
  if (typeof body.model !== "string" || body.model.length === 0) throw bad("model", "must be the served model's name (see GET /v1/models)");
  const n = optionalNumber(body, "n", 1, limits.maxN, true) ?? 1;
  if (n * prompts > limits.maxN)
    throw bad("n", `n times the prompts (${n * prompts}) exceeds this server's limit of ${limits.maxN} choices`);
  const maxTokensField =
    body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? "max_completion_tokens" : "max_tokens";
  const options = body.stream_options;
  if (options !== undefined && options !== null && (typeof options !== "object" || Array.isArray(options)))
    throw bad("stream_options", "must be an object");
  return {
    model: body.model,
    n,
    temperature: optionalNumber(body, "temperature", 0, 2) ?? 1,
    top_p: topP(body),
    max_tokens: optionalNumber(body, maxTokensField, 1, Number.MAX_SAFE_INTEGER, true),
    stop: stopStrings(body),
    seed: optionalNumber(body, "seed", 0, Number.MAX_SAFE_INTEGER, true),
    stream: optionalBoolean(body, "stream"),
    include_usage: optionalBoolean((options ?? {}) as Body, "include_usage"),
  };
}

function topP(body: Body): number {
  const p = optionalNumber(body, "top_p", 0, 1) ?? 1;
  if (p === 0) throw bad("top_p", "must be above 0 (use temperature 0 for greedy decoding)");
  return p;
}

function isTokenIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);
}

function completionPrompts(v: unknown): CompletionPrompt[] {
  if (typeof v === "string") return [{ text: v }];
  if (isTokenIds(v)) return [{ ids: v }];
  if (Array.isArray(v) && v.length > 0 && v.length <= MAX_PROMPTS) {
    if (v.every((p): p is string => typeof p === "string")) return v.map((text) => ({ text }));
    if (v.every(isTokenIds)) return v.map((ids) => ({ ids }));
  }
  throw bad("prompt", `must be a string, a list of at most ${MAX_PROMPTS} strings, or token ids (one list or a list of lists)`);
}

/** A `POST /v1/completions` body. */
export function parseCompletionRequest(body: Body, limits: RequestLimits): ParsedRequest {
  const prompts = completionPrompts(body.prompt);
  return { kind: "completion", prompts, ...commonFields(body, limits, prompts.length) };
}

function messageContent(v: unknown, at: string): string {
  if (typeof v === "string") return v;
  // The array form: text parts only.
  if (
    Array.isArray(v) &&
    v.every((p) => p !== null && typeof p === "object" && (p as Body).type === "text" && typeof (p as Body).text === "string")
  )
    return v.map((p) => (p as Body).text as string).join("");
  throw bad(`${at}.content`, "must be a string or a list of text parts");
}

function chatMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw bad("messages", "must be a non-empty list of {role, content}");
  return v.map((m, i) => {
    const at = `messages[${i}]`;
    if (m === null || typeof m !== "object" || Array.isArray(m)) throw bad(at, "must be an object {role, content}");
    const role = (m as Body).role;
    // OpenAI's newer name for a system message.
    const named = role === "developer" ? "system" : role;
    if (!(CHAT_ROLES as readonly unknown[]).includes(named))
      throw bad(`${at}.role`, `must be one of ${CHAT_ROLES.join(", ")}, got ${describe(role)}`);
    return { role: named as ChatRole, content: messageContent((m as Body).content, at) };
  });
}

/** A `POST /v1/chat/completions` body. */
export function parseChatRequest(body: Body, limits: RequestLimits): ParsedRequest {
  const messages = chatMessages(body.messages);
  return { kind: "chat", prompts: [{ messages }], ...commonFields(body, limits, 1) };
}
