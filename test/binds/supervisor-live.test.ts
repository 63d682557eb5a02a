/**
 * BindSupervisor over real loopback sockets: probes (coalescing, rate limit, not blocked by a full
 * window, the SMSC's own enquire_link answered meanwhile), no reconnect storm and never two
 * connections at once (counted on the server side), rebind, stop and stale connects.
 */
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { BindSupervisor } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import {
  SmppBindStoppedError,
  SmppProbeRateLimitedError,
  SmppProbeTimeoutError,
} from '../../src/binds/errors.js';
import { BindRegistry, type BindRegistryOptions } from '../../src/binds/registry.js';
import type { Pdu } from '../../src/protocol/pdu.js';
import { type ConnectOptions, connectSocket } from '../../src/session/connect.js';
import { SmppNotBoundError } from '../../src/session/errors.js';
import type { SmppSession } from '../../src/session/session.js';
import { defaultSmscHandler, startRawSmsc } from '../helpers/raw-smsc.js';
import { type StartedSimulator, startSimulator, waitFor } from '../helpers/simulator.js';
import { type CountingProxy, closedPort, startCountingProxy } from './helpers/counting-proxy.js';

const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bindOptions(port: number, over: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id: 'live',
    host: '127.0.0.1',
    port,
    systemId: 'bridge',
    password: 'secret',
    enquireLinkIntervalMs: 60_000,
    enquireLinkTimeoutMs: 1_000,
    minProbeIntervalMs: 0,
    connectTimeoutMs: 1_000,
    bindTimeoutMs: 500,
    unbindTimeoutMs: 300,
    reconnect: { initialDelayMs: 20, maxDelayMs: 320, stableAfterMs: 60_000 },
    ...over,
  });
}

function registry(deps: BindRegistryOptions = {}): BindRegistry {
  const r = new BindRegistry({ sweepIntervalMs: 50, keepaliveRandom: () => 1, ...deps });
  cleanup.push(async () => {
    await r.stopAll(2_000);
  });
  return r;
}

async function simulator(): Promise<StartedSimulator> {
  const sim = await startSimulator();
  cleanup.push(() => sim.close());
  return sim;
}

async function proxyTo(port: number): Promise<CountingProxy> {
  const proxy = await startCountingProxy({ host: '127.0.0.1', port });
  cleanup.push(() => proxy.close());
  return proxy;
}

async function boundBind(port: number, over: Partial<BindOptions> = {}): Promise<BindSupervisor> {
  const r = registry();
  const bind = r.add(bindOptions(port, over));
  r.startAll();
  await waitFor(() => bind.state === 'bound', 3_000, 'bound');
  return bind;
}

