/**
 * The token bucket that paces `loadtest`: on plain numbers (a fake time line), tokens come evenly
 * at the rate, the first one at once, and a stall is caught up by at most the burst.
 */
import { describe, expect, it } from 'vitest';
import { defaultBurst, TokenBucket } from '../../src/cli/pacer.js';

/** Drives a bucket as the send loop does: wake at nextAt, take what is there. Returns send times. */
function drive(bucket: TokenBucket, from: number, until: number): number[] {
  const sent: number[] = [];
  let now = from;
  while (now < until) {
    const n = bucket.take(now);
    for (let i = 0; i < n; i++) sent.push(now);
    now = bucket.nextAt(now);
  }
  return sent;
}

describe('TokenBucket', () => {
  it('gives 100 tokens a second one at a time, 10 ms apart, the first at once', () => {
    const bucket = new TokenBucket(100, defaultBurst(100), 0);
    const sent = drive(bucket, 0, 1_000);
    expect(sent).toHaveLength(100);
    expect(sent[0]).toBe(0);
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeCloseTo(10, 6);
  });

  it('spreads fractional and high rates evenly: 0.5/s every 2 s, 5000/s as 5 per ms', () => {
    const slow = new TokenBucket(0.5, 1, 0);
    expect(drive(slow, 0, 10_000)).toEqual([0, 2_000, 4_000, 6_000, 8_000]);
    const fast = new TokenBucket(5_000, 5, 0);
    let total = fast.take(0);
    for (let t = 1; t <= 1_000; t++) {
      const n = fast.take(t);
      expect(n).toBe(5);
      total += n;
    }
    expect(total).toBe(5_001);
  });

  it('after a stall, catches up by at most the burst instead of the backlog', () => {
    const bucket = new TokenBucket(1_000, defaultBurst(1_000), 0);
    expect(defaultBurst(1_000)).toBe(50);
    bucket.take(0);
    // 500 ms of a blocked event loop: 500 tokens were due; 50 go out.
    expect(bucket.take(500)).toBe(50);
    expect(bucket.take(500)).toBe(0);
    expect(bucket.nextAt(500)).toBeCloseTo(501, 6);
  });

  it('takes at most `max`, keeping the rest; time going backwards adds nothing', () => {
    const bucket = new TokenBucket(100, 10, 0);
    bucket.take(0);
    expect(bucket.take(100, 3)).toBe(3);
    expect(bucket.take(100)).toBe(7);
    expect(bucket.take(50)).toBe(0);
    expect(bucket.nextAt(100)).toBeCloseTo(110, 6);
  });

  it('refuses a rate of 0 and a burst below 1', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(10, 0.5, 0)).toThrow(RangeError);
  });
});
