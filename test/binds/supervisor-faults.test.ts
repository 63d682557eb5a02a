/**
 * BindSupervisor against the SMSC simulator over loopback, real sockets and real timers (interval
 * 200 ms, timeout 100 ms): what each fault of the simulator's catalogue does to the health of a
 * bind, that it reconnects when it must, and that it recovers once the fault is cleared.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BindSupervisor } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import type { Fault } from '../../src/simulator/simulator.js';
import { type StartedSimulator, startSimulator, waitFor } from '../helpers/simulator.js';

const INTERVAL = 200;
const TIMEOUT = 100;
/**
 * Real time gives only lower bounds and eventual outcomes here: test files run in parallel on a
 * shared 2-core machine and timers fire late under load. The exact detection bounds (the upper
 * bounds) are asserted on a FakeClock in supervisor-clock.test.ts and test/session/*.test.ts.
 */
const EVENTUALLY_MS = 5_000;

function bindOptions(port: number, over: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id: 'sim',
    host: '127.0.0.1',
    port,
    systemId: 'bridge',
    password: 'secret',
    enquireLinkIntervalMs: INTERVAL,
    enquireLinkTimeoutMs: TIMEOUT,
    maxMissedProbes: 2,
    degradedLatencyMs: 30,
    minProbeIntervalMs: 0,
    connectTimeoutMs: 1_000,
    bindTimeoutMs: 300,
    responseTimeoutMs: 300,
    unbindTimeoutMs: 200,
    reconnect: { initialDelayMs: 50, maxDelayMs: 400, stableAfterMs: 60_000 },
    ...over,
  });
}

interface Event {
  at: number;
  kind: string;
  detail: string;
}

interface Harness {
  sim: StartedSimulator;
  registry: BindRegistry;
  bind: BindSupervisor;
  events: Event[];
  /** Events since `t` (performance.now()), as "kind:detail". */
  since(t: number, kind?: string): Event[];
  /** Ms from `t` to the first event of this kind and detail prefix, or undefined. */
  firstAfter(t: number, kind: string, detail?: string): number | undefined;
}

const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(over: Partial<BindOptions> = {}, faults: Fault[] = []): Promise<Harness> {
  const sim = await startSimulator();
  for (const fault of faults) sim.sim.setFault(fault);
  // random: () => 1 takes every backoff delay at its full-jitter maximum, so the "no reconnect
  // storm" counts below hold however fast this machine runs (timers never fire early).
  const registry = new BindRegistry({ sweepIntervalMs: 20, keepaliveRandom: () => 1, random: () => 1 });
  cleanup.push(async () => {
    await registry.stopAll(2_000);
    await sim.close();
  });
  const bind = registry.add(bindOptions(sim.port, over));
  const events: Event[] = [];
  const push = (kind: string, detail: string): void => {
    events.push({ at: performance.now(), kind, detail });
  };
  bind.on('transition', (t) => push('transition', `${t.to}:${t.code}`));
  bind.on('bound', () => push('bound', ''));
  bind.on('unbound', (u) => push('unbound', u.reason));
  bind.on('probe', (p) => push('probe', p.ok ? `ok:${p.commandStatus}` : `fail:${p.error.name}`));
  registry.startAll();
  const h: Harness = {
    sim,
    registry,
    bind,
    events,
    since: (t, kind) => events.filter((e) => e.at >= t && (kind === undefined || e.kind === kind)),
    firstAfter: (t, kind, detail = '') => {
      const e = events.find((x) => x.at >= t && x.kind === kind && x.detail.startsWith(detail));
      return e === undefined ? undefined : e.at - t;
    },
  };
  return h;
}

