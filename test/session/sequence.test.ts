import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SEQUENCE_NUMBER } from '../../src/protocol/constants.js';
import { SequenceGenerator } from '../../src/session/sequence.js';

describe('SequenceGenerator (reference §1.3)', () => {
  it('starts at 1 and counts up', () => {
    const seq = new SequenceGenerator();
    expect([seq.next(), seq.next(), seq.next()]).toEqual([1, 2, 3]);
  });

  it('wraps 0x7FFFFFFF to 1, never producing 0 or a number with bit 31 set', () => {
    const seq = new SequenceGenerator(MAX_SEQUENCE_NUMBER - 2);
    expect([seq.next(), seq.next(), seq.next(), seq.next()]).toEqual([0x7ffffffe, 0x7fffffff, 1, 2]);
  });

  it('skips numbers still in flight, across the wrap too', () => {
    const inFlight = new Set([0x7fffffff, 1, 2, 4]);
    const seq = new SequenceGenerator(MAX_SEQUENCE_NUMBER - 2);
    const got = [
      seq.next((n) => inFlight.has(n)),
      seq.next((n) => inFlight.has(n)),
      seq.next((n) => inFlight.has(n)),
    ];
    expect(got).toEqual([0x7ffffffe, 3, 5]);
  });

  it('always yields an unused number in 1..0x7FFFFFFF (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_SEQUENCE_NUMBER }),
        fc.uniqueArray(fc.integer({ min: 1, max: MAX_SEQUENCE_NUMBER }), { maxLength: 50 }),
        fc.integer({ min: 1, max: 20 }),
        (start, used, draws) => {
          const inUse = new Set(used);
          const seq = new SequenceGenerator(start);
          for (let i = 0; i < draws; i++) {
            const n = seq.next((k) => inUse.has(k));
            expect(n).toBeGreaterThanOrEqual(1);
            expect(n).toBeLessThanOrEqual(MAX_SEQUENCE_NUMBER);
            expect(inUse.has(n)).toBe(false);
            inUse.add(n);
          }
        },
      ),
    );
  });
});
