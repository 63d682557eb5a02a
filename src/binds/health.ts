/**
 * The health rules of a bind, as pure functions of (facts, now): no timers, no I/O, unit-tested
 * with plain numbers. Each rule has a stable code and a reason in words.
 *
 *   standby    STANDBY          another replica runs the bind (this process holds it in reserve)
 *   stopped    STOPPED          the bind was stopped by the operator (or the service is shutting down)
 *   unhealthy  NOT_BOUND        no bound session (connecting, refused, backing off)
 *   unhealthy  PROBES_MISSED    maxMissedProbes consecutive enquire_links went unanswered
 *   unhealthy  PROBE_STALE      nothing proved the link alive for interval + maxMissedProbes × timeout
 *                               (a safety net should probing ever stall)
 *   degraded   OUTPUT_BLOCKED   the SMSC is not reading our output: reading is paused until it drains
 *                               (the connection closes as write_stalled after writeStallTimeoutMs)
 *   degraded   PROBE_MISSED     the last enquire_link went unanswered (the next one is already out)
 *   degraded   PROBE_REJECTED   the last enquire_link was answered with generic_nack or an error status
 *                               (the link is alive; lasts until a probe is answered OK)
 *   degraded   HIGH_LATENCY     the last round trip took longer than degradedLatencyMs
 *   degraded   THROTTLED        the SMSC answered ESME_RTHROTTLED recently
 *   healthy    OK
 */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'stopped' | 'standby';
export type HealthCode =
  | 'OK'
  | 'STOPPED'
  | 'STANDBY'
  | 'NOT_BOUND'
  | 'PROBES_MISSED'
  | 'PROBE_STALE'
  | 'OUTPUT_BLOCKED'
  | 'PROBE_MISSED'
  | 'PROBE_REJECTED'
  | 'HIGH_LATENCY'
  | 'THROTTLED';

export interface HealthRules {
  enquireLinkIntervalMs: number;
  enquireLinkTimeoutMs: number;
  maxMissedProbes: number;
  degradedLatencyMs: number;
}

/** What the rules look at. Times are on the bind's clock (ms). */
export interface HealthFacts {
  /** Another replica runs the bind: its name, '' when unknown; null or absent when this process runs it. */
  standbyOwner?: string | null;
  stopped: boolean;
  bound: boolean;
  /** Why it is not bound, in words (connect error, bind refusal, backoff). */
  notBoundReason?: string;
  consecutiveMisses: number;
  /** Last time something proved the link alive: a probe answered, any whole PDU received, or the bind itself. */
  lastAliveAt: number;
  /** The session stopped reading because the SMSC does not read our output (write backpressure). */
  outputBlocked?: boolean;
  /** The status name the last probe was refused with (generic_nack, non-zero status), or null. */
  probeRejectedStatus?: string | null;
  lastRttMs: number | null;
  throttledUntil: number;
}

export interface HealthVerdict {
  readonly status: HealthStatus;
  readonly code: HealthCode;
  readonly reason: string;
}

// The verdicts whose reason never varies are shared (frozen): the registry re-evaluates every bind
// every second, and a healthy bind should cost no allocation.
const STOPPED: HealthVerdict = Object.freeze({
  status: 'stopped',
  code: 'STOPPED',
  reason: 'the bind is stopped',
});
const STANDBY: HealthVerdict = Object.freeze({
  status: 'standby',
  code: 'STANDBY',
  reason: 'run by another replica',
});
const OK: HealthVerdict = Object.freeze({
  status: 'healthy',
  code: 'OK',
  reason: 'bound and answering enquire_link',
});
const OUTPUT_BLOCKED: HealthVerdict = Object.freeze({
  status: 'degraded',
  code: 'OUTPUT_BLOCKED',
  reason: 'the SMSC is not reading our output: reading paused until it drains (write_stalled if it does not)',
});
const THROTTLED: HealthVerdict = Object.freeze({
  status: 'degraded',
  code: 'THROTTLED',
  reason: 'the SMSC is throttling us (ESME_RTHROTTLED)',
});

/** interval + maxMissedProbes × timeout: how long a silent SMSC can go unnoticed at most. */
export function detectionBoundMs(rules: HealthRules): number {
  return rules.enquireLinkIntervalMs + rules.maxMissedProbes * rules.enquireLinkTimeoutMs;
}

/** The verdict of the rules. Verdicts are read-only: some are shared between calls. */
export function evaluateHealth(facts: HealthFacts, rules: HealthRules, now: number): HealthVerdict {
  if (facts.standbyOwner != null) {
    return facts.standbyOwner === '' ? STANDBY : { ...STANDBY, reason: `run by ${facts.standbyOwner}` };
  }
  if (facts.stopped) return STOPPED;
  if (!facts.bound) {
    return { status: 'unhealthy', code: 'NOT_BOUND', reason: facts.notBoundReason ?? 'not bound' };
  }
  if (facts.consecutiveMisses >= rules.maxMissedProbes) {
    return {
      status: 'unhealthy',
      code: 'PROBES_MISSED',
      reason: `${facts.consecutiveMisses} enquire_link in a row unanswered within ${rules.enquireLinkTimeoutMs} ms`,
    };
  }
  const bound = detectionBoundMs(rules);
  const silentMs = now - facts.lastAliveAt;
  if (silentMs > bound) {
    return {
      status: 'unhealthy',
      code: 'PROBE_STALE',
      reason: `nothing received from the SMSC for ${Math.round(silentMs)} ms (limit ${bound} ms)`,
    };
  }
  if (facts.outputBlocked) return OUTPUT_BLOCKED;
  if (facts.consecutiveMisses > 0) {
    return {
      status: 'degraded',
      code: 'PROBE_MISSED',
      reason: `enquire_link unanswered within ${rules.enquireLinkTimeoutMs} ms; probing again`,
    };
  }
  if (facts.probeRejectedStatus) {
    return {
      status: 'degraded',
      code: 'PROBE_REJECTED',
      reason: `the SMSC answered enquire_link with ${facts.probeRejectedStatus}`,
    };
  }
  if (facts.lastRttMs !== null && facts.lastRttMs > rules.degradedLatencyMs) {
    return {
      status: 'degraded',
      code: 'HIGH_LATENCY',
      reason: `last enquire_link round trip ${facts.lastRttMs.toFixed(1)} ms > ${rules.degradedLatencyMs} ms`,
    };
  }
  if (now < facts.throttledUntil) return THROTTLED;
  return OK;
}

/** Whether a status passes a readiness check (healthy, or degraded unless strict). */
export function isPassing(status: HealthStatus, strict = false): boolean {
  return status === 'healthy' || (!strict && status === 'degraded');
}