async function bound(over: Partial<BindOptions> = {}): Promise<Harness> {
  const h = await setup(over);
  await waitFor(() => h.bind.state === 'bound' && h.bind.status === 'healthy', 3_000, 'bound');
  return h;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Clears every fault and waits until the bind is bound and healthy again. */
async function recovers(h: Harness, withinMs = 3_000): Promise<void> {
  h.sim.sim.clearFault();
  await waitFor(
    () => h.bind.state === 'bound' && h.bind.status === 'healthy',
    withinMs,
    'recovery to bound and healthy',
  );
}

function submit(bind: BindSupervisor) {
  return bind.request('submit_sm', {
    source_addr: 'Bridge',
    destination_addr: '447700900123',
    short_message: Buffer.from('hello'),
  });
}

describe('delay', () => {
  it('answers slower than degradedLatencyMs: degraded HIGH_LATENCY; healthy once cleared', async () => {
    const h = await bound();
    const t = performance.now();
    h.sim.sim.setFault({ kind: 'delay', ms: 60 });
    await waitFor(() => h.bind.evaluate().code === 'HIGH_LATENCY', EVENTUALLY_MS, 'HIGH_LATENCY');
    // Timers never fire early: the round trip is at least the SMSC's delay (less timer granularity).
    expect(h.bind.lastRttMs).toBeGreaterThanOrEqual(55);
    expect(h.bind.state).toBe('bound');
    await recovers(h);
    expect(h.bind.evaluate().code).toBe('OK');
    expect(h.since(t, 'unbound')).toEqual([]);
  });

  it('answers slower than the probe timeout count as misses and end in a reconnect', async () => {
    const h = await bound();
    const t = performance.now();
    h.sim.sim.setFault({ kind: 'delay', ms: 250 });
    await waitFor(() => h.since(t, 'unbound').length > 0, EVENTUALLY_MS, 'unbound');
    expect(h.since(t, 'unbound')[0]!.detail).toBe('keepalive_timeout');
    await recovers(h);
  });
});

describe('blackhole', () => {
  it('degraded PROBE_MISSED within interval + timeout; unhealthy and reconnecting within interval + 2 × timeout', async () => {
    const h = await bound();
    const t = performance.now();
    h.sim.sim.setFault({ kind: 'blackhole' });
    await waitFor(() => h.since(t, 'unbound').length > 0, EVENTUALLY_MS, 'unbound');
    const degradedMs = h.firstAfter(t, 'transition', 'degraded:PROBE_MISSED');
    const unhealthyMs = h.firstAfter(t, 'transition', 'unhealthy');
    // A probe answered just before the fault: the first miss is one timeout later at the earliest;
    // the close (the second miss) comes after it.
    expect(degradedMs).toBeGreaterThanOrEqual(TIMEOUT);
    expect(unhealthyMs).toBeGreaterThan(degradedMs!);
    expect(h.since(t, 'unbound')[0]!.detail).toBe('keepalive_timeout');
    // Reconnecting: binds are swallowed too, so each attempt times out and backs off.
    await sleep(600);
    expect(h.bind.health()).toMatchObject({ status: 'unhealthy', code: 'NOT_BOUND' });
    expect(h.bind.health().counters.reconnects).toBeGreaterThanOrEqual(1);
    await recovers(h);
  });
});

describe('enquire_link_only', () => {
  it('stays healthy: probes are answered, and only probes decide health', async () => {
    const h = await bound();
    const t = performance.now();
    h.sim.sim.setFault({ kind: 'enquire_link_only' });
    await expect(submit(h.bind)).rejects.toMatchObject({ code: 'SMPP_ERR_SESSION_RESPONSE_TIMEOUT' });
    await sleep(3 * INTERVAL);
    expect(h.bind.status).toBe('healthy');
    expect(h.since(t, 'transition')).toEqual([]);
    expect(h.since(t, 'probe').map((e) => e.detail)).toContain('ok:0');
    expect(h.since(t, 'unbound')).toEqual([]);
    await recovers(h);
  });
});

describe('drop', () => {
  for (const [mode, reason] of [
    ['fin', 'peer_closed'],
    ['rst', 'socket_error'],
  ] as const) {
    it(`${mode}: the connection closes (${reason}); the bind reconnects with backoff and is healthy again`, async () => {
      const h = await bound();
      const t = performance.now();
      h.sim.sim.setFault({ kind: 'drop', mode });
      await waitFor(() => h.since(t, 'unbound').length > 0, EVENTUALLY_MS, 'unbound');
      expect(h.since(t, 'unbound')[0]!.detail).toBe(reason);
      expect(h.bind.status).toBe('unhealthy');
      // While the fault holds, every bind is closed right after bind_resp: backoff, no storm.
      await sleep(800);
      const binds = h.since(t, 'bound').length;
      expect(binds).toBeLessThanOrEqual(8);
      await recovers(h);
      // A session bound just before the fault was cleared may still be dropped (the RST comes a
      // moment after bind_resp): eventually one session, bound and healthy.
      await waitFor(
        () => h.sim.sim.sessions().length === 1 && h.bind.state === 'bound' && h.bind.status === 'healthy',
        EVENTUALLY_MS,
        'one healthy session',
      );
    });
  }
});

describe('refuse_bind', () => {
  it('ESME_RINVPASWD: unhealthy NOT_BOUND with the status name; retried at the cap, not in a storm', async () => {
    const h = await setup({}, [{ kind: 'refuse_bind', status: CommandStatus.ESME_RINVPASWD }]);
    const t = performance.now();
    await waitFor(() => h.bind.health().lastError?.statusName, 2_000, 'a refused bind');
    const health = h.bind.health();
    expect(health).toMatchObject({ status: 'unhealthy', code: 'NOT_BOUND' });
    expect(health.lastError).toMatchObject({ code: 'SMPP_ERR_BIND', statusName: 'ESME_RINVPASWD' });
    // The delay itself (90–100 % of the cap) is asserted on a fake clock (supervisor-clock.test.ts).
    expect(health.reason).toMatch(/ESME_RINVPASWD.*reconnecting in \d+\.\d s/);
    await sleep(1_500);
    // Every retry waits at least 90 % of the 400 ms cap (timers never fire early): at most 5
    // attempts in 1.5 s (plus the first), never dozens. Load only makes it fewer.
    const attempts = h.sim.sim.counters().in.bind_transceiver ?? 0;
    expect(attempts).toBeLessThanOrEqual(6);
    expect(h.since(t, 'bound')).toEqual([]);
    await recovers(h, 1_000);
  });
});

describe('throttle', () => {
  it('a submit answered ESME_RTHROTTLED makes the bind degraded THROTTLED, still bound', async () => {
    const h = await bound();
    h.sim.sim.setFault({ kind: 'throttle', maxPerSecond: 0 });
    const resp = await submit(h.bind);
    expect(resp.command_status).toBe(CommandStatus.ESME_RTHROTTLED);
    expect(h.bind.evaluate()).toMatchObject({ status: 'degraded', code: 'THROTTLED' });
    expect(h.bind.health().throttled).toBe(true);
    expect(h.bind.state).toBe('bound');
    // Probes still pass; the cooldown (10 s) is proven on a FakeClock in supervisor-clock.test.ts.
    await sleep(INTERVAL + 50);
    expect(h.bind.evaluate().code).toBe('THROTTLED');
  });
});

describe('error_status', () => {
  it('on submit_sm: the status reaches the caller, the bind stays healthy', async () => {
    const h = await bound();
    h.sim.sim.setFault({ kind: 'error_status', status: CommandStatus.ESME_RSYSERR });
    const resp = await submit(h.bind);
    expect(resp.command_status).toBe(CommandStatus.ESME_RSYSERR);
    await sleep(INTERVAL + 50);
    expect(h.bind.status).toBe('healthy');
  });

  it('on enquire_link: the link is alive but the probe is refused: degraded PROBE_REJECTED until answered OK', async () => {
    const h = await bound();
    h.sim.sim.setFault({
      kind: 'error_status',
      status: CommandStatus.ESME_RSYSERR,
      commands: ['enquire_link'],
    });
    const error = await h.bind.probe().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SMPP_ERR_PROBE_REJECTED',
      commandStatus: CommandStatus.ESME_RSYSERR,
      statusName: 'ESME_RSYSERR',
    });
    expect(h.bind.evaluate()).toMatchObject({ status: 'degraded', code: 'PROBE_REJECTED' });
    const health = h.bind.health();
    expect(health.consecutiveFailures).toBe(0);
    expect(health.lastProbe).toMatchObject({ ok: false, error: expect.stringContaining('ESME_RSYSERR') });
    expect(health.lastError).toMatchObject({ code: 'SMPP_ERR_PROBE_REJECTED', statusName: 'ESME_RSYSERR' });
    expect(h.bind.state).toBe('bound');
    await recovers(h);
    expect(h.bind.evaluate().code).toBe('OK');
  });

  it('on bind: treated like a refusal and retried', async () => {
    const h = await setup({}, [
      { kind: 'error_status', status: CommandStatus.ESME_RBINDFAIL, commands: ['bind_transceiver'] },
    ]);
    await waitFor(() => h.bind.health().lastError?.statusName === 'ESME_RBINDFAIL', 2_000, 'refusal');
    expect(h.bind.status).toBe('unhealthy');
    await recovers(h, 1_000);
  });
});

