/**
 * Round-trip times of the most recent probes, in a fixed ring (no growth, no allocation per
 * sample), and their summary statistics computed on demand.
 */
export interface RttSummary {
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export class RttStats {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  /** The summary since the last sample: health reads outnumber probes, so sort once per sample. */
  private cached: RttSummary | null = null;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(Math.max(1, capacity));
  }

  add(rttMs: number): void {
    this.ring[this.next] = rttMs;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
    this.cached = null;
  }

  get count(): number {
    return this.filled;
  }

  summary(): RttSummary {
    if (this.cached) return this.cached;
    this.cached = this.compute();
    return this.cached;
  }

  private compute(): RttSummary {
    const n = this.filled;
    if (n === 0) return { count: 0, min: null, mean: null, p50: null, p90: null, p99: null, max: null };
    const sorted = this.ring.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    // Nearest-rank percentile: the smallest sample with at least p % of samples at or below it.
    const rank = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
    return {
      count: n,
      min: sorted[0]!,
      mean: sum / n,
      p50: rank(50),
      p90: rank(90),
      p99: rank(99),
      max: sorted[n - 1]!,
    };
  }
}
