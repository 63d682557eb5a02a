/**
 * Webhook retries: the Standard Webhooks schedule with jitter, Retry-After, 410 disables, other 4xx
 * get one more try.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  decideDelivery,
  parseRetryAfterMs,
  STANDARD_SCHEDULE_MS,
  scheduledDelayMs,
} from '../../src/webhooks/retry-schedule.js';

const NOW = Date.parse('2026-12-07T00:00:00Z');
const mid = () => 0.5;
const first = { attempt: 1, refusals: 0 };
const H = 3_600_000;

describe('decideDelivery', () => {
  it('2xx is success', () => {
    for (const status of [200, 202, 204, 299]) {
      expect(decideDelivery({ kind: 'response', status }, first, NOW)).toEqual({ action: 'success' });
    }
  });

  it('5xx, 429, 408, timeouts and network errors follow the schedule: 5 s, 5 min, 30 min, 2 h … 24 h', () => {
    const delays = STANDARD_SCHEDULE_MS.map((_, i) => {
      const d = decideDelivery(
        { kind: 'response', status: 503 },
        { attempt: i + 1, refusals: 0 },
        NOW,
        DEFAULT_RETRY_POLICY,
        mid,
      );
      return d.action === 'retry' ? d.delayMs : d.action;
    });
    expect(delays).toEqual([5_000, 300_000, 1_800_000, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H]);
    for (const r of [
      { kind: 'timeout' },
      { kind: 'network_error' },
      { kind: 'response', status: 429 },
      { kind: 'response', status: 408 },
    ] as const) {
      expect(decideDelivery(r, first, NOW, DEFAULT_RETRY_POLICY, mid)).toMatchObject({
        action: 'retry',
        delayMs: 5_000,
      });
    }
  });

  it('after the tenth attempt the message is dead', () => {
    expect(decideDelivery({ kind: 'timeout' }, { attempt: 10, refusals: 0 }, NOW)).toMatchObject({
      action: 'dead',
    });
  });

  it('jitter spreads each delay ±20 %', () => {
    expect(scheduledDelayMs(DEFAULT_RETRY_POLICY, 1, () => 0)).toBe(4_000);
    expect(scheduledDelayMs(DEFAULT_RETRY_POLICY, 1, () => 0.999_999)).toBe(6_000);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0, max: 1 - 2 ** -53, noNaN: true }),
        (attempt, r) => {
          const base = STANDARD_SCHEDULE_MS[attempt - 1]!;
          const d = scheduledDelayMs(DEFAULT_RETRY_POLICY, attempt, () => r)!;
          expect(d).toBeGreaterThanOrEqual(base * 0.8 - 1);
          expect(d).toBeLessThanOrEqual(base * 1.2 + 1);
        },
      ),
    );
  });

  it('Retry-After (seconds or HTTP date) replaces the scheduled delay, clamped to 1 s … 24 h', () => {
    const at = (retryAfter: string, status = 503) =>
      decideDelivery({ kind: 'response', status, retryAfter }, first, NOW, DEFAULT_RETRY_POLICY, mid);
    expect(at('120')).toMatchObject({ action: 'retry', delayMs: 120_000 });
    expect(at('120', 429)).toMatchObject({ delayMs: 120_000 });
    expect(at(new Date(NOW + 90_000).toUTCString())).toMatchObject({ delayMs: 90_000 });
    expect(at('0')).toMatchObject({ delayMs: 1_000 });
    expect(at('999999999')).toMatchObject({ delayMs: 24 * H });
    expect(at('soon')).toMatchObject({ delayMs: 5_000 });
  });

  it('410 disables the endpoint', () => {
    expect(decideDelivery({ kind: 'response', status: 410 }, first, NOW)).toMatchObject({
      action: 'disable_endpoint',
    });
  });

  it('other 4xx: one more try, then dead', () => {
    for (const status of [400, 401, 403, 404, 422, 301]) {
      expect(
        decideDelivery({ kind: 'response', status }, first, NOW, DEFAULT_RETRY_POLICY, mid),
      ).toMatchObject({
        action: 'retry',
        delayMs: 5_000,
      });
      expect(decideDelivery({ kind: 'response', status }, { attempt: 2, refusals: 1 }, NOW)).toMatchObject({
        action: 'dead',
      });
    }
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delay-seconds and HTTP dates; past dates are 0; junk is undefined', () => {
    expect(parseRetryAfterMs(' 5 ', NOW)).toBe(5_000);
    expect(parseRetryAfterMs('Mon, 07 Dec 2026 00:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfterMs('Sun, 06 Dec 2026 00:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfterMs('2026-12-07T00:01:00Z', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-5', NOW)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
  });
});
