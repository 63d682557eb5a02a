/**
 * Reconnect delays: full jitter under an exponential bound, capped; refusals wait at the cap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, slowRetryDelayMs } from '../../src/binds/backoff.js';

const policy = { initialDelayMs: 1_000, maxDelayMs: 60_000 };
/** The largest value Math.random can return. */
const ALMOST_ONE = 1 - 2 ** -53;

describe('backoffDelayMs', () => {
  it('the bound doubles from initialDelayMs with each attempt, up to maxDelayMs', () => {
    const bounds = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((a) => backoffDelayMs(policy, a, () => ALMOST_ONE) + 1);
    expect(bounds).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('full jitter: random 0 gives 0, random 0.5 gives half the bound', () => {
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(4_000);
  });

  it('never overflows or leaves the cap for huge attempt numbers', () => {
    for (const attempt of [31, 100, 1_000, Number.MAX_SAFE_INTEGER]) {
      const d = backoffDelayMs(policy, attempt, () => ALMOST_ONE);
      expect(d).toBe(59_999);
    }
  });

  it('property: an integer in [0, min(cap, initial × 2^attempt))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 0, max: 200 }),
        fc.double({ min: 0, max: ALMOST_ONE, noNaN: true }),
        (initialDelayMs, maxDelayMs, attempt, r) => {
          const d = backoffDelayMs({ initialDelayMs, maxDelayMs }, attempt, () => r);
          const bound = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(bound);
        },
      ),
    );
  });

  it('with Math.random, 10,000 draws spread over the whole range (no clustering at the bound)', () => {
    const draws = Array.from({ length: 10_000 }, () => backoffDelayMs(policy, 2));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(Math.min(...draws)).toBeLessThan(200);
    expect(Math.max(...draws)).toBeGreaterThan(3_800);
    expect(mean).toBeGreaterThan(1_800);
    expect(mean).toBeLessThan(2_200);
  });
});

describe('slowRetryDelayMs', () => {
  it('waits 90–100 % of the cap', () => {
    expect(slowRetryDelayMs(policy, () => 0)).toBe(54_000);
    expect(slowRetryDelayMs(policy, () => 0.5)).toBe(57_000);
    expect(slowRetryDelayMs(policy, () => ALMOST_ONE)).toBeLessThanOrEqual(60_000);
    expect(slowRetryDelayMs(policy, () => 0.999)).toBe(59_994);
  });

  it('property: within [0.9 × cap, cap] whatever the random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: ALMOST_ONE, noNaN: true }),
        (maxDelayMs, r) => {
          const d = slowRetryDelayMs({ initialDelayMs: 1, maxDelayMs }, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.floor(maxDelayMs * 0.9));
          expect(d).toBeLessThanOrEqual(maxDelayMs);
        },
      ),
    );
  });
});
