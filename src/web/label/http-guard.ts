/**
 * The checks every request to the label server passes before it is routed:
 * the token (constant-time), the Host header (so a web page elsewhere cannot
 * reach a loopback server by DNS rebinding), the Origin of writes, a rate
 * limit, and the body size limit.
 */
import type { IncomingMessage } from "node:http";

export { isLoopbackHost, RateLimiter, tokenMatches } from "../../io/http-guard.js";

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
