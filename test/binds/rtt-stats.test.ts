/**
 * RttStats: nearest-rank percentiles over a fixed ring of the most recent samples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RttStats } from '../../src/binds/rtt-stats.js';

function statsOf(samples: number[], capacity = samples.length || 1): RttStats {
  const s = new RttStats(capacity);
  for (const x of samples) s.add(x);
  return s;
}

describe('RttStats', () => {
  it('is empty (all null) before any sample', () => {
    expect(new RttStats(8).summary()).toEqual({
      count: 0,
      min: null,
      mean: null,
      p50: null,
      p90: null,
      p99: null,
      max: null,
    });
  });

  it('one sample is every statistic', () => {
    expect(statsOf([0.412], 8).summary()).toEqual({
      count: 1,
      min: 0.412,
      mean: 0.412,
      p50: 0.412,
      p90: 0.412,
      p99: 0.412,
      max: 0.412,
    });
  });

  it('nearest rank on 1..100 (added shuffled): p50 = 50, p90 = 90, p99 = 99', () => {
    const samples = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    expect(statsOf(samples).summary()).toEqual({
      count: 100,
      min: 1,
      mean: 50.5,
      p50: 50,
      p90: 90,
      p99: 99,
      max: 100,
    });
  });

  it('nearest rank on 1..10: p50 = 5, p90 = 9, p99 = 10', () => {
    const s = statsOf([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]).summary();
    expect([s.p50, s.p90, s.p99]).toEqual([5, 9, 10]);
  });

  it('sorts numerically, not as text (10 after 9)', () => {
    const s = statsOf([9, 10, 100, 2]).summary();
    expect(s.min).toBe(2);
    expect(s.max).toBe(100);
    expect(s.p50).toBe(9);
  });

  it('the ring keeps only the last `capacity` samples once it wraps', () => {
    const s = new RttStats(4);
    for (const x of [1000, 2000, 3000, 1, 2, 3, 4]) s.add(x);
    expect(s.count).toBe(4);
    expect(s.summary()).toMatchObject({ count: 4, min: 1, max: 4, mean: 2.5 });
    // Wrapping several times over.
    for (let i = 0; i < 1_001; i++) s.add(500 + (i % 7));
    const after = s.summary();
    expect(after.count).toBe(4);
    expect(after.min).toBeGreaterThanOrEqual(500);
  });

  it('summary() does not reorder the ring: later samples still replace the oldest', () => {
    const s = new RttStats(3);
    s.add(30);
    s.add(10);
    s.add(20);
    s.summary();
    s.add(5); // replaces 30 (the oldest), not the smallest or largest
    expect(s.summary()).toMatchObject({ min: 5, max: 20 });
  });

  it('capacity 0 or less behaves as 1', () => {
    const s = new RttStats(0);
    s.add(3);
    s.add(7);
    expect(s.summary()).toMatchObject({ count: 1, min: 7, max: 7 });
  });

  it('property: matches a sort of the last `capacity` samples', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 300 }),
        (capacity, samples) => {
          const s = statsOf(samples, capacity).summary();
          const last = samples.slice(-capacity).sort((a, b) => a - b);
          expect(s.count).toBe(last.length);
          if (last.length === 0) return;
          const rank = (p: number) => last[Math.max(0, Math.ceil((p / 100) * last.length) - 1)];
          expect(s.min).toBe(last[0]);
          expect(s.max).toBe(last.at(-1));
          expect(s.p50).toBe(rank(50));
          expect(s.p90).toBe(rank(90));
          expect(s.p99).toBe(rank(99));
          expect(s.mean).toBeCloseTo(last.reduce((a, b) => a + b, 0) / last.length, 6);
        },
      ),
    );
  });
});
