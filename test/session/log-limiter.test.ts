import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import { admitOccurrence, LogRateLimiter } from '../../src/session/log-limiter.js';

function recorder(): { lines: [Record<string, unknown>, string][]; logger: Logger } {
  const lines: [Record<string, unknown>, string][] = [];
  const warn = (obj: object | string, msg?: string) => {
    lines.push(typeof obj === 'string' ? [{}, obj] : [obj as Record<string, unknown>, msg ?? '']);
  };
  const noop = () => {};
  const logger: Logger = { trace: noop, debug: noop, info: noop, warn, error: noop, child: () => logger };
  return { lines, logger };
}

describe('admitOccurrence', () => {
  it('the first is logged; within the interval counted; after it logged with the count', () => {
    expect(admitOccurrence(undefined, 10, 0)).toBe(0);
    const slot = { lastAt: 0, suppressed: 0 };
    expect(admitOccurrence(slot, 10, 5)).toBe(-1);
    expect(admitOccurrence(slot, 10, 9)).toBe(-1);
    expect(slot.suppressed).toBe(2);
    expect(admitOccurrence(slot, 10, 10)).toBe(2);
    expect(slot).toEqual({ lastAt: 10, suppressed: 0 });
  });
});

describe('LogRateLimiter', () => {
  it('writes one line per kind per interval, and the rest as a count on close', () => {
    let now = 0;
    const r = recorder();
    const limiter = new LogRateLimiter(r.logger, () => now, 10_000);
    for (let i = 0; i < 1_000; i++) {
      limiter.warn('a', { seq: i }, 'stray answer');
      limiter.warn('b', {}, 'undecodable');
      now += 25; // 1,000 of each over 25 s
    }
    // a and b each: the first at 0, one at 10 s and one at 20 s.
    expect(r.lines).toHaveLength(6);
    expect(r.lines[0]).toEqual([{ seq: 0, kind: 'a' }, 'stray answer']);
    expect(r.lines[2]![0]).toMatchObject({ kind: 'a', seq: 400, suppressed: 399 });
    expect(r.lines[2]![1]).toBe('stray answer (and 399 more suppressed)');
    limiter.flush();
    expect(r.lines.slice(6)).toEqual([
      [{ kind: 'a', suppressed: 199 }, '199 more a warnings suppressed'],
      [{ kind: 'b', suppressed: 199 }, '199 more b warnings suppressed'],
    ]);
    limiter.flush();
    expect(r.lines).toHaveLength(8);
  });
});