describe('wrong_sequence', () => {
  it('answers that match nothing are no proof of life: probes miss, the bind reconnects', async () => {
    const h = await bound();
    const t = performance.now();
    h.sim.sim.setFault({ kind: 'wrong_sequence' });
    await waitFor(() => h.since(t, 'unbound').length > 0, EVENTUALLY_MS, 'unbound');
    expect(h.since(t, 'unbound')[0]!.detail).toBe('keepalive_timeout');
    // At least a whole miss after the fault; the upper bound is on a fake clock (supervisor-clock.test.ts).
    expect(h.firstAfter(t, 'unbound')).toBeGreaterThanOrEqual(TIMEOUT);
    await recovers(h);
  });
});

describe('generic_nack', () => {
  it('enquire_link answered with generic_nack: the peer is there, the probe is refused (PROBE_REJECTED)', async () => {
    const h = await bound();
    h.sim.sim.setFault({ kind: 'generic_nack' });
    const error = await h.bind.probe().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SMPP_ERR_PROBE_REJECTED',
      commandStatus: CommandStatus.ESME_RSYSERR,
    });
    expect(h.bind.evaluate()).toMatchObject({ status: 'degraded', code: 'PROBE_REJECTED' });
    const resp = await submit(h.bind);
    expect(resp).toMatchObject({ command: 'generic_nack', command_status: CommandStatus.ESME_RSYSERR });
    expect(h.bind.state).toBe('bound');
  });

  it('a bind answered with generic_nack is refused and retried; recovers when cleared', async () => {
    const h = await setup({}, [{ kind: 'generic_nack' }]);
    await waitFor(() => h.bind.health().lastError?.statusName === 'ESME_RSYSERR', 2_000, 'refusal');
    expect(h.bind.status).toBe('unhealthy');
    await recovers(h, 1_000);
  });
});

