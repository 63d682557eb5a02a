import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmppError } from '../../src/errors.js';
import {
  formatAbsoluteTime,
  formatCompactDate,
  formatRelativeTime,
  parseCompactDate,
  parseSmppTime,
  relativeFromMs,
  relativeToDate,
  resolveSmppTime,
  type SmppTime,
  validateSmppTime,
} from '../../src/protocol/time.js';

function parsed(s: string): SmppTime | null {
  const r = parseSmppTime(s);
  if (!r.ok) throw new Error(`expected ${s} to parse: ${r.reason}`);
  return r.value;
}

function reason(s: string): string {
  const r = parseSmppTime(s);
  if (r.ok) throw new Error(`expected ${s} to be rejected`);
  return r.reason;
}

describe('parseSmppTime: the reference §8.5 examples', () => {
  it('reads 250115143000004+ as 15 Jan 2025 14:30 at UTC+01:00', () => {
    expect(parsed('250115143000004+')).toEqual({
      kind: 'absolute',
      date: new Date('2025-01-15T13:30:00.000Z'),
      offsetQuarterHours: 4,
    });
  });

  it('reads 000002120000000R as 2 days 12 hours', () => {
    expect(parsed('000002120000000R')).toEqual({
      kind: 'relative',
      years: 0,
      months: 0,
      days: 2,
      hours: 12,
      minutes: 0,
      seconds: 0,
    });
  });

  it('reads 000000001000000R as 10 minutes', () => {
    const t = parsed('000000001000000R');
    expect(t).toMatchObject({ kind: 'relative', days: 0, hours: 0, minutes: 10, seconds: 0 });
  });

  it('treats the empty string as "no time given"', () => {
    expect(parseSmppTime('')).toEqual({ ok: true, value: null });
    expect(validateSmppTime('')).toBe(true);
  });
});

describe('parseSmppTime: absolute times', () => {
  it('applies a negative offset (local time behind UTC) and tenths of a second', () => {
    // 2024-02-29 23:59:59.7 at UTC-05:00 is 2024-03-01 04:59:59.7 UTC.
    expect(parsed('240229235959720-')).toEqual({
      kind: 'absolute',
      date: new Date('2024-03-01T04:59:59.700Z'),
      offsetQuarterHours: -20,
    });
  });

  it('reads 00–37 as 20xx and 38–99 as 19xx', () => {
    expect((parsed('370101000000000+') as { date: Date }).date.toISOString()).toBe(
      '2037-01-01T00:00:00.000Z',
    );
    expect((parsed('380101000000000+') as { date: Date }).date.toISOString()).toBe(
      '1938-01-01T00:00:00.000Z',
    );
    expect((parsed('991231235959000+') as { date: Date }).date.toISOString()).toBe(
      '1999-12-31T23:59:59.000Z',
    );
  });

  it('accepts the 12-digit short form as UTC', () => {
    expect(parsed('250115143000')).toEqual({
      kind: 'absolute',
      date: new Date('2025-01-15T14:30:00.000Z'),
      offsetQuarterHours: 0,
    });
  });

  it('rejects impossible calendar values with a reason', () => {
    expect(reason('251315143000000+')).toMatch(/month 13/);
    expect(reason('250230143000000+')).toMatch(/day 30/);
    expect(reason('230229000000000+')).toMatch(/day 29/); // 2023 is not a leap year
    expect(validateSmppTime('240229000000000+')).toBe(true); // 2024 is
    expect(reason('250115243000000+')).toMatch(/hour 24/);
    expect(reason('250115146000000+')).toMatch(/minute 60/);
    expect(reason('250115143060000+')).toMatch(/second 60/);
    expect(reason('250115143000049+')).toMatch(/offset 49/);
    expect(reason('250100143000')).toMatch(/day 00/);
  });

  it('rejects malformed strings with a reason instead of throwing', () => {
    expect(reason('250115143000004')).toMatch(/15/);
    expect(reason('250115143000004X')).toMatch(/'X'/);
    expect(reason('2501151430a0004+')).toMatch(/digits/);
    expect(reason('25011514300a')).toMatch(/12 digits/);
    expect(reason('250115143000004+\0')).toMatch(/17/);
    expect(reason(' 50115143000004+')).toMatch(/digits/);
    expect(validateSmppTime('tomorrow')).toBe(false);
    expect(parseSmppTime(undefined as unknown as string)).toEqual({
      ok: false,
      reason: 'time field is not a string',
    });
  });
});

