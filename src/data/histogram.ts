/**
 * Exact percentiles of integer lengths with memory bounded by the number of
 * distinct values (not the number of samples), so token statistics over
 * millions of responses stay small.
 */
export class LengthHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private sum = 0;

  /** Records one length (a non-negative integer). */
  add(length: number): void {
    this.counts.set(length, (this.counts.get(length) ?? 0) + 1);
    this.total += 1;
    this.sum += length;
  }

  get count(): number {
    return this.total;
  }

  /** Mean length; null when empty. */
  mean(): number | null {
    return this.total === 0 ? null : this.sum / this.total;
  }

  /**
   * Nearest-rank percentile: the smallest length L such that at least
   * `p`% of the samples are <= L (p in (0, 100]). Null when empty.
   */
  percentile(p: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    const keys = [...this.counts.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const key of keys) {
      seen += this.counts.get(key) ?? 0;
      if (seen >= rank) return key;
    }
    return keys[keys.length - 1];
  }

  /** p50/p90/p99/max/mean in one object (nulls when empty). */
  summary(): LengthSummary {
    return {
      count: this.total,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.percentile(100),
      mean: this.mean(),
    };
  }
}

/**
 * Percentiles of a set of lengths (nearest-rank; null when there are none).
 *
 * @example
 * const { p50, p90, max } = report.tokens?.query ?? {}; // token lengths of the queries
 */
export interface LengthSummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}