describe('probe()', () => {
  it('100 concurrent probe() calls send one enquire_link and all get its round trip', async () => {
    const sim = await simulator();
    const bind = await boundBind(sim.port);
    const before = sim.sim.counters().in.enquire_link ?? 0;
    const results = await Promise.all(Array.from({ length: 100 }, () => bind.probe()));
    expect((sim.sim.counters().in.enquire_link ?? 0) - before).toBe(1);
    const seqs = new Set(results.map((r) => r.sequenceNumber));
    expect(seqs.size).toBe(1);
    expect(new Set(results.map((r) => r.rttMs)).size).toBe(1);
    expect(results[0]).toMatchObject({ ok: true, commandStatus: 0, trigger: 'manual' });
    expect(bind.health().counters.probesSent).toBe(1);
    expect(bind.health().lastProbe).toMatchObject({ ok: true, trigger: 'manual' });
  });

  it('a new probe within minProbeIntervalMs is refused with retryAfterMs; allowed after it', async () => {
    const sim = await simulator();
    const bind = await boundBind(sim.port, { minProbeIntervalMs: 300 });
    await bind.probe();
    const error = await bind.probe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmppProbeRateLimitedError);
    const limited = error as SmppProbeRateLimitedError;
    expect(limited.code).toBe('SMPP_ERR_PROBE_RATE_LIMITED');
    expect(limited.retriable).toBe(true);
    expect(limited.retryAfterMs).toBeGreaterThan(200);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(300);
    await sleep(limited.retryAfterMs + 5);
    await expect(bind.probe({ trigger: 'external' })).resolves.toMatchObject({
      ok: true,
      trigger: 'external',
    });
  });

  it('not bound: SmppNotBoundError; stopped: SmppBindStoppedError', async () => {
    const r = registry();
    const bind = r.add(bindOptions(await closedPort()));
    await expect(bind.probe()).rejects.toBeInstanceOf(SmppNotBoundError);
    r.startAll();
    await sleep(30);
    await expect(bind.probe()).rejects.toMatchObject({ code: 'SMPP_ERR_SESSION_NOT_BOUND' });
    await bind.stop();
    await expect(bind.probe()).rejects.toBeInstanceOf(SmppBindStoppedError);
  });

  it('no answer within timeoutMs: SmppProbeTimeoutError, counted as a miss', async () => {
    const sim = await simulator();
    const bind = await boundBind(sim.port);
    sim.sim.setFault({ kind: 'blackhole' });
    const error = await bind.probe({ timeoutMs: 80 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmppProbeTimeoutError);
    expect(error).toMatchObject({ code: 'SMPP_ERR_PROBE_TIMEOUT', timeoutMs: 80, bindId: 'live' });
    await waitFor(() => bind.evaluate().code === 'PROBE_MISSED', 500, 'PROBE_MISSED');
    expect(bind.health()).toMatchObject({ consecutiveFailures: 1, lastProbe: { ok: false } });
  });

  it('is not blocked by a full submit window', async () => {
    const sim = await simulator();
    const bind = await boundBind(sim.port, { windowSize: 2, responseTimeoutMs: 5_000 });
    // Submits to this destination are swallowed: they fill the window and stay there.
    sim.sim.setFault({ kind: 'blackhole' }, { destination: '447700900999' });
    const stuck = Array.from({ length: 3 }, () =>
      bind
        .request('submit_sm', { destination_addr: '447700900999', short_message: Buffer.from('x') })
        .catch(() => {}),
    );
    await waitFor(() => bind.health().window.used === 2 && bind.health().window.waiting === 1, 1_000, 'full');
    const result = await bind.probe();
    expect(result.ok).toBe(true);
    // Answered while the window was still full and a request still waited for a slot.
    expect(bind.health().window).toMatchObject({ used: 2, waiting: 1 });
    await bind.stop();
    await Promise.all(stuck);
  });

  it("the SMSC's own enquire_link is answered while our probe is in flight", async () => {
    const held: Pdu[] = [];
    let hold = false;
    const smsc = await startRawSmsc({
      session: {
        enquireLinkIntervalMs: 0,
        interceptor: (pdu) => {
          if (hold && pdu.command === 'enquire_link') {
            held.push(pdu);
            return true;
          }
          return false;
        },
      },
      onRequest: defaultSmscHandler('RAW'),
    });
    cleanup.push(() => smsc.close());
    const bind = await boundBind(smsc.port);
    const ours = await smsc.nextSession();
    hold = true;
    const probe = bind.probe();
    await waitFor(() => held.length === 1, 1_000, 'our probe at the SMSC');
    expect(bind.currentSession?.probing).toBe(true);
    // The SMSC probes us while ours waits: answered at once.
    const theirs = await ours.request('enquire_link');
    expect(theirs.command).toBe('enquire_link_resp');
    // Answered before ours was: our probe is still in flight.
    expect(bind.currentSession?.probing).toBe(true);
    ours.respond(held[0]!);
    await expect(probe).resolves.toMatchObject({ ok: true, sequenceNumber: held[0]!.sequence_number });
  });
});

