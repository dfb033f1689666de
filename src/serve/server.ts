/**
 * `startServer`: an OpenAI-compatible HTTP server over one model (node:http):
 * `GET /v1/models`, `POST /v1/completions`, `POST /v1/chat/completions`
 * (streamed as server-sent events with `stream: true`). Loopback by default;
 * any other host needs an API key, checked in constant time. One generation
 * runs at a time behind a bounded queue (429 when full); bodies are capped
 * (413); `close()` stops accepting, aborts what runs, refuses what waits.
 *
 * @example
 * const options: ServerOptions = { model: "tests/fixtures/models/gpt2-tiny", settings: { port: 0, backend: "ref" } };
 * const server: RunningServer = await startServer(options);
 * const models = await (await fetch(`${server.url}/v1/models`)).json(); // {object: "list", data: [{id: "gpt2-tiny", ...}]}
 * await server.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { UserError } from "../errors.js";
import { isLoopbackHost, RateLimiter, tokenMatches } from "../io/http-guard.js";
import { resolveSettings, type SettingsInput } from "../settings/index.js";
import { loadServedModel, prepareJob, runJob, type ServedModel } from "./engine.js";
import { chunkBody, completionBody, errorBody, modelsBody, responseId, sseEvent, usageChunkBody, type ResponseHead } from "./openai.js";
import { GenerationQueue } from "./queue.js";
import { ApiError, parseChatRequest, parseCompletionRequest, parseJsonBody, type ParsedRequest } from "./request.js";
import { SERVE_SETTINGS, type ServeSettings } from "./settings.js";

// Part of serve's public surface (src/serve/index.ts); defined with the other shared guards.
export { isLoopbackHost };

/** What {@link startServer} serves and how. */
export interface ServerOptions {
  /** Hugging Face model folder (config.json, model.safetensors, tokenizer files unless `tokenizer`). */
  model: string;
  /** Tokenizer folder (default: the model folder). */
  tokenizer?: string;
  /** {@link SERVE_SETTINGS} by name; the rest take their defaults. */
  settings?: SettingsInput;
  /** One line per notable event (errors the server answered with 500). */
  log?: (line: string) => void;
}

/** A listening server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8000` (append `/v1`). */
  url: string;
  /** The served model's name (`model` in requests). */
  modelName: string;
  /** Stops accepting, aborts the running generation, refuses the waiting ones; resolves once every connection is closed. */
  close(): Promise<void>;
}

/** Refuses a non-loopback host without an API key (before anything is loaded). */
export function checkServeSecurity(s: Pick<ServeSettings, "host" | "api_key">): void {
  if (s.api_key !== null && s.api_key.length === 0) throw new UserError("--api-key: the key must not be empty");
  if (!isLoopbackHost(s.host) && s.api_key === null)
    throw new UserError(
      `--host ${s.host}: listening beyond this machine (not loopback) requires --api-key KEY, so that only clients holding the key are served`,
    );
}

/** True when the request carries `Authorization: Bearer <key>` (compared in constant time), or no key is set. */
function authorized(req: IncomingMessage, apiKey: string | null): boolean {
  if (apiKey === null) return true;
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  return tokenMatches(match === null ? "" : match[1].trim(), apiKey) && match !== null;
}

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  const headers: Record<string, string> = {};
  if (err.status === 429) headers["retry-after"] = "1";
  if (err.status === 401) headers["www-authenticate"] = "Bearer";
  // The rest of an oversized body is not read: the connection cannot be reused.
  if (err.status === 413) headers.connection = "close";
  sendJson(res, err.status, errorBody(err), headers);
}

/** The body, at most `limit` bytes (413 past it, before reading more than that). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new ApiError(
      413,
      `request body: larger than this server's limit of ${limit} bytes`,
      "invalid_request_error",
      null,
      "request_too_large",
    );
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolveBody(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Everything a request handler reads. */
interface ServerState {
  served: ServedModel;
  settings: ServeSettings;
  queue: GenerationQueue;
  apiKey: string | null;
  /** Requests per client per second (429 past it). */
  limiter: RateLimiter;
  /** Aborts every running generation (close()). */
  closing: AbortController;
  log: (line: string) => void;
}

const ROUTES: Readonly<Record<string, "GET" | "POST">> = {
  "/v1/models": "GET",
  "/v1/completions": "POST",
  "/v1/chat/completions": "POST",
};

