/**
 * The health rules as pure functions of (facts, rules, now): every code, the order in which they
 * win over each other, and the detection bound, with plain numbers and no clock.
 */
import { describe, expect, it } from 'vitest';
import {
  detectionBoundMs,
  evaluateHealth,
  type HealthFacts,
  type HealthRules,
  isPassing,
} from '../../src/binds/health.js';

const rules: HealthRules = {
  enquireLinkIntervalMs: 30_000,
  enquireLinkTimeoutMs: 10_000,
  maxMissedProbes: 2,
  degradedLatencyMs: 1_000,
};

const NOW = 1_000_000;

/** A bound link that answered a probe a moment ago in 5 ms: healthy. */
function facts(over: Partial<HealthFacts> = {}): HealthFacts {
  return {
    stopped: false,
    bound: true,
    consecutiveMisses: 0,
    lastAliveAt: NOW - 100,
    lastRttMs: 5,
    throttledUntil: Number.NEGATIVE_INFINITY,
    ...over,
  };
}

describe('detectionBoundMs', () => {
  it('is interval + maxMissedProbes × timeout', () => {
    expect(detectionBoundMs(rules)).toBe(50_000);
    expect(
      detectionBoundMs({
        enquireLinkIntervalMs: 200,
        enquireLinkTimeoutMs: 100,
        maxMissedProbes: 3,
        degradedLatencyMs: 0,
      }),
    ).toBe(500);
  });

  it('with one allowed miss it is interval + timeout', () => {
    expect(detectionBoundMs({ ...rules, maxMissedProbes: 1 })).toBe(40_000);
  });
});

describe('evaluateHealth: each code', () => {
  it('OK: bound, answering, fast, not throttled', () => {
    expect(evaluateHealth(facts(), rules, NOW)).toEqual({
      status: 'healthy',
      code: 'OK',
      reason: 'bound and answering enquire_link',
    });
  });

  it('OK with no probe yet (just bound)', () => {
    expect(evaluateHealth(facts({ lastRttMs: null, lastAliveAt: NOW }), rules, NOW).code).toBe('OK');
  });

  it('STOPPED: stopped, whatever else is true', () => {
    const v = evaluateHealth(facts({ stopped: true, bound: false, consecutiveMisses: 5 }), rules, NOW);
    expect(v).toMatchObject({ status: 'stopped', code: 'STOPPED' });
  });

  it('NOT_BOUND: carries the reason given, or "not bound"', () => {
    const withReason = evaluateHealth(
      facts({ bound: false, notBoundReason: 'bind refused: ESME_RINVPASWD' }),
      rules,
      NOW,
    );
    expect(withReason).toEqual({
      status: 'unhealthy',
      code: 'NOT_BOUND',
      reason: 'bind refused: ESME_RINVPASWD',
    });
    expect(evaluateHealth(facts({ bound: false }), rules, NOW).reason).toBe('not bound');
  });

  it('PROBES_MISSED: maxMissedProbes misses in a row', () => {
    const v = evaluateHealth(facts({ consecutiveMisses: 2 }), rules, NOW);
    expect(v.status).toBe('unhealthy');
    expect(v.code).toBe('PROBES_MISSED');
    expect(v.reason).toContain('2 enquire_link in a row');
    expect(v.reason).toContain('10000 ms');
  });

  it('PROBE_MISSED: one miss is degraded (the next probe is already out)', () => {
    expect(evaluateHealth(facts({ consecutiveMisses: 1 }), rules, NOW)).toMatchObject({
      status: 'degraded',
      code: 'PROBE_MISSED',
    });
  });

  it('PROBE_STALE: silent for longer than the detection bound, strictly', () => {
    const atBound = evaluateHealth(facts({ lastAliveAt: NOW - 50_000 }), rules, NOW);
    expect(atBound.code).toBe('OK');
    const past = evaluateHealth(facts({ lastAliveAt: NOW - 50_001 }), rules, NOW);
    expect(past.status).toBe('unhealthy');
    expect(past.code).toBe('PROBE_STALE');
    expect(past.reason).toBe('nothing received from the SMSC for 50001 ms (limit 50000 ms)');
  });

  it('OUTPUT_BLOCKED: reading paused because the SMSC does not read our output', () => {
    const v = evaluateHealth(facts({ outputBlocked: true }), rules, NOW);
    expect(v).toMatchObject({ status: 'degraded', code: 'OUTPUT_BLOCKED' });
    expect(v.reason).toContain('not reading our output');
    expect(evaluateHealth(facts({ outputBlocked: false }), rules, NOW).code).toBe('OK');
  });

  it('PROBE_REJECTED: the last probe was answered with an error status (alive, but refused)', () => {
    const v = evaluateHealth(facts({ probeRejectedStatus: 'ESME_RINVCMDID' }), rules, NOW);
    expect(v).toMatchObject({ status: 'degraded', code: 'PROBE_REJECTED' });
    expect(v.reason).toBe('the SMSC answered enquire_link with ESME_RINVCMDID');
    expect(evaluateHealth(facts({ probeRejectedStatus: null }), rules, NOW).code).toBe('OK');
  });

  it('HIGH_LATENCY: the last round trip above degradedLatencyMs, strictly', () => {
    expect(evaluateHealth(facts({ lastRttMs: 1_000 }), rules, NOW).code).toBe('OK');
    const v = evaluateHealth(facts({ lastRttMs: 1_000.5 }), rules, NOW);
    expect(v).toMatchObject({ status: 'degraded', code: 'HIGH_LATENCY' });
    expect(v.reason).toBe('last enquire_link round trip 1000.5 ms > 1000 ms');
  });

  it('THROTTLED: until throttledUntil, then OK again', () => {
    expect(evaluateHealth(facts({ throttledUntil: NOW + 1 }), rules, NOW)).toMatchObject({
      status: 'degraded',
      code: 'THROTTLED',
    });
    expect(evaluateHealth(facts({ throttledUntil: NOW }), rules, NOW).code).toBe('OK');
  });
});

