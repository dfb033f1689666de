/**
 * Fuzz target of `rrhf label`'s HTTP handling: random and mutated requests
 * (method, path, Host, Origin, token, Content-Type, body) sent to two real
 * label servers on 127.0.0.1 (one open on loopback, one with a token), plus
 * raw bytes on a bare socket. For every input:
 *
 * - the answer is one of the statuses the server documents (never 5xx), and
 *   every refusal carries a JSON `{error}`;
 * - nothing is served without the token (token server) or under a foreign
 *   Host name (open server);
 * - a valid ranking sent correctly is saved (200), and a 200 is only given to
 *   a valid ranking;
 * - FILE on disk always holds exactly the acknowledged labels (a model of the
 *   scores is kept beside it), keeps every record's query and responses, and
 *   the folder holds nothing but FILE, its sidecar and its lock;
 * - the server still answers afterwards.
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { basename, dirname, join } from "node:path";
import { resolveSettings } from "../../src/settings/index.js";
import { rankingProblem, scoresFromRanking, type Ranking } from "../../src/web/label/ranking.js";
import { type LabelServer, startLabelServer } from "../../src/web/label/server.js";
import { LABEL_SETTINGS } from "../../src/web/label/settings.js";
import { tempDir } from "../helpers.js";
import { writeLabelFile } from "../web/label-helpers.js";
import { expectCleanOutcome } from "./check.js";
import { jsonFileBytes, mutatedBytes } from "./mutate.js";
import type { FuzzTarget, PreparedTarget } from "./targets.js";

const TOKEN = "fuzz-token-0123456789abcdef";
const RECORDS = 3;
const RESPONSES = 3;
const MAX_BODY = 1024;
/** Statuses the server documents; anything else (5xx above all) is a finding. */
const DOCUMENTED = new Set([200, 400, 401, 403, 404, 405, 413, 415]);

/** What a refused ranking's message may start with (rankingProblem's fields, or the JSON parse). */
const RANKING_FIELDS = ["expected an object", "order", "ties", "body is not valid JSON"];
const LOOPBACK_CHOICES: readonly HostChoice[] = ["loopback", "localhost", "ipv6"];

type HostChoice = "loopback" | "localhost" | "ipv6" | "foreign" | "wrong-port" | "no-port";
type Auth = "none" | "bearer" | "bearer-wrong" | "query" | "query-wrong" | "both-wrong-header";

interface HttpInput {
  kind: "http";
  server: "open" | "token";
  method: string;
  path: string;
  host: HostChoice;
  auth: Auth;
  origin: "none" | "same" | "foreign";
  contentType: string | null;
  body: Uint8Array | null;
}

interface RawInput {
  kind: "raw";
  server: "open" | "token";
  bytes: Uint8Array;
}

type LabelInput = HttpInput | RawInput;

/** One running server, its file and the scores each record must have on disk. */
interface Served {
  server: LabelServer;
  file: string;
  original: string[];
  expected: number[][];
}

const validRanking = fc
  .shuffledSubarray([0, 1, 2], { minLength: RESPONSES, maxLength: RESPONSES })
  .chain((order) => fc.tuple(fc.boolean(), fc.boolean()).map(([a, b]): Ranking => ({ order, ties: [false, a, b] })));

const indexText = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: RECORDS + 1 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom("999999999", "1000000000", "-1", "01", "1e2", "0x1", "%30", "", "%201") },
);

const pathArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: indexText.map((i) => `/api/items/${i}/label`) },
  { weight: 2, arbitrary: indexText.map((i) => `/api/items/${i}`) },
  { weight: 1, arbitrary: fc.constantFrom("/", "/index.html", "/api/state", "/api/items", "/api/items/", "/API/STATE") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "/../../../../etc/passwd",
      "/api/items/0/../../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/api/items/0%2f..%2f..%2fd.jsonl",
      "//etc/passwd",
      "/d.jsonl",
      "/d.jsonl.labels.json",
      "/api/items/0/label/../../../../d.jsonl",
      "/%00",
      "/api/items/0/label%00",
    ),
  },
  { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)) },
);