describe('formatting', () => {
  it('writes the §8.5 absolute example from a Date and an offset', () => {
    expect(formatAbsoluteTime(new Date('2025-01-15T13:30:00Z'), 4)).toBe('250115143000004+');
  });

  it('writes UTC as 00+ by default, with tenths', () => {
    expect(formatAbsoluteTime(new Date('2025-01-15T13:30:05.250Z'))).toBe('250115133005200+');
  });

  it('writes west-of-UTC offsets with a minus sign', () => {
    expect(formatAbsoluteTime(new Date('2024-03-01T04:59:59.700Z'), -20)).toBe('240229235959720-');
  });

  it('writes relative times, missing parts as zero', () => {
    expect(formatRelativeTime({ days: 2, hours: 12 })).toBe('000002120000000R');
    expect(formatRelativeTime({ minutes: 10 })).toBe('000000001000000R');
    expect(formatRelativeTime({})).toBe('000000000000000R');
  });

  it('splits milliseconds into days, hours, minutes and seconds, rounding up', () => {
    expect(formatRelativeTime(relativeFromMs((2 * 24 + 12) * 3_600_000))).toBe('000002120000000R');
    expect(relativeFromMs(1)).toMatchObject({ days: 0, hours: 0, minutes: 0, seconds: 1 });
    expect(relativeFromMs(0)).toMatchObject({ seconds: 0 });
    expect(relativeFromMs(99 * 86_400_000 + 86_399_000)).toMatchObject({
      days: 99,
      hours: 23,
      minutes: 59,
      seconds: 59,
    });
  });

  it('refuses values it cannot express with an encode error', () => {
    const encodeError = (fn: () => unknown) => {
      expect(fn).toThrow(SmppError);
      try {
        fn();
      } catch (e) {
        expect((e as SmppError).code).toBe('SMPP_ERR_ENCODE');
      }
    };
    encodeError(() => formatAbsoluteTime(new Date(Number.NaN)));
    encodeError(() => formatAbsoluteTime(new Date('2038-01-01T00:00:00Z')));
    encodeError(() => formatAbsoluteTime(new Date('1937-12-31T23:00:00Z')));
    encodeError(() => formatAbsoluteTime(new Date('2025-01-01T00:00:00Z'), 49));
    encodeError(() => formatAbsoluteTime(new Date('2025-01-01T00:00:00Z'), 1.5));
    encodeError(() => formatRelativeTime({ days: 100 }));
    encodeError(() => formatRelativeTime({ hours: -1 }));
    encodeError(() => formatRelativeTime({ minutes: 1.5 }));
    encodeError(() => relativeFromMs(-1));
    encodeError(() => relativeFromMs(100 * 86_400_000));
    encodeError(() => relativeFromMs(Number.NaN));
    encodeError(() => formatCompactDate(new Date(Number.NaN)));
  });
});

describe('relative time to a Date', () => {
  const now = new Date('2025-01-15T13:30:00.000Z');

  it('adds days, hours, minutes and seconds to now', () => {
    const t = parsed('000002120000000R');
    expect(t && resolveSmppTime(t, now).toISOString()).toBe('2025-01-18T01:30:00.000Z');
  });

  it('moves the calendar for years and months', () => {
    const rel = { years: 1, months: 2, days: 0, hours: 0, minutes: 0, seconds: 30 };
    expect(relativeToDate(rel, now).toISOString()).toBe('2026-03-15T13:30:30.000Z');
  });

  it('returns an absolute time as is', () => {
    const t = parsed('250115143000004+');
    expect(t && resolveSmppTime(t, now).toISOString()).toBe('2025-01-15T13:30:00.000Z');
  });
});

