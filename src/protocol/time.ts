/**
 * SMPP time strings (reference §8.5): schedule_delivery_time, validity_period, final_date,
 * broadcast_end_time.
 *
 *   absolute  YYMMDDhhmmsstnn+ / -   local time, t = tenths, nn = quarter hours from UTC
 *   relative  YYMMDDhhmmss000R       an amount added to the SMSC's current time
 *   short     YYMMDDhhmmss           12 digits, read as UTC (some SMSCs report final_date this way)
 *   empty     ""                     "now" (schedule) or "SMSC default" (validity)
 *
 * Two-digit years 00–37 are 2000–2037 and 38–99 are 1938–1999, as Wireshark and jsmpp read them.
 * Parsing never throws; formatting throws SmppError(SMPP_ERR_ENCODE) for values it cannot express.
 */
import { ErrorCode, SmppError } from '../errors.js';

export interface AbsoluteTime {
  kind: 'absolute';
  date: Date;
  /** Distance of the sender's local time from UTC in quarter hours, negative west of UTC (−48 … 48). */
  offsetQuarterHours: number;
}

export interface RelativeTime {
  kind: 'relative';
  years: number;
  months: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export type SmppTime = AbsoluteTime | RelativeTime;

/** The outcome of reading a time field; `value` is null for the empty string. */
export type SmppTimeResult = { ok: true; value: SmppTime | null } | { ok: false; reason: string };

const MAX_OFFSET_QUARTER_HOURS = 48;
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_RELATIVE_MS = ((99 * 24 + 23) * 3600 + 59 * 60 + 59) * 1000;

function twoDigits(s: string, at: number): number {
  return (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}

/** 00–37 → 2000–2037, 38–99 → 1938–1999. */
export function yearFromTwoDigits(yy: number): number {
  return yy < 38 ? 2000 + yy : 1900 + yy;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Reads `YYMMDDhhmm` or `YYMMDDhhmmss` starting at `at` as a calendar date-time in UTC, or returns
 * the reason it is not one. Leap years and month lengths are checked.
 */
function readCalendar(s: string, at: number, withSeconds: boolean): number | string {
  const year = yearFromTwoDigits(twoDigits(s, at));
  const month = twoDigits(s, at + 2);
  const day = twoDigits(s, at + 4);
  const hour = twoDigits(s, at + 6);
  const minute = twoDigits(s, at + 8);
  const second = withSeconds ? twoDigits(s, at + 10) : 0;
  if (month < 1 || month > 12) return `month ${pad2(month)} is not 01–12`;
  if (day < 1 || day > daysInMonth(year, month))
    return `day ${pad2(day)} does not exist in ${year}-${pad2(month)}`;
  if (hour > 23) return `hour ${pad2(hour)} is not 00–23`;
  if (minute > 59) return `minute ${pad2(minute)} is not 00–59`;
  if (second > 59) return `second ${pad2(second)} is not 00–59`;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/**
 * Reads the compact dates of delivery receipts (reference §10.2): `YYMMDDhhmm` or `YYMMDDhhmmss`,
 * in UTC. Returns null for anything else.
 */
export function parseCompactDate(s: string): Date | null {
  if (typeof s !== 'string' || !/^(?:\d{10}|\d{12})$/.test(s)) return null;
  const ms = readCalendar(s, 0, s.length === 12);
  return typeof ms === 'number' ? new Date(ms) : null;
}

/** Writes a date as `YYMMDDhhmm` (10 digits) or `YYMMDDhhmmss` (12 digits) in UTC. */
export function formatCompactDate(date: Date, digits: 10 | 12 = 10): string {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new SmppError(ErrorCode.Encode, 'cannot format an invalid Date');
  return calendarDigits(ms).slice(0, digits);
}

/** `YYMMDDhhmmss` of a UTC instant; throws if its year has no two-digit form (1938–2037). */
function calendarDigits(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 1938 || year > 2037) {
    throw new SmppError(
      ErrorCode.Encode,
      `year ${year} cannot be written as an SMPP two-digit year (1938–2037)`,
    );
  }
  return (
    pad2(year % 100) +
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds())
  );
}

/** Reads an SMPP time field. Never throws; returns `{ ok: false, reason }` for malformed input. */
export function parseSmppTime(s: string): SmppTimeResult {
  if (typeof s !== 'string') return { ok: false, reason: 'time field is not a string' };
  if (s.length === 0) return { ok: true, value: null };
  if (s.length === 12) {
    if (!/^\d{12}$/.test(s))
      return { ok: false, reason: 'a 12-character time must be 12 digits (YYMMDDhhmmss)' };
    const ms = readCalendar(s, 0, true);
    if (typeof ms === 'string') return { ok: false, reason: ms };
    return { ok: true, value: { kind: 'absolute', date: new Date(ms), offsetQuarterHours: 0 } };
  }
  if (s.length !== 16) {
    return { ok: false, reason: `time must be empty, 12 or 16 characters, got ${s.length}` };
  }
  if (!/^\d{15}$/.test(s.slice(0, 15)))
    return { ok: false, reason: 'the first 15 characters must be digits' };
  const p = s[15];
  if (p === 'R') {
    return {
      ok: true,
      value: {
        kind: 'relative',
        years: twoDigits(s, 0),
        months: twoDigits(s, 2),
        days: twoDigits(s, 4),
        hours: twoDigits(s, 6),
        minutes: twoDigits(s, 8),
        seconds: twoDigits(s, 10),
      },
    };
  }
  if (p !== '+' && p !== '-')
    return { ok: false, reason: `last character must be '+', '-' or 'R', got '${p}'` };
  const local = readCalendar(s, 0, true);
  if (typeof local === 'string') return { ok: false, reason: local };
  const tenths = s.charCodeAt(12) - 48;
  const quarters = twoDigits(s, 13);
  if (quarters > MAX_OFFSET_QUARTER_HOURS)
    return { ok: false, reason: `UTC offset ${quarters} is not 00–48` };
  const offsetQuarterHours = p === '-' ? -quarters : quarters;
  // Local time = UTC + offset, so UTC = local − offset.
  const date = new Date(local + tenths * 100 - offsetQuarterHours * QUARTER_HOUR_MS);
  return { ok: true, value: { kind: 'absolute', date, offsetQuarterHours: offsetQuarterHours || 0 } };
}

/** True when `s` is a time field an SMSC must accept: empty, absolute, relative or the short form. */
export function validateSmppTime(s: string): boolean {
  return parseSmppTime(s).ok;
}

/**
 * Writes an absolute time, `YYMMDDhhmmsstnn±`, in the local time of `offsetQuarterHours`
 * (default 0: UTC, written `00+`). Sub-tenth milliseconds are dropped.
 */
export function formatAbsoluteTime(date: Date, offsetQuarterHours = 0): string {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new SmppError(ErrorCode.Encode, 'cannot format an invalid Date');
  if (!Number.isInteger(offsetQuarterHours) || Math.abs(offsetQuarterHours) > MAX_OFFSET_QUARTER_HOURS) {
    throw new SmppError(ErrorCode.Encode, `UTC offset must be an integer from -48 to 48 quarter hours`);
  }
  const local = ms + offsetQuarterHours * QUARTER_HOUR_MS;
  const tenths = Math.floor((((local % 1000) + 1000) % 1000) / 100);
  const sign = offsetQuarterHours < 0 ? '-' : '+';
  return `${calendarDigits(local)}${tenths}${pad2(Math.abs(offsetQuarterHours))}${sign}`;
}

export type RelativeParts = Partial<Omit<RelativeTime, 'kind'>>;

const RELATIVE_FIELDS = ['years', 'months', 'days', 'hours', 'minutes', 'seconds'] as const;

/** Writes a relative time, `YYMMDDhhmmss000R`. Each part must be an integer 0–99; missing parts are 0. */
export function formatRelativeTime(parts: RelativeParts): string {
  let out = '';
  for (const field of RELATIVE_FIELDS) {
    const v = parts[field] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > 99) {
      throw new SmppError(
        ErrorCode.Encode,
        `relative time ${field} must be an integer 0–99, got ${String(v)}`,
      );
    }
    out += pad2(v);
  }
  return `${out}000R`;
}

/**
 * Splits a duration into the days/hours/minutes/seconds of a relative time, rounding up to a whole
 * second (a validity period never comes out shorter than asked). Up to 99 days 23:59:59.
 */
export function relativeFromMs(ms: number): RelativeTime {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_RELATIVE_MS) {
    throw new SmppError(
      ErrorCode.Encode,
      `relative time must be 0 … ${MAX_RELATIVE_MS} ms, got ${String(ms)}`,
    );
  }
  let rest = Math.ceil(ms / 1000);
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  rest = (rest - minutes) / 60;
  const hours = rest % 24;
  const days = (rest - hours) / 24;
  return { kind: 'relative', years: 0, months: 0, days, hours, minutes, seconds };
}

/**
 * The instant a relative time points at, counted from `now` in UTC calendar arithmetic: years and
 * months move the calendar (Jan 31 + 1 month overflows into March, as Date.UTC does), the rest are
 * added as elapsed time.
 */
export function relativeToDate(rel: Omit<RelativeTime, 'kind'>, now: Date): Date {
  const base = new Date(now.getTime());
  const calendar = Date.UTC(
    base.getUTCFullYear() + rel.years,
    base.getUTCMonth() + rel.months,
    base.getUTCDate(),
    base.getUTCHours(),
    base.getUTCMinutes(),
    base.getUTCSeconds(),
    base.getUTCMilliseconds(),
  );
  return new Date(calendar + ((rel.days * 24 + rel.hours) * 60 + rel.minutes) * 60_000 + rel.seconds * 1000);
}

/** The instant any parsed time points at (relative times count from `now`). */
export function resolveSmppTime(time: SmppTime, now: Date): Date {
  return time.kind === 'absolute' ? new Date(time.date.getTime()) : relativeToDate(time, now);
}