describe('malformed', () => {
  it('enquire_link_resp with a stray octet is tolerated: still healthy', async () => {
    const h = await bound();
    const t = performance.now();
    h.sim.sim.setFault({ kind: 'malformed' });
    const result = await h.bind.probe();
    expect(result.ok).toBe(true);
    await sleep(INTERVAL + 50);
    expect(h.bind.status).toBe('healthy');
    expect(h.since(t, 'unbound')).toEqual([]);
  });

  it('a bind_resp with a broken TLV area fails the bind, which is retried until cleared', async () => {
    const h = await setup({}, [{ kind: 'malformed' }]);
    await waitFor(() => h.bind.health().counters.bindFailures >= 2, 2_000, 'two failed binds');
    expect(h.bind.health().lastError?.code).toMatch(/^SMPP_ERR_DECODE/);
    expect(h.bind.status).toBe('unhealthy');
    await recovers(h, 1_000);
  });
});

describe('bad_length', () => {
  for (const mode of ['short', 'long'] as const) {
    it(`${mode}: framing is lost, the bind reconnects (framing_lost) and recovers when cleared`, async () => {
      const h = await bound();
      const t = performance.now();
      h.sim.sim.setFault({ kind: 'bad_length', mode });
      await h.bind.probe().catch(() => {});
      await waitFor(() => h.since(t, 'unbound').length > 0, EVENTUALLY_MS, 'unbound');
      expect(h.since(t, 'unbound')[0]!.detail).toBe('framing_lost');
      expect(h.bind.health().lastError?.code).toBe('SMPP_ERR_DECODE_FRAMING');
      await recovers(h);
    });
  }
});

describe('deliver_before_bind_resp', () => {
  it('the early deliver_sm is refused (ESME_RINVBNDSTS) and the bind completes healthy', async () => {
    const h = await setup({}, [{ kind: 'deliver_before_bind_resp' }]);
    await waitFor(() => h.bind.state === 'bound' && h.bind.status === 'healthy', 2_000, 'bound');
    expect(h.bind.health().counters.pdusOut.deliver_sm_resp).toBe(1);
    await waitFor(() => h.sim.sim.counters().in.deliver_sm_resp === 1, 1_000, 'the answer at the SMSC');
  });
});

describe('slow_loris', () => {
  it('answers dripping one octet every 200 ms: probes miss, the bind reconnects; healthy once cleared', async () => {
    const h = await bound();
    const t = performance.now();
    h.sim.sim.setFault({ kind: 'slow_loris' });
    await waitFor(() => h.since(t, 'unbound').length > 0, EVENTUALLY_MS, 'unbound');
    expect(h.since(t, 'unbound')[0]!.detail).toBe('keepalive_timeout');
    // At least a whole miss after the fault; the upper bound is on a fake clock (supervisor-clock.test.ts).
    expect(h.firstAfter(t, 'unbound')).toBeGreaterThanOrEqual(TIMEOUT);
    await recovers(h);
  });
});

describe('simulator restart', () => {
  it('killed and restarted on the same port: the bind comes back on its own', async () => {
    const h = await bound();
    const port = h.sim.port;
    const t = performance.now();
    await h.sim.close();
    await waitFor(() => h.since(t, 'unbound').length > 0, EVENTUALLY_MS, 'unbound');
    expect(h.bind.status).toBe('unhealthy');
    await sleep(300); // a few refused connects
    expect(h.bind.health().lastError).toMatchObject({ code: 'SMPP_ERR_CONNECT' });
    expect(h.bind.health().lastError?.message).toContain('ECONNREFUSED');
    const again = await startSimulator({ port });
    cleanup.push(() => again.close());
    await waitFor(() => h.bind.state === 'bound' && h.bind.status === 'healthy', 3_000, 'rebound');
    expect(again.sim.sessions()).toHaveLength(1);
    expect(again.sim.sessions()[0]!.systemId).toBe('bridge');
  });
});
