/**
 * `rrhf label`'s HTTP server (node:http, no framework). Routes, all fixed:
 *
 *   GET    /                          the ranking page
 *   GET    /api/state                 { file, total, labelled, first } (first = first unlabelled record)
 *   GET    /api/items/N               record N (0-based) with its ranking (hasLabel), and the state
 *   PUT    /api/items/N/label         body {order, ties}: saves the ranking (FILE and sidecar) before answering
 *   DELETE /api/items/N/label         clears it (the record's scores go back)
 *
 * No part of a request names a file: the only file touched is FILE (and its
 * sidecar), given on the command line.
 *
 * @example
 * const server = await startLabelServer("data.jsonl", resolveSettings(LABEL_SETTINGS, { port: 0 }, "flags"));
 * console.log(server.url); // http://127.0.0.1:PORT/
 * await server.close();
 */
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename } from "node:path";
import { UserError } from "../../errors.js";
import {
  BodyTooLarge,
  isLoopbackHost,
  loopbackHostNames,
  RateLimiter,
  type Refusal,
  readBody,
  requestToken,
  tokenMatches,
} from "./http-guard.js";
import { lockLabelFile, removeStaleTemps } from "./lock.js";
import { buildLabelPage, type LabelPage } from "./page.js";
import { rankingProblem } from "./ranking.js";
import type { LabelSettings } from "./settings.js";
import { LabelStore } from "./store.js";

/** A running label server. */
export interface LabelServer {
  /** The page's address (with ?token=... when a token is set). */
  url: string;
  port: number;
  store: LabelStore;
  close(): Promise<void>;
}

/** Shortest token accepted: guessing one must be hopeless. */
const MIN_TOKEN_LENGTH = 16;

const ITEM_PATH = /^\/api\/items\/(\d{1,9})$/;
const LABEL_PATH = /^\/api\/items\/(\d{1,9})\/label$/;

/** Checks the host/token combination before anything is opened. */
function checkBinding(settings: LabelSettings): void {
  if (settings.token !== null && settings.token.length < MIN_TOKEN_LENGTH) {
    throw new UserError(`--token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. from: openssl rand -hex 16)`);
  }
  if (!isLoopbackHost(settings.host) && settings.token === null) {
    throw new UserError(`binding ${settings.host} lets other machines reach the page: give --token T (every request must then carry it)`);
  }
}

function send(res: ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    ...extra,
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), "application/json; charset=utf-8");
}

/** Everything the request handler needs. */
interface ServerContext {
  store: LabelStore;
  settings: LabelSettings;
  page: LabelPage;
  limiter: RateLimiter;
  port: () => number;
}

/** The refusal a request gets before routing, or null when it may go on. */
function guard(ctx: ServerContext, req: IncomingMessage, url: URL): Refusal | null {
  if (!ctx.limiter.allow(req.socket.remoteAddress ?? "?")) return { status: 429, message: "too many requests; slow down" };
  const token = ctx.settings.token;
  if (token !== null) {
    const given = requestToken(req, url);
    if (given === null || !tokenMatches(given, token)) return { status: 401, message: "missing or wrong token" };
  } else if (!loopbackHostNames(ctx.port()).has(req.headers.host ?? "")) {
    // Without a token only a loopback name may be used: a page served elsewhere cannot rebind its name to this port.
    return { status: 403, message: "unexpected Host header" };
  }
  const origin = req.headers.origin;
  if (req.method !== "GET" && origin !== undefined && origin !== `http://${req.headers.host ?? ""}`) {
    return { status: 403, message: "cross-origin request refused" };
  }
  return null;
}

function stateOf(store: LabelStore): Record<string, unknown> {
  return { file: basename(store.file), total: store.total, labelled: store.labelledCount, first: store.firstUnlabelled() };
}

function itemOf(store: LabelStore, index: number): Record<string, unknown> {
  const ranking = store.rankingOf(index);
  return { ...stateOf(store), ...store.items[index], ranking, scores: store.scoresOf(index), hasLabel: ranking !== null };
}

