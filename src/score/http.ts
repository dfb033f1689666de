/**
 * The HTTP scorer (`http://HOST:PORT/PATH` or `https://...`). Protocol, one
 * request per prompt:
 *
 *     POST <url>   Content-Type: application/json
 *     {"query": "...", "responses": ["...", "..."]}
 *     → 200 {"scores": [1.5, -0.2]}
 *
 * A conversation record sends `"messages": [...]` in place of `"query"`, and a
 * record with an `answer` field also sends `"answer"`. The reply must be a
 * JSON object whose `scores` holds one finite number per response. A
 * timeout, a refused or reset connection, 429 and any 5xx are retried with
 * exponential backoff (a `Retry-After` header in seconds wins); any other
 * status, or a reply that breaks the protocol, fails at once with the
 * server's words.
 */
import { UserError } from "../errors.js";
import { scoresProblem, type ScoreItem, type Scorer } from "./scorer.js";

/** Timeouts and retries of the HTTP scorer, in seconds. */
export interface HttpScorerOptions {
  timeout: number;
  retries: number;
  retryDelay: number;
}

/** The JSON body of one request. */
export function requestBody(item: ScoreItem): Record<string, unknown> {
  const body: Record<string, unknown> = item.messages !== undefined ? { messages: item.messages } : { query: item.query };
  body.responses = item.responses;
  if (item.answer !== undefined) body.answer = item.answer;
  return body;
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

const sleep = (seconds: number): Promise<void> => new Promise((done) => setTimeout(done, seconds * 1000));

function retryAfterSeconds(header: string | null): number | null {
  if (header === null) return null;
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

async function postOnce(url: string, item: ScoreItem, timeout: number): Promise<number[]> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(requestBody(item)),
      signal: AbortSignal.timeout(timeout * 1000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === "TimeoutError" ? `no reply within ${timeout} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new RetryableError(why);
  }
  const text = await res.text().catch(() => "");
  if (res.status === 429 || res.status >= 500) {
    throw new RetryableError(`HTTP ${res.status} ${text.slice(0, 200)}`.trim(), retryAfterSeconds(res.headers.get("retry-after")));
  }
  if (!res.ok) throw new UserError(`scorer ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(`scorer ${url}: the reply is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const scores = typeof parsed === "object" && parsed !== null ? (parsed as { scores?: unknown }).scores : undefined;
  const problem = scoresProblem(scores, item.responses.length);
  if (problem !== null) throw new UserError(`scorer ${url}: bad reply (expected {"scores": [...]}): ${problem}`);
  return scores as number[];
}

async function postWithRetries(url: string, item: ScoreItem, opts: HttpScorerOptions): Promise<number[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await postOnce(url, item, opts.timeout);
    } catch (err) {
      if (!(err instanceof RetryableError)) throw err;
      if (attempt >= opts.retries) {
        throw new UserError(`scorer ${url}: failed after ${attempt + 1} attempt(s): ${err.message}`);
      }
      await sleep(err.retryAfter ?? opts.retryDelay * 2 ** attempt);
    }
  }
}

/**
 * A scorer that POSTs each prompt to `url` (see the protocol above).
 *
 * @example
 * const scorer = createHttpScorer("http://127.0.0.1:8080/score", { timeout: 30, retries: 3, retryDelay: 0.5 });
 * await scorer.score([{ query: "Hi", responses: ["Hello", "Go away"] }]);
 */
export function createHttpScorer(url: string, opts: HttpScorerOptions): Scorer {
  try {
    new URL(url);
  } catch {
    throw new UserError(`scorer ${url}: not a valid URL`);
  }
  return {
    spec: url,
    score: async (items) => {
      const out: number[][] = [];
      for (const item of items) out.push(await postWithRetries(url, item, opts));
      return out;
    },
    close: () => Promise.resolve(),
  };
}
