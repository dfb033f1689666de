/**
 * The request guards both HTTP servers (`rrhf serve`, `rrhf label`) share:
 * which bind addresses count as loopback, secrets compared in constant time,
 * and a per-client rate limit.
 *
 * @example
 * isLoopbackHost("127.0.0.2");           // true
 * tokenMatches("guess", "s3cret-token");  // false, in time independent of where they differ
 * new RateLimiter(2).allow("10.0.0.1");   // true (the first of at most 2 this second)
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** True for a loopback address or name (127.0.0.0/8, ::1, localhost): only this machine can reach it. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (h.startsWith("::ffff:")) return isLoopbackHost(h.slice(7));
  return isIP(h) === 4 && h.startsWith("127.");
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** True when `given` equals `expected`, in time that depends on neither where they differ nor the length of `given`. */
export function tokenMatches(given: string, expected: string): boolean {
  // Comparing digests gives timingSafeEqual equal lengths whatever was sent.
  return timingSafeEqual(digest(given), digest(expected));
}

/** Counts requests per client in one-second windows; over the limit is refused (429). */
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