async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!state.limiter.allow(req.socket.remoteAddress ?? "?")) {
    const limit = state.settings.max_requests_per_second;
    throw new ApiError(
      429,
      `too many requests: at most ${limit} a second from one client`,
      "rate_limit_exceeded",
      null,
      "rate_limit_exceeded",
    );
  }
  const path = (req.url ?? "/").split("?")[0].replace(/\/+$/, "");
  const method = ROUTES[path];
  if (method === undefined)
    throw new ApiError(
      404,
      `no route ${req.method} ${path}; this server has ${Object.keys(ROUTES).join(", ")}`,
      "invalid_request_error",
      null,
      "not_found",
    );
  if (req.method !== method)
    throw new ApiError(405, `${path} takes ${method}, not ${req.method}`, "invalid_request_error", null, "method_not_allowed");
  if (!authorized(req, state.apiKey))
    throw new ApiError(
      401,
      "invalid or missing API key: send Authorization: Bearer <key>",
      "invalid_request_error",
      null,
      "invalid_api_key",
    );
  if (method === "GET") {
    sendJson(res, 200, modelsBody(state.served.name, state.served.created));
    return;
  }
  const body = parseJsonBody(await readBody(req, state.settings.max_body_bytes));
  const limits = { maxN: state.settings.max_n };
  const request = path === "/v1/completions" ? parseCompletionRequest(body, limits) : parseChatRequest(body, limits);
  const job = prepareJob(state.served, request, state.settings.default_max_tokens);
  // A client that leaves (or a closing server) stops its generation between two decode steps.
  const gone = new AbortController();
  res.on("close", () => gone.abort(new ApiError(499, "client closed the request")));
  const signal = AbortSignal.any([gone.signal, state.closing.signal]);
  await state.queue.run(async () => {
    signal.throwIfAborted();
    const head: ResponseHead = { id: responseId(request.kind), created: Math.floor(Date.now() / 1000), model: state.served.name };
    if (!request.stream) {
      sendJson(res, 200, completionBody(request.kind, head, await runJob(state.served, job, { signal })));
      return;
    }
    await streamJob(state, res, job, head, signal);
  });
}

async function streamJob(
  state: ServerState,
  res: ServerResponse,
  job: ReturnType<typeof prepareJob>,
  head: ResponseHead,
  signal: AbortSignal,
): Promise<void> {
  const request: ParsedRequest = job.request;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const started = new Set<number>();
  const onText = (index: number, delta: string): void => {
    res.write(sseEvent(chunkBody(request.kind, head, index, delta, null, !started.has(index))));
    started.add(index);
  };
  const result = await runJob(state.served, job, { signal, onText });
  for (const c of result.choices) {
    if (!started.has(c.index)) onText(c.index, "");
    res.write(sseEvent(chunkBody(request.kind, head, c.index, "", c.finish_reason)));
  }
  if (request.include_usage) res.write(sseEvent(usageChunkBody(request.kind, head, result.usage)));
  res.end(sseEvent("[DONE]"));
}

function respondToFailure(state: ServerState, res: ServerResponse, err: unknown): void {
  if (res.destroyed) return;
  if (err instanceof ApiError) sendError(res, err);
  else if (state.closing.signal.aborted)
    sendError(res, new ApiError(503, "the server is shutting down", "server_error", null, "shutting_down"));
  else {
    state.log(`rrhf: serve: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    sendError(res, new ApiError(500, "internal server error (see the server's log)", "server_error"));
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      fail(
        err.code === "EADDRINUSE" || err.code === "EACCES" || err.code === "EADDRNOTAVAIL"
          ? new UserError(`cannot listen on ${host}:${port}: ${err.message}`)
          : err,
      ),
    );
    server.listen(port, host, () => done());
  });
}

/**
 * Loads the model and listens. Refuses (UserError) a non-loopback host
 * without `api_key`, before loading anything.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const settings = resolveSettings(SERVE_SETTINGS, options.settings ?? {}, "serve settings");
  checkServeSecurity(settings);
  const served = await loadServedModel(options.model, options.tokenizer, {
    name: settings.served_model_name,
    backend: settings.backend,
    threads: settings.threads,
  });
  const state: ServerState = {
    served,
    settings,
    queue: new GenerationQueue(settings.queue_size),
    apiKey: settings.api_key,
    limiter: new RateLimiter(settings.max_requests_per_second),
    closing: new AbortController(),
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
  const server = createServer((req, res) => {
    handle(state, req, res).catch((err: unknown) => respondToFailure(state, res, err));
  });
  // Node's requestTimeout (receiving a request, not generating its answer) and headersTimeout stay on: slow clients are cut off.
  await listen(server, settings.port, settings.host);
  const address = server.address();
  const port = address !== null && typeof address === "object" ? address.port : settings.port;
  const shownHost = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  let closed: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    modelName: served.name,
    close: () => {
      closed ??= new Promise<void>((done) => {
        server.close(() => done());
        state.closing.abort();
        state.queue.close();
        server.closeIdleConnections();
        // Answers to aborted requests are written on the next turns; then nothing may linger.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      return closed;
    },
  };
}