/** Saves or clears one label; the answer is sent only once both files are on disk. */
async function handleLabel(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, index: number): Promise<void> {
  if (req.method === "DELETE") {
    ctx.store.clearLabel(index);
    sendJson(res, 200, stateOf(ctx.store));
    return;
  }
  if (req.method !== "PUT") return sendJson(res, 405, { error: "use PUT or DELETE" });
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) {
    return sendJson(res, 415, { error: "send the ranking as application/json" });
  }
  let ranking: unknown;
  try {
    ranking = JSON.parse(await readBody(req, ctx.settings.max_body_bytes));
  } catch (err) {
    if (err instanceof BodyTooLarge) return sendJson(res, 413, { error: err.message });
    return sendJson(res, 400, { error: "body is not valid JSON" });
  }
  const problem = rankingProblem(ranking, ctx.store.items[index].responses.length);
  if (problem !== null) return sendJson(res, 400, { error: problem });
  ctx.store.setLabel(index, ranking as { order: number[]; ties: boolean[] });
  sendJson(res, 200, stateOf(ctx.store));
}

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://label.invalid");
  } catch {
    // A request target such as "//?" reads as a URL with an empty host and does not parse (found by fuzzing: it was a 500).
    return sendJson(res, 400, { error: "request path is not a valid URL path" });
  }
  const refusal = guard(ctx, req, url);
  if (refusal !== null) return sendJson(res, refusal.status, { error: refusal.message });
  const path = url.pathname;
  const item = ITEM_PATH.exec(path) ?? LABEL_PATH.exec(path);
  const index = item === null ? -1 : Number(item[1]);
  if (item !== null && index >= ctx.store.total) return sendJson(res, 404, { error: `no record ${index} (${ctx.store.total} records)` });
  if (path === "/" || path === "/index.html") {
    if (req.method !== "GET") return sendJson(res, 405, { error: "use GET" });
    return send(res, 200, ctx.page.html, "text/html; charset=utf-8", { "Content-Security-Policy": ctx.page.contentSecurityPolicy });
  }
  if (path === "/api/state" || ITEM_PATH.test(path)) {
    if (req.method !== "GET") return sendJson(res, 405, { error: "use GET" });
    return sendJson(res, 200, path === "/api/state" ? stateOf(ctx.store) : itemOf(ctx.store, index));
  }
  if (LABEL_PATH.test(path)) return handleLabel(ctx, req, res, index);
  sendJson(res, 404, { error: "not found" });
}

/** Opens FILE and starts serving its ranking page; resolves once listening. */
export async function startLabelServer(file: string, settings: LabelSettings): Promise<LabelServer> {
  checkBinding(settings);
  if (!existsSync(file)) throw new UserError(`${file}: no such file`);
  const unlock = lockLabelFile(file);
  try {
    return await serve(file, settings, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

/** Opens the store and listens; the caller holds the lock and releases it if this throws. */
async function serve(file: string, settings: LabelSettings, unlock: () => void): Promise<LabelServer> {
  removeStaleTemps(file);
  const store = LabelStore.open(file, { policyScoresField: settings.policy_scores });
  const server = createServer();
  const ctx: ServerContext = {
    store,
    settings,
    page: buildLabelPage(),
    limiter: new RateLimiter(settings.max_requests_per_second),
    port: () => (server.address() as AddressInfo).port,
  };
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.on("request", (req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      // A failed save (disk full, file removed) is the user's to see; the page shows the message and keeps the ranking.
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) sendJson(res, 500, { error: `not saved: ${message}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE" ? new UserError(`port ${settings.port} on ${settings.host} is in use; pick another with --port`) : err,
      ),
    );
    server.listen(settings.port, settings.host, resolve);
  });
  const port = ctx.port();
  const hostInUrl = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  const query = settings.token === null ? "" : `?token=${encodeURIComponent(settings.token)}`;
  return {
    url: `http://${hostInUrl}:${port}/${query}`,
    port,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          unlock();
          resolve();
        });
      }),
  };
}
