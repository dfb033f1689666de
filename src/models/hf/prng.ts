/**
 * A small seeded random number generator, reproducible byte for byte:
 * xoshiro128** (Blackman & Vigna) on 32-bit integer arithmetic, its state
 * filled from the seed by splitmix32, and Box–Muller for normal samples.
 * Integer steps are exact everywhere; `Math.log`, `Math.cos`, `Math.sin` in
 * V8 are its own fdlibm port, so normals match across machines too.
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /** `seed`: an integer in [0, 2^32). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    let x = seed >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const rotl = (v: number, k: number): number => (v << k) | (v >>> (32 - k));
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1]: never 0, so it is safe under a logarithm. */
  nextUnitOpen0(): number {
    return (this.nextUint32() + 1) / 4294967296;
  }

  /** A standard normal sample (Box–Muller; the second value of each pair is kept for the next call). */
  nextNormal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextUnitOpen0()));
    const theta = 2 * Math.PI * (this.nextUint32() / 4294967296);
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}
