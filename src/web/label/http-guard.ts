/**
 * The checks every request to the label server passes before it is routed:
 * the token (constant-time), the Host header (so a web page elsewhere cannot
 * reach a loopback server by DNS rebinding), the Origin of writes, a rate
 * limit, and the body size limit.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** Addresses that only this machine can reach; binding any other needs a token. */
export function isLoopbackHost(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || host === "[::1]";
}

/** True when `given` equals `expected`, in time that does not depend on where they differ (nor on the length of `given`). */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request carries: `Authorization: Bearer T` or `?token=T`; null when none. */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers.authorization;
  if (typeof header === "string" && header.startsWith("Bearer ")) return header.slice("Bearer ".length);
  return url.searchParams.get("token");
}

/** Host header values that name this server on loopback (with its port). */
export function loopbackHostNames(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** A refused request: its status and the one-line reason sent back. */
export interface Refusal {
  status: number;
  message: string;
}

/** Counts requests per client in one-second windows; over the limit is refused with 429. */
export class RateLimiter {
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(private readonly perSecond: number) {}

  /** True when `client` may make one more request now. */
  allow(client: string, now: number = Date.now()): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.counts.clear();
    }
    const count = (this.counts.get(client) ?? 0) + 1;
    this.counts.set(client, count);
    return count <= this.perSecond;
  }
}

/** Thrown while reading a body that is too large. */
export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
}

/** Reads a request body of at most `limit` bytes (refused from Content-Length up front, or while streaming). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new BodyTooLarge(`request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge(`request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