describe('no reconnect storm', () => {
  it('connection refused: spacing doubles up to the cap (random pinned at its top)', async () => {
    const port = await closedPort();
    const attempts: number[] = [];
    const r = registry({
      random: () => 0.999,
      connect: (o: ConnectOptions) => {
        attempts.push(performance.now());
        return connectSocket(o);
      },
    });
    const bind = r.add(bindOptions(port));
    r.startAll();
    await sleep(1_900);
    await bind.stop();
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // Bounds 20, 40, 80, 160, 320, 320, ... (× 0.999); timers fire late, never early.
    const expected = [20, 40, 80, 160, 320, 320, 320];
    expect(gaps.length).toBeGreaterThanOrEqual(6);
    for (const [i, gap] of gaps.entries()) {
      const bound = expected[Math.min(i, expected.length - 1)]!;
      expect(gap).toBeGreaterThanOrEqual(bound * 0.999 - 2);
      expect(gap).toBeLessThan(bound + 150);
    }
    expect(bind.health().lastError?.message).toContain('ECONNREFUSED');
  });

  it('connection refused with full jitter: every gap under its bound, a handful of attempts per second', async () => {
    const port = await closedPort();
    const attempts: number[] = [];
    const r = registry({
      connect: (o: ConnectOptions) => {
        attempts.push(performance.now());
        return connectSocket(o);
      },
    });
    const bind = r.add(bindOptions(port));
    r.startAll();
    await sleep(2_000);
    await bind.stop();
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeLessThan(Math.min(320, 20 * 2 ** i) + 150);
    // Once capped, the mean gap is half the cap: ~6 attempts a second, not hundreds.
    expect(attempts.length).toBeGreaterThan(5);
    expect(attempts.length).toBeLessThan(40);
  });

  it('an SMSC that accepts then closes at once: at most one connection at a time, spacing grows', async () => {
    const sim = await simulator();
    sim.sim.setFault({ kind: 'drop', mode: 'fin' });
    const proxy = await proxyTo(sim.port);
    const r = registry({ random: () => 0.999 });
    const bind = r.add(bindOptions(proxy.port));
    r.startAll();
    await sleep(2_000);
    await bind.stop();
    expect(proxy.maxLive).toBe(1);
    const gaps = proxy.acceptedAt.slice(1).map((t, i) => t - proxy.acceptedAt[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(5);
    // Each gap is the backoff delay (20, 40, 80, 160, 320, 320, ... × 0.999) plus one bind round trip.
    for (const [i, gap] of gaps.entries()) {
      const delay = Math.min(320, 20 * 2 ** i) * 0.999;
      expect(gap).toBeGreaterThanOrEqual(delay - 2);
      expect(gap).toBeLessThan(delay + 150);
    }
  });
});

describe('rebind()', () => {
  it('gives a fresh connection each time and never two at once (counted at the SMSC side)', async () => {
    const sim = await simulator();
    const proxy = await proxyTo(sim.port);
    const bind = await boundBind(proxy.port);
    const sessionIds = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const before = bind.currentSession;
      await bind.rebind();
      await waitFor(() => bind.state === 'bound', 2_000, 'bound again');
      expect(bind.currentSession).not.toBe(before);
      for (const s of sim.sim.sessions()) sessionIds.add(s.id);
    }
    // Concurrent calls too.
    await Promise.all(Array.from({ length: 10 }, () => bind.rebind()));
    await waitFor(() => bind.state === 'bound', 2_000, 'bound again');
    await sleep(50);
    expect(proxy.maxLive).toBe(1);
    expect(proxy.live).toBe(1);
    expect(sessionIds.size).toBeGreaterThanOrEqual(10);
    // Each old connection was unbound, not just dropped.
    expect(sim.sim.counters().in.unbind).toBeGreaterThanOrEqual(10);
    expect(bind.health().counters.reconnects).toBeGreaterThanOrEqual(11);
  });
});

describe('stop()', () => {
  it('unbinds (the SMSC sees unbind), reports stopped, and leaves no connection', async () => {
    const sim = await simulator();
    const proxy = await proxyTo(sim.port);
    const bind = await boundBind(proxy.port);
    const unbinds: string[] = [];
    sim.sim.on('unbind', (u) => unbinds.push(`${u.systemId}:${u.reason}`));
    const t = performance.now();
    await bind.stop();
    expect(performance.now() - t).toBeLessThan(300);
    expect(bind.state).toBe('stopped');
    expect(bind.status).toBe('stopped');
    expect(sim.sim.counters().in.unbind).toBe(1);
    await waitFor(() => unbinds.length === 1 && proxy.live === 0, 1_000, 'closed at the SMSC');
    expect(unbinds).toEqual(['bridge:peer_unbind']);
  });

  it('an SMSC that never answers unbind: stop() still completes within unbindTimeoutMs', async () => {
    const sim = await simulator();
    const bind = await boundBind(sim.port, { unbindTimeoutMs: 250 });
    sim.sim.setFault({ kind: 'blackhole' });
    const t = performance.now();
    await bind.stop();
    const took = performance.now() - t;
    expect(took).toBeGreaterThanOrEqual(240);
    expect(took).toBeLessThan(250 + 100);
    expect(bind.status).toBe('stopped');
  });

  it('a connect that completes after stop() is destroyed: the SMSC sees it close', async () => {
    const sim = await simulator();
    const proxy = await proxyTo(sim.port);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let late: Duplex | undefined;
    const r = registry({
      connect: async (o: ConnectOptions) => {
        const socket = await connectSocket(o);
        await gate;
        late = socket;
        return socket;
      },
    });
    const bind = r.add(bindOptions(proxy.port));
    r.startAll();
    await waitFor(() => proxy.accepted === 1, 1_000, 'the TCP connection');
    await bind.stop();
    expect(bind.state).toBe('stopped');
    release();
    await waitFor(() => late?.destroyed === true, 1_000, 'the late socket destroyed');
    await waitFor(() => proxy.live === 0, 1_000, 'closed at the SMSC');
    expect(sim.sim.counters().in.bind_transceiver ?? 0).toBe(0);
    expect(bind.state).toBe('stopped');
  });
});

describe('session', () => {
  it('currentSession is the bound session, null otherwise', async () => {
    const sim = await simulator();
    const bind = await boundBind(sim.port);
    const session: SmppSession | null = bind.currentSession;
    expect(session?.bound).toBe(true);
    await bind.stop();
    expect(bind.currentSession).toBeNull();
  });
});
