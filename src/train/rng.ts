/**
 * A small seeded PRNG (xoshiro128**) whose whole state is four 32-bit words,
 * so a checkpoint can store it as JSON and a resumed run draws exactly the
 * numbers the uninterrupted run would have drawn.
 *
 * @example
 * const rng = Rng.fromSeed(42);
 * const x = rng.nextFloat();           // in [0, 1)
 * const saved = rng.getState();        // { algorithm: "xoshiro128**", s: [...] }
 * const again = Rng.fromState(saved);  // continues the same sequence
 */
import { UserError } from "../errors.js";

export const RNG_ALGORITHM = "xoshiro128**";

/** Serialisable generator state (plain JSON). */
export interface RngState {
  algorithm: typeof RNG_ALGORITHM;
  /** Four unsigned 32-bit words, not all zero. */
  s: [number, number, number, number];
}

/** splitmix32 finaliser: spreads the bits of a seed over a whole word. */
function mix32(x: number): number {
  let t = (x + 0x9e3779b9) | 0;
  t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
  t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(words: readonly number[]) {
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w >>> 0);
    // xoshiro never leaves the all-zero state; make sure we never start there.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * A generator from an integer seed (0 <= seed < 2^53) and an optional
   * stream number; different streams of one seed give independent sequences
   * (used for per-epoch shuffles: stream = epoch).
   */
  static fromSeed(seed: number, stream = 0): Rng {
    for (const [what, v] of [
      ["seed", seed],
      ["stream", stream],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new UserError(`${what} must be a non-negative integer, got ${v}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const sLo = stream >>> 0;
    const sHi = Math.floor(stream / 2 ** 32) >>> 0;
    // Chain the finaliser over every input word so nearby seeds/streams diverge.
    let h = mix32(lo);
    h = mix32(h ^ hi);
    h = mix32(h ^ sLo);
    h = mix32(h ^ sHi);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      h = mix32(h + i);
      words.push(h);
    }
    return new Rng(words);
  }

  /** A generator continuing from a saved state; rejects malformed states. */
  static fromState(state: RngState): Rng {
    const ok =
      state !== null &&
      typeof state === "object" &&
      state.algorithm === RNG_ALGORITHM &&
      Array.isArray(state.s) &&
      state.s.length === 4 &&
      state.s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) &&
      state.s.some((w) => w !== 0);
    if (!ok) throw new UserError(`invalid RNG state: ${JSON.stringify(state)}`);
    return new Rng(state.s);
  }

  getState(): RngState {
    return { algorithm: RNG_ALGORITHM, s: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias; 1 <= n <= 2^32. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`nextInt: bad bound ${n}`);
    // Reject the top sliver of the 32-bit range that would favour small values.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal sample (Box-Muller; draws two uniforms, keeps no spare). */
  nextNormal(): number {
    const u1 = 1 - this.nextFloat(); // (0, 1], so log() is finite
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}