const queryArbitrary = fc.oneof(
  { weight: 5, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) },
);

const bodyArbitrary: fc.Arbitrary<Uint8Array | null> = fc.oneof(
  { weight: 4, arbitrary: validRanking.map((r) => Buffer.from(JSON.stringify(r))) },
  { weight: 4, arbitrary: validRanking.chain((r) => jsonFileBytes(r)) },
  { weight: 2, arbitrary: validRanking.chain((r) => mutatedBytes(Buffer.from(JSON.stringify(r)))) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) },
  // Just over the body limit: must be 413, never parsed.
  { weight: 1, arbitrary: validRanking.map((r) => Buffer.from(JSON.stringify(r).padEnd(MAX_BODY + 10, " "))) },
);

const httpInput: fc.Arbitrary<HttpInput> = fc.record({
  kind: fc.constant("http" as const),
  server: fc.constantFrom("open" as const, "token" as const),
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("GET", "PUT", "DELETE") },
    { weight: 1, arbitrary: fc.constantFrom("POST", "PATCH", "OPTIONS", "HEAD", "TRACE") },
  ),
  path: fc.tuple(pathArbitrary, queryArbitrary).map(([p, q]) => p + q),
  host: fc.oneof(
    { weight: 6, arbitrary: fc.constant("loopback" as const) },
    { weight: 1, arbitrary: fc.constantFrom<HostChoice>("localhost", "ipv6", "foreign", "wrong-port", "no-port") },
  ),
  auth: fc.constantFrom<Auth>("none", "bearer", "bearer", "bearer-wrong", "query", "query-wrong", "both-wrong-header"),
  origin: fc.oneof(
    { weight: 4, arbitrary: fc.constant("none" as const) },
    { weight: 1, arbitrary: fc.constantFrom("same" as const, "foreign" as const) },
  ),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant("application/json") },
    {
      weight: 1,
      arbitrary: fc.constantFrom(null, "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", ""),
    },
  ),
  body: bodyArbitrary,
});

/** A valid request's text, mutated, or random bytes: sent as is on a bare socket. */
const rawInput: fc.Arbitrary<RawInput> = fc.record({
  kind: fc.constant("raw" as const),
  server: fc.constantFrom("open" as const, "token" as const),
  bytes: fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    mutatedBytes(
      Buffer.from(
        'PUT /api/items/0/label HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n{"order":[0,1,2],"ties":[false,false,true]}',
      ),
    ),
  ),
});

function hostHeader(choice: HostChoice, port: number): string {
  const table: Record<HostChoice, string> = {
    loopback: `127.0.0.1:${port}`,
    localhost: `localhost:${port}`,
    ipv6: `[::1]:${port}`,
    foreign: `attacker.example:${port}`,
    "wrong-port": `127.0.0.1:${port === 1 ? 2 : 1}`,
    "no-port": "127.0.0.1",
  };
  return table[choice];
}

/** The path and headers a request carries for its auth choice. */
function withAuth(input: HttpInput, port: number): { path: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { Host: hostHeader(input.host, port) };
  let path = input.path;
  const join = (q: string): string => (path.includes("?") ? `${path}&${q}` : `${path}?${q}`);
  if (input.auth === "bearer") headers.Authorization = `Bearer ${TOKEN}`;
  if (input.auth === "bearer-wrong") headers.Authorization = `Bearer ${TOKEN}x`;
  if (input.auth === "query") path = join(`token=${TOKEN}`);
  if (input.auth === "query-wrong") path = join("token=guess");
  if (input.auth === "both-wrong-header") {
    headers.Authorization = "Bearer nope";
    path = join(`token=${TOKEN}`);
  }
  if (input.origin === "same") headers.Origin = `http://${headers.Host}`;
  if (input.origin === "foreign") headers.Origin = "http://attacker.example";
  if (input.contentType !== null) headers["Content-Type"] = input.contentType;
  if (input.body !== null) headers["Content-Length"] = String(input.body.length);
  return { path, headers };
}

