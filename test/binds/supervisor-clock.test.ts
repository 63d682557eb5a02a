/**
 * BindSupervisor on a FakeClock over an in-memory network: the detection bounds to the
 * millisecond, backoff spacing, refusals retried at the cap, throttling, stale epochs, rebind and
 * stop — deterministic, no sleeping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BindSupervisor, THROTTLE_COOLDOWN_MS } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { SmppBindStoppedError } from '../../src/binds/errors.js';
import { detectionBoundMs } from '../../src/binds/health.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import { settle } from '../helpers/memory-duplex.js';
import { MemoryNetwork } from './helpers/memory-network.js';

const INTERVAL = 200;
const TIMEOUT = 100;

function options(over: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id: 'b1',
    host: 'smsc.test',
    port: 2775,
    systemId: 'esme',
    password: 'secret',
    enquireLinkIntervalMs: INTERVAL,
    enquireLinkTimeoutMs: TIMEOUT,
    maxMissedProbes: 2,
    degradedLatencyMs: 50,
    minProbeIntervalMs: 0,
    bindTimeoutMs: 500,
    unbindTimeoutMs: 300,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_600, stableAfterMs: 60_000 },
    ...over,
  });
}

interface Harness {
  clock: FakeClock;
  net: MemoryNetwork;
  registry: BindRegistry;
  bind: BindSupervisor;
  transitions: { at: number; to: string; code: string }[];
}

const harnesses: Harness[] = [];

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    const stopping = h.registry.stopAll(1_000);
    await h.net.advance(1_000, 50);
    await stopping;
  }
});

function harness(over: Partial<BindOptions> = {}, random: () => number = () => 0.5): Harness {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const registry = new BindRegistry({
    clock,
    connect: net.connect,
    random,
    // The first keepalive after bind a whole interval later (no jitter): exact detection bounds.
    keepaliveRandom: () => 1,
    sweepIntervalMs: 10,
  });
  const bind = registry.add(options(over));
  const transitions: Harness['transitions'] = [];
  bind.on('transition', (t) => transitions.push({ at: clock.now(), to: t.to, code: t.code }));
  const h = { clock, net, registry, bind, transitions };
  harnesses.push(h);
  return h;
}

async function started(over: Partial<BindOptions> = {}, random?: () => number): Promise<Harness> {
  const h = harness(over, random);
  h.registry.startAll();
  await settle(6);
  expect(h.bind.state).toBe('bound');
  return h;
}

describe('binding', () => {
  it('starts unhealthy NOT_BOUND, binds as configured, turns healthy', async () => {
    const h = harness({ bindType: 'transmitter', systemType: 'VMA', interfaceVersion: 0x34 });
    expect(h.bind.evaluate()).toMatchObject({
      status: 'unhealthy',
      code: 'NOT_BOUND',
      reason: 'not started',
    });
    h.registry.startAll();
    await settle(6);
    expect(h.bind.state).toBe('bound');
    const [bindPdu] = h.net.commands('bind_transmitter');
    expect(bindPdu?.pdu).toMatchObject({ system_id: 'esme', password: 'secret', system_type: 'VMA' });
    const health = h.bind.health();
    expect(health).toMatchObject({
      id: 'b1',
      status: 'healthy',
      code: 'OK',
      state: 'bound',
      sessionState: 'bound_tx',
      bindType: 'transmitter',
      remoteAddress: 'smsc.test:2775',
      lastError: null,
      consecutiveFailures: 0,
      uptimeMs: 0,
      window: { used: 0, capacity: 10, waiting: 0 },
      throttled: false,
      reconnect: { attempt: 0, nextAttemptAt: null },
    });
    expect(health.counters).toMatchObject({ binds: 1, bindFailures: 0, reconnects: 0 });
    expect(health.counters.pdusOut).toEqual({ bind_transmitter: 1 });
    expect(health.counters.pdusIn).toEqual({ bind_transmitter_resp: 1 });
    expect(h.transitions.map((t) => t.to)).toEqual(['healthy']);
    expect(h.bind.aliveAgeMs()).toBe(0);
  });

  it('a healthy bind re-evaluated (the registry sweep, every second) gets the same verdict object', async () => {
    const h = await started();
    const first = h.bind.evaluate();
    expect(h.bind.evaluate()).toBe(first);
    expect(h.bind.refreshHealth()).toBe(h.bind.refreshHealth());
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('keepalive probes every interval of silence and reports each round trip', async () => {
    const h = await started();
    const probes: number[] = [];
    h.bind.on('probe', (p) => {
      if (p.ok) probes.push(p.rttMs);
    });
    h.net.behaviour.answerDelayMs = 7;
    await h.net.advance(3 * (INTERVAL + 7), 1);
    expect(h.net.commands('enquire_link')).toHaveLength(3);
    expect(probes).toEqual([7, 7, 7]);
    const health = h.bind.health();
    expect(health.rtt).toMatchObject({ count: 3, min: 7, p50: 7, max: 7 });
    expect(health.lastProbe).toMatchObject({ ok: true, rttMs: 7, trigger: 'keepalive', error: null });
    expect(health.counters.probesSent).toBe(3);
    expect(health.status).toBe('healthy');
  });
});

describe('detection bounds (blackhole)', () => {
  it('degraded PROBE_MISSED at interval + timeout; unhealthy and reconnecting at interval + max × timeout', async () => {
    const h = await started();
    const t0 = h.clock.now();
    h.net.behaviour.blackhole = true;
    await h.net.advance(INTERVAL + 2 * TIMEOUT + 5, 1);
    const degraded = h.transitions.find((t) => t.to === 'degraded');
    const unhealthy = h.transitions.find((t) => t.to === 'unhealthy');
    expect(degraded).toMatchObject({ code: 'PROBE_MISSED' });
    expect(degraded!.at - t0).toBe(INTERVAL + TIMEOUT);
    expect(unhealthy?.code).toBe('NOT_BOUND');
    expect(unhealthy!.at - t0).toBe(detectionBoundMs(options()));
    expect(unhealthy!.at - t0).toBe(INTERVAL + 2 * TIMEOUT);
    // Already reconnecting: the backoff timer is armed (or the next attempt is under way).
    expect(['backoff', 'connecting', 'binding']).toContain(h.bind.state);
    const health = h.bind.health();
    // A registered code, with the close reason as a detail (never a code of its own).
    expect(health.lastError).toMatchObject({
      code: 'SMPP_ERR_SESSION_CLOSED',
      details: { closeReason: 'keepalive_timeout' },
    });
    expect(health.counters.probesFailed).toBe(2);
    // The dead link was destroyed without unbind (reference §11.2): nothing was sent after the probes.
    expect(h.net.commands('unbind')).toHaveLength(0);
  });

  it('a second miss with 3 allowed stays degraded; the third closes at interval + 3 × timeout', async () => {
    const h = await started({ maxMissedProbes: 3 });
    const t0 = h.clock.now();
    h.net.behaviour.blackhole = true;
    await h.net.advance(INTERVAL + 3 * TIMEOUT + 5, 1);
    const statuses = h.transitions.filter((t) => t.at > t0).map((t) => [t.to, t.code, t.at - t0]);
    expect(statuses.slice(0, 2)).toEqual([
      ['degraded', 'PROBE_MISSED', INTERVAL + TIMEOUT],
      ['unhealthy', 'NOT_BOUND', INTERVAL + 3 * TIMEOUT],
    ]);
  });

  it('recovers once the blackhole clears: bound again and healthy', async () => {
    const h = await started();
    h.net.behaviour.blackhole = true;
    await h.net.advance(INTERVAL + 2 * TIMEOUT + 5, 1);
    expect(h.bind.status).toBe('unhealthy');
    h.net.behaviour.blackhole = false;
    await h.net.advance(500, 5);
    expect(h.bind.state).toBe('bound');
    expect(h.bind.status).toBe('healthy');
    expect(h.net.sessions).toHaveLength(2);
    expect(h.net.maxLive).toBe(1);
    expect(h.bind.health().counters).toMatchObject({ binds: 2, reconnects: 1 });
  });

  it('any PDU from the SMSC between two misses resets the count: no reconnect', async () => {
    const h = await started();
    h.net.behaviour.blackhole = true;
    await h.net.advance(INTERVAL + TIMEOUT, 1);
    expect(h.bind.status).toBe('degraded');
    // The SMSC sends its own enquire_link while our second probe is out: proof of life.
    h.net.last!.request('enquire_link').catch(() => {});
    await h.net.advance(TIMEOUT + 5, 1);
    expect(h.bind.state).toBe('bound');
    expect(h.net.sessions).toHaveLength(1);
  });
});

describe('what counts as proof of life', () => {
  it('stray answers (unknown sequence_number) between misses do not reset the count', async () => {
    const h = await started();
    const t0 = h.clock.now();
    h.net.behaviour.blackhole = true;
    await h.net.advance(INTERVAL + TIMEOUT, 1);
    expect(h.bind.status).toBe('degraded');
    h.net.last!.sendRaw(encodePdu(createPdu('enquire_link_resp', { sequence_number: 0x1000_0001 })));
    h.net.last!.sendRaw(encodePdu(createPdu('submit_sm_resp', { sequence_number: 0x1000_0002 })));
    await h.net.advance(TIMEOUT + 5, 1);
    const unhealthy = h.transitions.find((t) => t.to === 'unhealthy');
    expect((unhealthy?.at ?? Number.NaN) - t0).toBe(INTERVAL + 2 * TIMEOUT);
  });

  it('a PDU that starts and never completes is no proof of life: flagged within the silent-link bounds', async () => {
    const h = await started();
    const t0 = h.clock.now();
    const aliveAt = t0 - h.bind.aliveAgeMs()!;
    // The first 8 octets of a 65,000-octet PDU, then one more octet every 90 ms (under the interval).
    h.net.last!.sendRaw(Buffer.from('0000fde800000004', 'hex'));
    const smsc = h.net.last!;
    for (let at = 90; at <= INTERVAL + 2 * TIMEOUT + 90; at += 90) {
      await h.net.advance(90, 1);
      // The SMSC's own answers are swallowed into the unfinished PDU, as on a real stream.
      smsc.sendRaw(Buffer.from([0x41]));
    }
    const statuses = h.transitions.filter((t) => t.at > t0).map((t) => [t.to, t.code, t.at - t0]);
    expect(statuses.slice(0, 2)).toEqual([
      ['degraded', 'PROBE_MISSED', INTERVAL + TIMEOUT],
      ['unhealthy', 'NOT_BOUND', INTERVAL + 2 * TIMEOUT],
    ]);
    expect(h.bind.health().lastError).toMatchObject({
      code: 'SMPP_ERR_SESSION_CLOSED',
      details: { closeReason: 'keepalive_timeout' },
    });
    expect(aliveAt).toBe(t0);
  });

  it('a partial PDU trickling in does not reset the count either', async () => {
    const h = await started();
    const t0 = h.clock.now();
    h.net.behaviour.blackhole = true;
    await h.net.advance(INTERVAL + TIMEOUT, 1);
    const resp = encodePdu(createPdu('enquire_link_resp', { sequence_number: 0x1000_0001 }));
    h.net.last!.sendRaw(resp.subarray(0, 3));
    await h.net.advance(50, 1);
    h.net.last!.sendRaw(resp.subarray(3, 6));
    await h.net.advance(TIMEOUT, 1);
    const unhealthy = h.transitions.find((t) => t.to === 'unhealthy');
    expect((unhealthy?.at ?? Number.NaN) - t0).toBe(INTERVAL + 2 * TIMEOUT);
  });
});

describe('latency', () => {
  it('HIGH_LATENCY when a probe takes longer than degradedLatencyMs; healthy once fast again', async () => {
    const h = await started();
    h.net.behaviour.answerDelayMs = 80;
    await h.net.advance(INTERVAL + 80, 1);
    expect(h.bind.evaluate()).toMatchObject({ status: 'degraded', code: 'HIGH_LATENCY' });
    expect(h.bind.lastRttMs).toBe(80);
    h.net.behaviour.answerDelayMs = 0;
    await h.net.advance(INTERVAL + 5, 1);
    expect(h.bind.evaluate().code).toBe('OK');
    expect(h.transitions.map((t) => `${t.to}:${t.code}`)).toEqual([
      'healthy:OK',
      'degraded:HIGH_LATENCY',
      'healthy:OK',
    ]);
  });
});

describe('bind refusals', () => {
  it('ESME_RINVPASWD: unhealthy NOT_BOUND with the status name, retried at the cap, never in a storm', async () => {
    const h = harness({}, () => 0.5);
    h.net.behaviour.bindStatus = CommandStatus.ESME_RINVPASWD;
    h.registry.startAll();
    await settle(6);
    await h.net.advance(8_000, 1);
    const health = h.bind.health();
    expect(health).toMatchObject({ status: 'unhealthy', code: 'NOT_BOUND' });
    expect(health.lastError).toMatchObject({ code: 'SMPP_ERR_BIND', statusName: 'ESME_RINVPASWD' });
    expect(health.reason).toContain('ESME_RINVPASWD');
    expect(health.counters.bindFailures).toBe(h.net.connectAttempts.length);
    const gaps = h.net.connectAttempts.slice(1).map((t, i) => t - h.net.connectAttempts[i]!);
    // slowRetryDelayMs with random 0.5: 95 % of the 1,600 ms cap, every time.
    expect(gaps.length).toBeGreaterThanOrEqual(5);
    for (const gap of gaps) expect(gap).toBe(1_520);
    expect(h.net.maxLive).toBe(1);
  });

  it('a refusal clears: the next attempt binds', async () => {
    const h = harness();
    h.net.behaviour.bindStatus = CommandStatus.ESME_RINVSYSID;
    h.registry.startAll();
    await h.net.advance(100, 10);
    h.net.behaviour.bindStatus = 0;
    await h.net.advance(1_600, 20);
    expect(h.bind.state).toBe('bound');
    expect(h.bind.status).toBe('healthy');
  });

  it('a transient refusal (ESME_RSYSERR) backs off exponentially instead', async () => {
    const h = harness({}, () => 0.5);
    h.net.behaviour.bindStatus = CommandStatus.ESME_RSYSERR;
    h.registry.startAll();
    await settle(6);
    await h.net.advance(4_000, 1);
    const gaps = h.net.connectAttempts.slice(1).map((t, i) => t - h.net.connectAttempts[i]!);
    expect(gaps.slice(0, 6)).toEqual([50, 100, 200, 400, 800, 800]);
  });

  it('no bind_resp within bindTimeoutMs: the socket goes and the bind is retried', async () => {
    const h = harness();
    h.net.behaviour.blackhole = true;
    h.registry.startAll();
    await h.net.advance(510, 10);
    expect(h.bind.health().lastError).toMatchObject({ code: 'SMPP_ERR_SESSION_RESPONSE_TIMEOUT' });
    expect(h.net.live).toBe(0);
    h.net.behaviour.blackhole = false;
    await h.net.advance(200, 10);
    expect(h.bind.state).toBe('bound');
  });
});

describe('backoff', () => {
  it('connection refused: delays grow from initialDelayMs, doubling, capped at maxDelayMs', async () => {
    const h = harness({}, () => 0.999);
    h.net.behaviour.refuseConnect = true;
    h.registry.startAll();
    await settle(6);
    await h.net.advance(8_000, 1);
    const gaps = h.net.connectAttempts.slice(1).map((t, i) => t - h.net.connectAttempts[i]!);
    expect(gaps.slice(0, 8)).toEqual([99, 199, 399, 799, 1_598, 1_598, 1_598, 1_598]);
    expect(h.bind.health()).toMatchObject({
      status: 'unhealthy',
      code: 'NOT_BOUND',
      state: 'backoff',
      lastError: { code: 'SMPP_ERR_CONNECT' },
    });
    expect(h.bind.health().reason).toMatch(/ECONNREFUSED; reconnecting in \d+\.\d s/);
  });

  it('a bind that stayed up stableAfterMs starts again from the initial delay', async () => {
    const h = harness(
      { reconnect: { initialDelayMs: 100, maxDelayMs: 1_600, stableAfterMs: 1_000 } },
      () => 0.999,
    );
    h.net.behaviour.refuseConnect = true;
    h.registry.startAll();
    await h.net.advance(3_000, 10);
    h.net.behaviour.refuseConnect = false;
    await h.net.advance(1_700, 10);
    expect(h.bind.state).toBe('bound');
    await h.net.advance(1_000, 10);
    // The link drops after a stable second: the first retry waits < initialDelayMs.
    h.net.behaviour.refuseConnect = true;
    const before = h.net.connectAttempts.length;
    h.net.clientSockets.at(-1)!.injectError('ECONNRESET');
    await h.net.advance(150, 1);
    expect(h.net.connectAttempts.length).toBe(before + 1);
    expect(h.net.connectAttempts.at(-1)! - h.clock.now()).toBeGreaterThan(-150);
  });
});

describe('throttling', () => {
  it('THROTTLED after a submit gets ESME_RTHROTTLED; the registry sweep clears it after the cooldown', async () => {
    const h = await started({ enquireLinkIntervalMs: 60_000, enquireLinkTimeoutMs: 30_000 });
    h.net.behaviour.submitStatus = CommandStatus.ESME_RTHROTTLED;
    const resp = await (async () => {
      const p = h.bind.request('submit_sm', {
        destination_addr: '447700900123',
        short_message: Buffer.from('hi'),
      });
      await settle(6);
      return p;
    })();
    expect(resp.command_status).toBe(CommandStatus.ESME_RTHROTTLED);
    expect(h.bind.evaluate()).toMatchObject({ status: 'degraded', code: 'THROTTLED' });
    expect(h.bind.health().throttled).toBe(true);
    const throttledAt = h.clock.now();
    await h.net.advance(THROTTLE_COOLDOWN_MS + 20, 10);
    const back = h.transitions.find((t) => t.at > throttledAt && t.to === 'healthy');
    expect(back).toBeDefined();
    expect(back!.at - throttledAt).toBeGreaterThanOrEqual(THROTTLE_COOLDOWN_MS);
    expect(back!.at - throttledAt).toBeLessThanOrEqual(THROTTLE_COOLDOWN_MS + 20);
  });
});

describe('stale epochs', () => {
  it('a connect that resolves after stop() is destroyed and changes nothing', async () => {
    const h = harness();
    h.net.behaviour.hangConnect = true;
    h.registry.startAll();
    await settle();
    expect(h.bind.state).toBe('connecting');
    await h.bind.stop();
    expect(h.bind.state).toBe('stopped');
    const [late] = h.net.releaseConnects();
    await settle(6);
    expect(late!.destroyed).toBe(true);
    expect(h.bind.state).toBe('stopped');
    expect(h.net.live).toBe(0);
    expect(h.net.received).toHaveLength(0);
  });

  it('a bind_resp that arrives after stop() does not revive the bind', async () => {
    const h = harness();
    h.net.behaviour.answerDelayMs = 50;
    h.registry.startAll();
    await settle(6);
    expect(h.bind.state).toBe('binding');
    await h.bind.stop();
    await h.net.advance(100, 10);
    expect(h.bind.state).toBe('stopped');
    expect(h.bind.status).toBe('stopped');
    expect(h.net.live).toBe(0);
  });
});

describe('rebind and stop', () => {
  it('rebind() unbinds the old connection before the new one opens', async () => {
    const h = await started();
    const first = h.net.last!;
    const rebinding = h.bind.rebind();
    await h.net.advance(20, 1);
    await rebinding;
    await settle(6);
    expect(first.closed).toBe(true);
    expect(h.net.commands('unbind')).toHaveLength(1);
    expect(h.net.sessions).toHaveLength(2);
    expect(h.net.maxLive).toBe(1);
    expect(h.bind.state).toBe('bound');
    expect(h.bind.health().counters).toMatchObject({ binds: 2, reconnects: 1 });
  });

  it('concurrent rebind() calls never hold two connections at once', async () => {
    const h = await started();
    h.net.behaviour.answerDelayMs = 5; // unbind_resp takes a moment
    const calls = Array.from({ length: 5 }, () => h.bind.rebind());
    await h.net.advance(100, 1);
    await Promise.all(calls);
    await h.net.advance(100, 1);
    expect(h.bind.state).toBe('bound');
    expect(h.net.maxLive).toBe(1);
    expect(h.net.live).toBe(1);
  });

  it('rebind() while a connect is pending does not open a second connection', async () => {
    const h = harness();
    h.net.behaviour.hangConnect = true;
    h.registry.startAll();
    await settle();
    const rebinding = h.bind.rebind();
    await settle();
    h.net.behaviour.hangConnect = false;
    h.net.releaseConnects();
    await rebinding;
    await h.net.advance(50, 1);
    expect(h.bind.state).toBe('bound');
    expect(h.net.maxLive).toBe(1);
  });

  it('rebind() on a stopped or never started bind throws SmppBindStoppedError', async () => {
    const h = harness();
    await expect(h.bind.rebind()).rejects.toBeInstanceOf(SmppBindStoppedError);
    h.registry.startAll();
    await settle(6);
    await h.bind.stop();
    await expect(h.bind.rebind()).rejects.toMatchObject({ code: 'SMPP_ERR_BIND_STOPPED' });
  });

  it('stop() unbinds, waits for unbind_resp, reports stopped and leaves nothing armed', async () => {
    const h = await started();
    const stopping = h.bind.stop();
    expect(h.bind.state).toBe('stopping');
    expect(h.bind.status).toBe('stopped');
    await h.net.advance(10, 1);
    await stopping;
    expect(h.bind.state).toBe('stopped');
    expect(h.net.commands('unbind')).toHaveLength(1);
    expect(h.net.live).toBe(0);
    const health = h.bind.health();
    expect(health).toMatchObject({ status: 'stopped', code: 'STOPPED', sessionState: null });
    expect(health.uptimeMs).toBeNull();
    expect(health.boundAt).toBeNull();
    expect(h.bind.aliveAgeMs()).toBeNull();
    await expect(h.bind.probe()).rejects.toBeInstanceOf(SmppBindStoppedError);
    // Nothing reconnects later.
    await h.net.advance(5_000, 100);
    expect(h.net.sessions).toHaveLength(1);
  });

  it('stop() against a silent SMSC completes within unbindTimeoutMs', async () => {
    const h = await started();
    h.net.behaviour.blackhole = true;
    let done = false;
    const stopping = h.bind.stop().then(() => {
      done = true;
    });
    await h.net.advance(290, 10);
    expect(done).toBe(false);
    await h.net.advance(20, 10);
    await stopping;
    expect(done).toBe(true);
    expect(h.bind.state).toBe('stopped');
  });

  it('stop() during a rebind resolves only once the old connection is closed', async () => {
    const h = await started();
    h.net.behaviour.blackhole = true; // unbind_resp never comes: the old session waits unbindTimeoutMs
    const rebinding = h.bind.rebind().catch(() => {});
    await settle();
    let stopped = false;
    const stopping = h.bind.stop().then(() => {
      stopped = true;
    });
    await h.net.advance(290, 10);
    expect(stopped).toBe(false);
    expect(h.net.sessions).toHaveLength(1); // no new connection while the old one unbinds
    await h.net.advance(20, 5);
    await stopping;
    await rebinding;
    expect(h.net.live).toBe(0);
    expect(h.bind.state).toBe('stopped');
    await h.net.advance(2_000, 100);
    expect(h.net.sessions).toHaveLength(1);
  });

  it('start() after stop() binds again with a fresh backoff', async () => {
    const h = await started();
    await (async () => {
      const s = h.bind.stop();
      await h.net.advance(10, 1);
      await s;
    })();
    h.bind.start();
    await settle(6);
    expect(h.bind.state).toBe('bound');
    expect(h.bind.status).toBe('healthy');
    expect(h.bind.health().reconnect.attempt).toBe(0);
  });

  it('a rebind that fails to reconnect is not reported as bound (no stale uptime)', async () => {
    const h = await started();
    h.net.behaviour.refuseConnect = true;
    const r = h.bind.rebind();
    await h.net.advance(10, 1);
    await r;
    await settle(6);
    const health = h.bind.health();
    expect(health.state).toBe('backoff');
    expect(health.uptimeMs).toBeNull();
    expect(health.boundAt).toBeNull();
    expect(h.bind.aliveAgeMs()).toBeNull();
  });
});

describe('unbound event', () => {
  it('fires once per bound connection lost, with the close reason', async () => {
    const h = await started();
    const unbound: string[] = [];
    h.bind.on('unbound', (u) => unbound.push(u.reason));
    h.net.clientSockets.at(-1)!.injectError('ECONNRESET');
    await h.net.advance(200, 5);
    expect(h.bind.state).toBe('bound');
    expect(unbound).toEqual(['socket_error']);
    // A failed bind afterwards is not another "unbound".
    h.net.behaviour.bindStatus = CommandStatus.ESME_RBINDFAIL;
    h.net.clientSockets.at(-1)!.injectEnd();
    await h.net.advance(3_000, 20);
    expect(unbound).toEqual(['socket_error', 'peer_closed']);
  });
});

describe('bound and unbound alternate', () => {
  it('rebind() and stop() emit unbound (local_close) for the bound session they retire', async () => {
    const h = await started();
    const events: string[] = [];
    h.bind.on('bound', () => events.push('bound'));
    h.bind.on('unbound', (u) => events.push(`unbound:${u.reason}`));
    const r = h.bind.rebind();
    await h.net.advance(20, 1);
    await r;
    await settle(6);
    const s = h.bind.stop();
    await h.net.advance(20, 1);
    await s;
    expect(events).toEqual(['unbound:local_close', 'bound', 'unbound:local_close']);
  });
});

describe('a connect function that throws', () => {
  it('is recorded and retried like a refused connection', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const registry = new BindRegistry({
      clock,
      random: () => 0.5,
      connect: () => {
        calls++;
        throw new TypeError('bad socket options');
      },
    });
    const bind = registry.add(options());
    registry.startAll();
    await settle(6);
    expect(bind.health()).toMatchObject({ state: 'backoff', lastError: { message: 'bad socket options' } });
    clock.advance(60);
    await settle(6);
    expect(calls).toBe(2);
    await registry.stopAll(100);
  });
});
