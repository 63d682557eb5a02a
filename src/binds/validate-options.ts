/**
 * Checks a bind's resolved options before the registry runs them: what the config file's schema
 * checks, for options that come from elsewhere too (the bind API, a lease owner). Returns every
 * issue at once, each with its key path, so a caller can fix them in one pass.
 */
import { InterfaceVersion } from '../protocol/constants.js';
import { BIND_ID_PATTERN, type BindOptions, MAX_TIMER_MS } from './bind-options.js';
import type { BindOptionsIssue } from './errors.js';

const BIND_TYPES: ReadonlySet<unknown> = new Set(['transmitter', 'receiver', 'transceiver']);
const PRINTABLE = /^[\x20-\x7E]*$/;

/**
 * Durations: whole milliseconds from 0 (0 turns keepalive and inactivity off; the config schema
 * asks more of an operator's file, the registry only refuses what cannot run).
 */
const DURATIONS: readonly (keyof BindOptions)[] = [
  'enquireLinkIntervalMs',
  'enquireLinkTimeoutMs',
  'inactivityTimeoutMs',
  'degradedLatencyMs',
  'minProbeIntervalMs',
  'connectTimeoutMs',
  'bindTimeoutMs',
  'responseTimeoutMs',
  'windowWaitTimeoutMs',
  'unbindTimeoutMs',
];

const COUNTS: readonly [keyof BindOptions, number, number][] = [
  ['maxMissedProbes', 1, 1000],
  ['windowSize', 1, 1000],
  ['rttWindowSize', 1, 65536],
  ['addrTon', 0, 255],
  ['addrNpi', 0, 255],
];

/** Counts that may be left out (the supervisor's default applies). */
const OPTIONAL_COUNTS: readonly [keyof BindOptions, number, number][] = [
  ['traceSize', 0, 100_000],
  ['traceMaxBytes', 1024, 64 * 1024 * 1024],
];

/** C-Octet String fields of bind_*: visible characters, the spec's octets minus the NUL. */
const STRINGS: readonly [keyof BindOptions, number, number][] = [
  ['systemId', 1, 15],
  ['password', 0, 8],
  ['systemType', 0, 12],
  ['addressRange', 0, 40],
];

function isInt(value: unknown, min: number, max: number): boolean {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** Every problem with `options`, or [] when the registry can run them. */
export function bindOptionsIssues(options: BindOptions): BindOptionsIssue[] {
  const issues: BindOptionsIssue[] = [];
  const o = options as unknown as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) return [{ field: '', message: 'must be an object' }];
  if (typeof o.id !== 'string' || !BIND_ID_PATTERN.test(o.id)) {
    issues.push({
      field: 'id',
      message: "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    });
  }
  if (typeof o.host !== 'string' || !/^\S+$/.test(o.host)) {
    issues.push({ field: 'host', message: 'must be a host name or IP address' });
  }
  if (!isInt(o.port, 1, 65535))
    issues.push({ field: 'port', message: 'must be a port number from 1 to 65535' });
  if (!BIND_TYPES.has(o.bindType)) {
    issues.push({ field: 'bindType', message: 'must be transmitter, receiver or transceiver' });
  }
  if (o.interfaceVersion !== InterfaceVersion.v34 && o.interfaceVersion !== InterfaceVersion.v50) {
    issues.push({ field: 'interfaceVersion', message: 'must be 0x34 (SMPP 3.4) or 0x50 (SMPP 5.0)' });
  }
  for (const [key, min, max] of STRINGS) {
    const v = o[key];
    if (typeof v !== 'string' || v.length < min || v.length > max || !PRINTABLE.test(v)) {
      issues.push({ field: key, message: `must be ${min} to ${max} printable ASCII characters` });
    }
  }
  for (const key of DURATIONS) {
    if (!isInt(o[key], 0, MAX_TIMER_MS)) {
      issues.push({
        field: key,
        message: `must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}`,
      });
    }
  }
  for (const [key, min, max] of OPTIONAL_COUNTS) {
    if (o[key] !== undefined && !isInt(o[key], min, max))
      issues.push({ field: key, message: `must be an integer from ${min} to ${max}` });
  }
  for (const [key, min, max] of COUNTS) {
    if (!isInt(o[key], min, max))
      issues.push({ field: key, message: `must be an integer from ${min} to ${max}` });
  }
  const r = o.reconnect as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null) {
    issues.push({ field: 'reconnect', message: 'must be an object' });
  } else {
    if (!isInt(r.initialDelayMs, 1, MAX_TIMER_MS))
      issues.push({
        field: 'reconnect.initialDelayMs',
        message: 'must be a whole number of milliseconds from 1',
      });
    if (!isInt(r.maxDelayMs, 1, MAX_TIMER_MS))
      issues.push({
        field: 'reconnect.maxDelayMs',
        message: 'must be a whole number of milliseconds from 1',
      });
    if (!isInt(r.stableAfterMs, 0, MAX_TIMER_MS))
      issues.push({
        field: 'reconnect.stableAfterMs',
        message: 'must be a whole number of milliseconds from 0',
      });
  }
  const tls = o.tls as Record<string, unknown> | undefined;
  if (
    typeof tls !== 'object' ||
    tls === null ||
    typeof tls.enabled !== 'boolean' ||
    typeof tls.rejectUnauthorized !== 'boolean'
  ) {
    issues.push({ field: 'tls', message: 'must have boolean enabled and rejectUnauthorized' });
  }
  return issues;
}