describe('compact receipt dates', () => {
  it('reads 10 and 12 digits as UTC and rejects anything else', () => {
    expect(parseCompactDate('2501151230')?.toISOString()).toBe('2025-01-15T12:30:00.000Z');
    expect(parseCompactDate('190608165232')?.toISOString()).toBe('2019-06-08T16:52:32.000Z');
    expect(parseCompactDate('25011512300')).toBeNull();
    expect(parseCompactDate('2513151230')).toBeNull();
    expect(parseCompactDate('')).toBeNull();
  });

  it('writes 10 or 12 digits', () => {
    const d = new Date('2019-06-08T16:52:32.000Z');
    expect(formatCompactDate(d)).toBe('1906081652');
    expect(formatCompactDate(d, 12)).toBe('190608165232');
  });
});

describe('properties', () => {
  // Local times that have a two-digit year, at a whole tenth of a second.
  const tenthsInstant = fc
    .integer({
      min: Math.ceil(Date.UTC(1938, 0, 1) / 100),
      max: Math.floor(Date.UTC(2037, 11, 31, 23, 59, 59) / 100),
    })
    .map((n) => n * 100);
  const offset = fc.integer({ min: -48, max: 48 });

  it('absolute times round trip through format and parse, at any offset', () => {
    fc.assert(
      fc.property(tenthsInstant, offset, (local, q) => {
        const date = new Date(local - q * 15 * 60_000);
        const s = formatAbsoluteTime(date, q);
        expect(s).toMatch(/^\d{15}[+-]$/);
        expect(parseSmppTime(s)).toEqual({
          ok: true,
          value: { kind: 'absolute', date, offsetQuarterHours: q },
        });
      }),
    );
  });

  it('relative times round trip through format and parse', () => {
    const part = fc.integer({ min: 0, max: 99 });
    fc.assert(
      fc.property(part, part, part, part, part, part, (years, months, days, hours, minutes, seconds) => {
        const rel = { years, months, days, hours, minutes, seconds };
        const s = formatRelativeTime(rel);
        expect(s).toMatch(/^\d{12}000R$/);
        expect(parseSmppTime(s)).toEqual({ ok: true, value: { kind: 'relative', ...rel } });
      }),
    );
  });

  it('relativeFromMs resolves back to the same duration, to the second', () => {
    const now = new Date('2025-06-30T22:10:00.000Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 * 86_400 + 86_399 }), (secs) => {
        const s = formatRelativeTime(relativeFromMs(secs * 1000));
        const t = parseSmppTime(s);
        expect(t.ok && t.value && resolveSmppTime(t.value, now).getTime() - now.getTime()).toBe(secs * 1000);
      }),
    );
  });

  it('never throws on arbitrary strings, and only accepts what it can format back', () => {
    const smppish = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '5', '9', '+', '-', 'R'), maxLength: 17 }),
      fc.stringMatching(/^\d{15}[+\-R]$/),
      fc.stringMatching(/^\d{12}$/),
    );
    fc.assert(
      fc.property(smppish, (s) => {
        const r = parseSmppTime(s);
        expect(validateSmppTime(s)).toBe(r.ok);
        if (r.ok && r.value?.kind === 'absolute' && s.length === 16) {
          expect(Number.isNaN(r.value.date.getTime())).toBe(false);
          // "00-" and "00+" both mean UTC; the formatter writes "00+".
          expect(formatAbsoluteTime(r.value.date, r.value.offsetQuarterHours)).toBe(s.replace(/00-$/, '00+'));
        }
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});
