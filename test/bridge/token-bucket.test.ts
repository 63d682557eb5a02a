/**
 * The per-bind TPS token bucket, on a simulated clock: PDUs admitted over any window never exceed
 * rate × window + burst, and full demand gets the configured rate.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkBucketConfig,
  defaultBurst,
  newBucket,
  type TokenBucketConfig,
  type TokenBucketState,
  take,
} from '../../src/bridge/token-bucket.js';

/** A sender at full demand over [0, durationMs]: takes one token, or sleeps exactly what the bucket says. */
function fullDemand(config: TokenBucketConfig, durationMs: number, perTake = 1): number[] {
  const admitted: number[] = [];
  let state: TokenBucketState = newBucket(config, 0);
  let now = 0;
  while (now <= durationMs) {
    const r = take(state, config, perTake, now);
    state = r.state;
    if (r.ok) for (let i = 0; i < perTake; i++) admitted.push(now);
    else now += r.waitMs;
  }
  return admitted;
}

describe('token bucket', () => {
  it('a new bucket grants the burst at once, then makes the caller wait 1000/rate ms per token', () => {
    const config = { ratePerSecond: 10, burst: 3 };
    let s = newBucket(config, 0);
    for (let i = 0; i < 3; i++) {
      const r = take(s, config, 1, 0);
      expect(r.ok).toBe(true);
      s = r.state;
    }
    const r = take(s, config, 1, 0);
    expect(r).toMatchObject({ ok: false, waitMs: 100 });
    expect(take(r.state, config, 1, 99).ok).toBe(false);
    expect(take(r.state, config, 1, 100).ok).toBe(true);
  });

  it('takes n tokens at once for a multi-part message, and counts every PDU', () => {
    const config = { ratePerSecond: 5, burst: 6 };
    const r = take(newBucket(config, 0), config, 6, 0);
    expect(r.ok).toBe(true);
    const again = take(r.state, config, 2, 0);
    expect(again).toMatchObject({ ok: false, waitMs: 400 });
  });

  it('a clock that steps back mints no tokens', () => {
    const config = { ratePerSecond: 1, burst: 1 };
    const first = take(newBucket(config, 10_000), config, 1, 10_000);
    const back = take(first.state, config, 1, 5_000);
    expect(back.ok).toBe(false);
    expect(take(back.state, config, 1, 10_999).ok).toBe(false);
    expect(take(back.state, config, 1, 11_000).ok).toBe(true);
  });

  it('refuses configs and takes that can never work', () => {
    expect(() => checkBucketConfig({ ratePerSecond: 0, burst: 1 })).toThrow(/tps/);
    expect(() => checkBucketConfig({ ratePerSecond: 10, burst: 0.5 })).toThrow(/burst/);
    expect(() =>
      take(newBucket({ ratePerSecond: 1, burst: 2 }, 0), { ratePerSecond: 1, burst: 2 }, 3, 0),
    ).toThrow();
  });

  it('full demand over a simulated 10 s gets the configured rate within 5 %', () => {
    for (const config of [
      { ratePerSecond: 1, burst: 1 },
      { ratePerSecond: 30, burst: 5 },
      { ratePerSecond: 50, burst: 1 },
      { ratePerSecond: 300, burst: 6 },
      { ratePerSecond: 333.3, burst: 10 },
      { ratePerSecond: 2_500, burst: 50 },
    ]) {
      const n = fullDemand(config, 10_000).length;
      const rateHeld = (n - config.burst) / 10;
      expect(Math.abs(rateHeld - config.ratePerSecond) / config.ratePerSecond).toBeLessThanOrEqual(0.05);
    }
  });

  it('property: over any window, admitted ≤ rate × window + burst; and full demand is within 5 % of the rate', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 2_000, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 3 })), {
          maxLength: 300,
        }),
        (ratePerSecond, burst, demand) => {
          const config = { ratePerSecond, burst };
          let state = newBucket(config, 0);
          let now = 0;
          const admitted: number[] = [];
          for (const [gapMs, n] of demand) {
            now += gapMs;
            const r = take(state, config, Math.min(n, burst), now);
            state = r.state;
            if (r.ok) for (let i = 0; i < Math.min(n, burst); i++) admitted.push(now);
          }
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              const windowMs = admitted[j]! - admitted[i]!;
              expect(j - i + 1).toBeLessThanOrEqual((ratePerSecond * windowMs) / 1000 + burst + 1e-9);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 5_000, noNaN: true }),
        fc.integer({ min: 0, max: 20 }),
        (ratePerSecond, extraBurst) => {
          const burst = defaultBurst(ratePerSecond) + extraBurst;
          const admitted = fullDemand({ ratePerSecond, burst }, 10_000);
          // Never above the bound; at least 95 % of the rate over the 10 s (the burst aside, and less
          // one PDU: whole PDUs only).
          expect(admitted.length).toBeLessThanOrEqual(ratePerSecond * 10 + burst + 1e-9);
          expect(admitted.length - burst).toBeGreaterThanOrEqual(0.95 * ratePerSecond * 10 - 1);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('burst 1 at a high rate loses rate to 1 ms wake-ups: why defaultBurst grows with the rate', () => {
    const slow = fullDemand({ ratePerSecond: 300, burst: 1 }, 10_000).length;
    expect(slow).toBeLessThan(0.9 * 3_000);
    expect(defaultBurst(300)).toBe(6);
    expect(defaultBurst(10)).toBe(1);
  });
});