interface Reply {
  status: number;
  body: string;
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body: Uint8Array | null): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    let answered = false;
    req.on("response", () => {
      answered = true;
    });
    // A server may answer (413, 401, ...) and close before the whole body is written: that alone is not a failure,
    // but a connection closed with no answer at all is.
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
    });
    req.on("close", () => {
      if (!answered) reject(new Error(`${method} ${path}: connection closed with no answer`));
    });
    req.end(body ?? undefined);
  });
}

/** The token the server reads from the request (header first), as requestToken does, or null. */
function tokenCarried(input: HttpInput): string | null {
  if (input.auth === "bearer") return TOKEN;
  if (input.auth === "bearer-wrong") return `${TOKEN}x`;
  if (input.auth === "both-wrong-header") return "nope";
  if (input.auth === "query") return TOKEN;
  if (input.auth === "query-wrong") return "guess";
  return null;
}

function parsablePath(path: string): boolean {
  try {
    new URL(path, "http://x");
    return true;
  } catch {
    return false;
  }
}

/** The record index when the request is exactly a label route of a record, else null. */
function labelTarget(input: HttpInput): number | null {
  // The same reading of the path as the server's (WHATWG URL: dot segments resolved, percent escapes kept).
  let pathname: string;
  try {
    pathname = new URL(input.path, "http://x").pathname;
  } catch {
    return null;
  }
  const m = /^\/api\/items\/(\d{1,9})\/label$/.exec(pathname);
  if (m === null) return null;
  const index = Number(m[1]);
  return index < RECORDS ? index : null;
}

function checkReply(input: HttpInput, reply: Reply, served: Served): void {
  if (!DOCUMENTED.has(reply.status)) throw new Error(`status ${reply.status}: ${reply.body}`);
  if (reply.status !== 200 && input.method !== "HEAD") {
    const parsed = JSON.parse(reply.body) as { error?: unknown };
    if (typeof parsed.error !== "string") throw new Error(`refusal without {error}: ${reply.body}`);
  }
  // The token server reads the token only; the open one only answers to a loopback Host name.
  const authorised = input.server === "token" ? tokenCarried(input) === TOKEN : LOOPBACK_CHOICES.includes(input.host);
  // An unparsable path is refused (400) before anything else is looked at; that reveals nothing either.
  const refusedEarly = reply.status === 400 && !parsablePath(input.path);
  if (!authorised && reply.status !== 401 && reply.status !== 403 && !refusedEarly) {
    throw new Error(`unauthorised request answered ${reply.status}`);
  }
  const index = labelTarget(input);
  const sameOrigin = input.origin !== "foreign";
  const bodyText = input.body === null ? "" : Buffer.from(input.body).toString("utf8");
  let ranking: unknown = null;
  try {
    ranking = JSON.parse(bodyText);
  } catch {
    ranking = undefined;
  }
  const valid = ranking !== undefined && rankingProblem(ranking, RESPONSES) === null && (input.body?.length ?? 0) <= MAX_BODY;
  const jsonType = (input.contentType ?? "").startsWith("application/json");
  if (input.method === "PUT" && index !== null && reply.status === 200) {
    if (!valid || !jsonType) throw new Error(`saved a ranking the server should refuse: ${bodyText}`);
    served.expected[index] = scoresFromRanking(ranking as Ranking);
  }
  if (input.method === "DELETE" && index !== null && reply.status === 200) served.expected[index] = originalScores(served, index);
  if (
    input.method === "PUT" &&
    index !== null &&
    reply.status === 400 &&
    !RANKING_FIELDS.some((f) => JSON.parse(reply.body).error.startsWith(f))
  ) {
    throw new Error(`a refused ranking's message names no field: ${reply.body}`);
  }
  const allowed = index !== null && authorised && sameOrigin;
  if (allowed && input.method === "PUT" && valid && jsonType && reply.status !== 200) {
    throw new Error(`a valid ranking was refused (${reply.status}): ${reply.body}`);
  }
  if (allowed && input.method === "DELETE" && reply.status !== 200) throw new Error(`a clear was refused (${reply.status}): ${reply.body}`);
}