describe('evaluateHealth: precedence', () => {
  // Every fact that makes a verdict worse at once; removing the winner in turn reveals the next.
  const worst: Partial<HealthFacts> = {
    stopped: true,
    bound: false,
    consecutiveMisses: 2,
    lastAliveAt: NOW - 60_000,
    outputBlocked: true,
    probeRejectedStatus: 'ESME_RINVCMDID',
    lastRttMs: 5_000,
    throttledUntil: NOW + 5_000,
  };
  const order: [string, Partial<HealthFacts>][] = [
    ['STOPPED', {}],
    ['NOT_BOUND', { stopped: false }],
    ['PROBES_MISSED', { bound: true }],
    ['PROBE_STALE', { consecutiveMisses: 1 }],
    ['OUTPUT_BLOCKED', { lastAliveAt: NOW }],
    ['PROBE_MISSED', { outputBlocked: false }],
    ['PROBE_REJECTED', { consecutiveMisses: 0 }],
    ['HIGH_LATENCY', { probeRejectedStatus: null }],
    ['THROTTLED', { lastRttMs: 5 }],
    ['OK', { throttledUntil: NOW }],
  ];

  it('STOPPED > NOT_BOUND > PROBES_MISSED > PROBE_STALE > OUTPUT_BLOCKED > PROBE_MISSED > PROBE_REJECTED > HIGH_LATENCY > THROTTLED > OK', () => {
    let f: HealthFacts = facts(worst);
    const seen: string[] = [];
    for (const [code, change] of order) {
      f = { ...f, ...change };
      seen.push(evaluateHealth(f, rules, NOW).code);
      expect(seen.at(-1)).toBe(code);
    }
    expect(seen).toEqual(order.map(([code]) => code));
  });

  it('an unhealthy rule always beats a degraded one', () => {
    for (const misses of [0, 1]) {
      for (const rtt of [null, 5, 5_000]) {
        const v = evaluateHealth(
          facts({ consecutiveMisses: misses, lastRttMs: rtt, lastAliveAt: NOW - 70_000 }),
          rules,
          NOW,
        );
        expect(v.status).toBe('unhealthy');
      }
    }
  });
});

describe('isPassing', () => {
  it('healthy passes; degraded passes unless strict; unhealthy and stopped never', () => {
    expect(isPassing('healthy')).toBe(true);
    expect(isPassing('healthy', true)).toBe(true);
    expect(isPassing('degraded')).toBe(true);
    expect(isPassing('degraded', true)).toBe(false);
    expect(isPassing('unhealthy')).toBe(false);
    expect(isPassing('stopped')).toBe(false);
  });
});