function originalScores(served: Served, index: number): number[] {
  return (JSON.parse(served.original[index]) as { scores: number[] }).scores;
}

/** FILE holds every record unchanged but for the acknowledged scores; the folder holds nothing else. */
function checkDisk(served: Served): void {
  const lines = readFileSync(served.file, "utf8").trim().split("\n");
  if (lines.length !== RECORDS) throw new Error(`FILE has ${lines.length} records, expected ${RECORDS}`);
  lines.forEach((line, i) => {
    const now = JSON.parse(line) as Record<string, unknown>;
    const was = JSON.parse(served.original[i]) as Record<string, unknown>;
    if (JSON.stringify({ ...now, scores: null }) !== JSON.stringify({ ...was, scores: null }))
      throw new Error(`record ${i} changed beyond its scores: ${line}`);
    if (JSON.stringify(now.scores) !== JSON.stringify(served.expected[i])) {
      throw new Error(`record ${i} scores ${JSON.stringify(now.scores)} on disk, acknowledged ${JSON.stringify(served.expected[i])}`);
    }
  });
  const name = basename(served.file);
  const allowedNames = [name, `${name}.labels.json`, `${name}.labels.lock`];
  const extra = readdirSync(dirname(served.file)).filter((f) => !allowedNames.includes(f));
  if (extra.length > 0) throw new Error(`unexpected files beside FILE: ${extra.join(", ")}`);
}

/** Writes raw bytes on a socket and waits for the server to answer or close (a second at most). */
function sendRaw(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const timer = setTimeout(() => socket.destroy(), 1000);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on("data", () => undefined);
    socket.end(bytes);
  });
}

async function startServed(withToken: boolean): Promise<Served> {
  const file = join(tempDir("rrhf-fuzz-label-"), "d.jsonl");
  writeLabelFile(file, RECORDS, RESPONSES);
  const original = readFileSync(file, "utf8").trim().split("\n");
  const settings = {
    ...resolveSettings(LABEL_SETTINGS, { port: 0, max_body_bytes: MAX_BODY }, "flags"),
    token: withToken ? TOKEN : null,
    // The rate limit is tested on its own (label-server.test.ts); here it would only turn inputs into 429s.
    max_requests_per_second: 1_000_000_000,
  };
  const server = await startLabelServer(file, settings);
  return { server, file, original, expected: original.map((l) => (JSON.parse(l) as { scores: number[] }).scores) };
}

async function handle(input: LabelInput, servers: Record<"open" | "token", Served>): Promise<void> {
  const served = servers[input.server];
  const port = served.server.port;
  if (input.kind === "raw") {
    await sendRaw(port, input.bytes);
  } else {
    const { path, headers } = withAuth(input, port);
    const reply = await send(port, input.method, path, headers, input.body);
    checkReply(input, reply, served);
  }
  checkDisk(served);
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}` };
  if (served === servers.token) headers.Authorization = `Bearer ${TOKEN}`;
  const alive = await send(port, "GET", "/api/state", headers, null);
  if (alive.status !== 200) throw new Error(`server no longer answers: ${alive.status} ${alive.body}`);
}

export function labelRequestTarget(): FuzzTarget {
  return {
    name: "label-request",
    covers: "`rrhf label`'s HTTP handling (src/web/label/server.ts, http-guard.ts, ranking.ts, store.ts): one request to a live server",
    ciRuns: 300,
    prepare: async () => {
      const servers = { open: await startServed(false), token: await startServed(true) };
      const arbitrary = fc.oneof({ weight: 9, arbitrary: httpInput }, { weight: 1, arbitrary: rawInput });
      return {
        arbitrary,
        check: (input: LabelInput) => expectCleanOutcome(() => handle(input, servers), []),
        dispose: async () => {
          await servers.open.server.close();
          await servers.token.server.close();
        },
      } as PreparedTarget<unknown>;
    },
  };
}
