/**
 * BindRegistry on a FakeClock: readiness by policy (all, any, quorum, atLeast; strict or not),
 * draining, stopAll with its timeout, forwarded events, and the sweep that turns time-based rules
 * (a stalled probe, a throttle that expired) into transitions when nothing else happens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthTransition } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { FakeClock } from '../../src/session/clock.js';
import type { ConnectOptions } from '../../src/session/connect.js';
import { settle } from '../helpers/memory-duplex.js';
import { MemoryNetwork } from './helpers/memory-network.js';

function bindOptions(id: string, port: number, over: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id,
    host: 'smsc.test',
    port,
    systemId: id,
    password: 'secret',
    enquireLinkIntervalMs: 200,
    enquireLinkTimeoutMs: 100,
    maxMissedProbes: 2,
    degradedLatencyMs: 50,
    minProbeIntervalMs: 0,
    unbindTimeoutMs: 300,
    reconnect: { initialDelayMs: 100, maxDelayMs: 60_000, stableAfterMs: 60_000 },
    ...over,
  });
}

interface World {
  clock: FakeClock;
  registry: BindRegistry;
  advance(ms: number, step?: number): Promise<void>;
  net(port: number): MemoryNetwork;
}

/** One in-memory SMSC per port, so each bind can be given its own trouble. */
function world(ports: number[], sweepIntervalMs = 10): World {
  const clock = new FakeClock();
  const nets = new Map(ports.map((p) => [p, new MemoryNetwork(clock)]));
  const registry = new BindRegistry({
    clock,
    random: () => 0.5,
    keepaliveRandom: () => 1,
    sweepIntervalMs,
    connect: (o: ConnectOptions) => nets.get(o.port)!.connect(o),
  });
  const advance = async (ms: number, step = 5): Promise<void> => {
    for (let left = ms; left > 0; left -= step) {
      clock.advance(Math.min(step, left));
      await settle(6);
    }
  };
  const w: World = { clock, registry, advance, net: (port: number) => nets.get(port)! };
  worlds.push(w);
  return w;
}

const worlds: World[] = [];

afterEach(async () => {
  for (const w of worlds.splice(0)) {
    const stopping = w.registry.stopAll(1_000);
    await w.advance(1_000, 50);
    await stopping;
  }
});

/** Four binds: two healthy, one degraded (slow), one unhealthy (refused). */
async function mixed(): Promise<World> {
  const w = world([1, 2, 3, 4]);
  for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) w.registry.add(bindOptions(id, i + 1));
  w.net(3).behaviour.answerDelayMs = 80;
  w.net(4).behaviour.bindStatus = CommandStatus.ESME_RINVPASWD;
  w.registry.startAll();
  // c binds 80 ms late, probes 200 ms later and gets its answer 80 ms after that.
  await w.advance(400, 1);
  const status = Object.fromEntries(w.registry.list().map((b) => [b.id, b.evaluate().code]));
  expect(status).toEqual({ a: 'OK', b: 'OK', c: 'HIGH_LATENCY', d: 'NOT_BOUND' });
  return w;
}

describe('readiness policies', () => {
  it('with no binds at all only `all` holds (vacuously); any, quorum and atLeast need a passing bind', () => {
    const w = world([]);
    expect(w.registry.readiness('all')).toMatchObject({ ready: true, required: 0, total: 0 });
    expect(w.registry.readiness('any')).toMatchObject({ ready: false, required: 1 });
    expect(w.registry.readiness('quorum')).toMatchObject({ ready: false, required: 1 });
    expect(w.registry.readiness('atLeast', 1)).toMatchObject({ ready: false, required: 1 });
  });

  it('all: every bind passing (degraded passes unless strict)', async () => {
    const w = await mixed();
    expect(w.registry.readiness('all')).toMatchObject({
      ready: false,
      policy: 'all',
      required: 4,
      healthy: 3,
      total: 4,
    });
    await w.registry.get('d')!.stop();
    // A stopped bind never passes.
    expect(w.registry.readiness('all').ready).toBe(false);
  });

  it('any: one passing bind is enough', async () => {
    const w = await mixed();
    expect(w.registry.readiness('any')).toMatchObject({ ready: true, required: 1, healthy: 3 });
    expect(w.registry.readiness('any', 1, true)).toMatchObject({ ready: true, healthy: 2 });
  });

  it('quorum: a strict majority; strict mode does not count degraded binds', async () => {
    const w = await mixed();
    expect(w.registry.readiness('quorum')).toMatchObject({ ready: true, required: 3, healthy: 3 });
    expect(w.registry.readiness('quorum', 1, true)).toMatchObject({ ready: false, required: 3, healthy: 2 });
  });

  it('atLeast: minHealthy passing binds', async () => {
    const w = await mixed();
    expect(w.registry.readiness('atLeast', 3)).toMatchObject({ ready: true, required: 3 });
    expect(w.registry.readiness('atLeast', 4)).toMatchObject({ ready: false, required: 4 });
    expect(w.registry.readiness('atLeast', 3, true)).toMatchObject({ ready: false, healthy: 2 });
  });

  it('lists each bind with its status and reason', async () => {
    const w = await mixed();
    const { binds } = w.registry.readiness('all');
    expect(binds.map((b) => [b.id, b.status])).toEqual([
      ['a', 'healthy'],
      ['b', 'healthy'],
      ['c', 'degraded'],
      ['d', 'unhealthy'],
    ]);
    expect(binds[3]!.reason).toContain('ESME_RINVPASWD');
    expect(binds[2]!.reason).toContain('round trip 80.0 ms > 50 ms');
  });

  it('nothing is ready before the binds are up; everything is once they are', async () => {
    const w = world([1, 2]);
    w.registry.add(bindOptions('a', 1));
    w.registry.add(bindOptions('b', 2));
    for (const policy of ['all', 'any', 'quorum', 'atLeast'] as const) {
      expect(w.registry.readiness(policy, 1).ready).toBe(false);
    }
    w.registry.startAll();
    await settle(6);
    for (const policy of ['all', 'any', 'quorum', 'atLeast'] as const) {
      expect(w.registry.readiness(policy, 2).ready).toBe(true);
    }
  });
});

describe('draining and stopping', () => {
  it('drain() fails readiness at once while the binds keep running', async () => {
    const w = await mixed();
    expect(w.registry.isDraining).toBe(false);
    w.registry.drain();
    expect(w.registry.isDraining).toBe(true);
    for (const policy of ['all', 'any', 'quorum', 'atLeast'] as const) {
      expect(w.registry.readiness(policy, 0).ready).toBe(false);
    }
    expect(w.registry.get('a')!.state).toBe('bound');
  });

  it('stopAll() unbinds every bind and reports all stopped', async () => {
    const w = await mixed();
    const stopping = w.registry.stopAll(1_000);
    await w.advance(20, 1);
    expect(await stopping).toEqual({ timedOut: false, abandoned: [] });
    expect(w.registry.list().map((b) => b.status)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    for (const port of [1, 2, 3]) expect(w.net(port).commands('unbind')).toHaveLength(1);
    for (const port of [1, 2, 3, 4]) expect(w.net(port).live).toBe(0);
    expect(w.registry.readiness('any').ready).toBe(false);
  });

  it('stopAll(timeoutMs) bounds the whole stop: binds waiting on a silent SMSC are abandoned, sockets destroyed', async () => {
    const w = world([1, 2, 3]);
    // Each bind would wait 5 s for its unbind_resp; the shutdown bound is 200 ms.
    for (const port of [1, 2, 3]) w.registry.add(bindOptions(`b${port}`, port, { unbindTimeoutMs: 5_000 }));
    w.registry.startAll();
    await settle(6);
    for (const port of [1, 2, 3]) w.net(port).behaviour.blackhole = true;
    const stopping = w.registry.stopAll(200);
    await w.advance(195, 5);
    for (const port of [1, 2, 3]) expect(w.net(port).live).toBe(1);
    await w.advance(10, 5);
    expect(await stopping).toEqual({ timedOut: true, abandoned: ['b1', 'b2', 'b3'] });
    await settle(6);
    // Well before any bind's own 5 s unbind timeout: every socket is gone and every bind stopped.
    for (const port of [1, 2, 3]) expect(w.net(port).live).toBe(0);
    expect(w.registry.list().map((b) => b.state)).toEqual(['stopped', 'stopped', 'stopped']);
  });

  it('a probe in flight when shutdown stops its bind fails as BIND_STOPPED, not as a closed session', async () => {
    const w = world([1]);
    w.registry.add(bindOptions('a', 1, { unbindTimeoutMs: 5_000, enquireLinkTimeoutMs: 10_000 }));
    w.registry.startAll();
    await settle(6);
    w.net(1).behaviour.blackhole = true;
    const probe = w.registry.get('a')!.probe({ timeoutMs: 10_000 });
    const outcome = probe.then(
      () => null,
      (error: unknown) => error as { code?: string; bindId?: string },
    );
    const stopping = w.registry.stopAll(200);
    await w.advance(210, 5);
    await stopping;
    expect(await outcome).toMatchObject({ code: 'SMPP_ERR_BIND_STOPPED', bindId: 'a' });
  });

  it('refuses a duplicate bind id', () => {
    const w = world([1]);
    w.registry.add(bindOptions('a', 1));
    expect(() => w.registry.add(bindOptions('a', 1))).toThrow(
      expect.objectContaining({ code: 'SMPP_ERR_BIND_EXISTS', bindId: 'a' }),
    );
    expect(w.registry.size).toBe(1);
    expect(w.registry.get('a')?.id).toBe('a');
    expect(w.registry.get('zz')).toBeUndefined();
  });
});

describe('events and the sweep', () => {
  it('forwards every bind transition and probe with its bindId', async () => {
    const w = world([1, 2]);
    w.registry.add(bindOptions('a', 1));
    w.registry.add(bindOptions('b', 2));
    const transitions: HealthTransition[] = [];
    const probes: string[] = [];
    w.registry.on('transition', (t) => transitions.push(t));
    w.registry.on('probe', (p) => probes.push(`${p.bindId}:${p.ok}`));
    w.registry.startAll();
    await w.advance(210, 1);
    expect(transitions.map((t) => `${t.bindId}:${t.from}->${t.to}:${t.code}`)).toEqual([
      'a:unhealthy->healthy:OK',
      'b:unhealthy->healthy:OK',
    ]);
    expect(transitions[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(probes).toEqual(['a:true', 'b:true']);
  });

  it('PROBE_STALE: a stalled probe leaves the link silent past the bound; the sweep reports it', async () => {
    const w = world([1]);
    const bind = w.registry.add(bindOptions('a', 1));
    const transitions: { at: number; to: string; code: string }[] = [];
    w.registry.on('transition', (t) => transitions.push({ at: w.clock.now(), to: t.to, code: t.code }));
    w.registry.startAll();
    await settle(6);
    const boundAt = w.clock.now();
    // The SMSC goes silent while a manual probe with a long timeout is out: keepalive waits for it.
    w.net(1).behaviour.blackhole = true;
    bind.probe({ timeoutMs: 10_000 }).catch(() => {});
    await w.advance(450, 1);
    const stale = transitions.find((t) => t.code === 'PROBE_STALE');
    expect(stale).toMatchObject({ to: 'unhealthy' });
    // Detected by the sweep (every 10 ms) once 400 ms (interval + 2 × timeout) have passed.
    expect(stale!.at - boundAt).toBeGreaterThan(400);
    expect(stale!.at - boundAt).toBeLessThanOrEqual(410);
    expect(bind.aliveAgeMs()).toBeGreaterThan(400);
  });

  it('without the sweep nothing would notice: no transition until someone asks', async () => {
    const w = world([1], 60_000);
    const bind = w.registry.add(bindOptions('a', 1));
    const codes: string[] = [];
    w.registry.on('transition', (t) => codes.push(t.code));
    w.registry.startAll();
    await settle(6);
    w.net(1).behaviour.blackhole = true;
    bind.probe({ timeoutMs: 10_000 }).catch(() => {});
    await w.advance(450, 5);
    expect(codes).toEqual(['OK']);
    expect(bind.status).toBe('unhealthy');
    expect(codes).toEqual(['OK', 'PROBE_STALE']);
  });

  it('the sweep stops after stopAll(): no timer left on the clock', async () => {
    const w = world([1]);
    w.registry.add(bindOptions('a', 1));
    w.registry.startAll();
    await settle(6);
    const stopping = w.registry.stopAll(1_000);
    await w.advance(20, 1);
    await stopping;
    await w.advance(100, 10);
    expect(w.clock.pending).toBe(0);
  });
});

describe('the bind set', () => {
  it('starts a bind added after startAll at once; refuses bad options with every offending key, adding nothing', async () => {
    const w = world([1]);
    w.registry.startAll();
    const a = w.registry.add(bindOptions('a', 1));
    await w.advance(20);
    expect(a.state).toBe('bound');
    const bad = { ...bindOptions('b', 1), port: 70_000, windowSize: 0, id: 'b' };
    expect(() => w.registry.add(bad)).toThrow(
      expect.objectContaining({
        code: 'SMPP_ERR_BIND_INVALID_OPTIONS',
        issues: [
          { field: 'port', message: 'must be a port number from 1 to 65535' },
          { field: 'windowSize', message: 'must be an integer from 1 to 1000' },
        ],
      }),
    );
    expect(w.registry.get('b')).toBeUndefined();
  });

  it('remove unbinds, detaches every listener, forgets the id and then emits removed', async () => {
    const w = world([1]);
    const a = w.registry.add(bindOptions('a', 1));
    w.registry.startAll();
    await w.advance(20);
    const forwarded: HealthTransition[] = [];
    w.registry.on('transition', (t) => forwarded.push(t));
    const events: string[] = [];
    w.registry.on('removed', ({ bindId }) => {
      events.push(`removed ${bindId}: still listed=${w.registry.get(bindId) !== undefined}`);
    });
    const removing = w.registry.remove('a');
    // Gone from the set at once: nothing new reaches it.
    expect(w.registry.get('a')).toBeUndefined();
    expect(w.registry.size).toBe(0);
    await w.advance(50);
    await removing;
    expect(w.net(1).commands('unbind')).toHaveLength(1);
    expect(events).toEqual(['removed a: still listed=false']);
    expect(a.state).toBe('stopped');
    expect(a.listenerCount('transition') + a.listenerCount('probe')).toBe(0);
    // The stop transition was the last one forwarded; the detached bind forwards nothing more.
    const count = forwarded.length;
    a.start();
    await w.advance(20);
    expect(forwarded).toHaveLength(count);
    await a.stop();
    await expect(w.registry.remove('a')).rejects.toMatchObject({ code: 'SMPP_ERR_BIND_UNKNOWN' });
    expect(() => w.registry.start('nope')).toThrow(
      expect.objectContaining({ code: 'SMPP_ERR_BIND_UNKNOWN' }),
    );
  });

  it('start(id) and stop(id) run one bind', async () => {
    const w = world([1, 2]);
    w.registry.add(bindOptions('a', 1));
    w.registry.add(bindOptions('b', 2));
    w.registry.start('a');
    await w.advance(20);
    expect(w.registry.list().map((b) => b.state)).toEqual(['bound', 'idle']);
    const stopping = w.registry.stop('a');
    await w.advance(20);
    await stopping;
    expect(w.registry.get('a')!.state).toBe('stopped');
  });

  it('replace applies tuning without a reconnect, and reconnects when a connection field changed', async () => {
    const w = world([1, 2]);
    const a = w.registry.add(bindOptions('a', 1));
    w.registry.startAll();
    await w.advance(20);
    expect(w.registry.replace('a', bindOptions('a', 1))).toBe('unchanged');
    expect(
      w.registry.replace('a', bindOptions('a', 1, { degradedLatencyMs: 10, enquireLinkIntervalMs: 500 })),
    ).toBe('tuned');
    expect(a.options.degradedLatencyMs).toBe(10);
    await w.advance(20);
    expect(w.net(1).sessions).toHaveLength(1);
    expect(a.state).toBe('bound');
    expect(w.registry.replace('a', bindOptions('a', 2))).toBe('rebound');
    await w.advance(50);
    expect(w.net(1).commands('unbind')).toHaveLength(1);
    expect(w.net(2).sessions).toHaveLength(1);
    expect(a.state).toBe('bound');
    expect(a.health().remoteAddress).toBe('smsc.test:2');
    expect(w.registry.replace('a', bindOptions('a', 2, { password: 'other' }))).toBe('rebound');
    expect(() => w.registry.replace('a', bindOptions('b', 2))).toThrow(
      expect.objectContaining({ code: 'SMPP_ERR_BIND_INVALID_OPTIONS' }),
    );
    expect(() => w.registry.replace('zz', bindOptions('zz', 2))).toThrow(
      expect.objectContaining({ code: 'SMPP_ERR_BIND_UNKNOWN' }),
    );
  });

  it('a tuned keepalive applies from the next connection; health keeps judging by the one in use', async () => {
    const w = world([1]);
    const a = w.registry.add(bindOptions('a', 1));
    w.registry.startAll();
    await w.advance(20);
    // A shorter interval than the session probes at: judged by the new one, the bind would look stale.
    w.registry.replace(
      'a',
      bindOptions('a', 1, { enquireLinkIntervalMs: 20, enquireLinkTimeoutMs: 10, maxMissedProbes: 1 }),
    );
    await w.advance(150);
    expect(a.evaluate().code).toBe('OK');
  });

  it('reconcile adds, removes and replaces to match the desired set, and reports what it did', async () => {
    const w = world([1, 2, 3]);
    w.registry.add(bindOptions('a', 1));
    w.registry.add(bindOptions('b', 2));
    w.registry.add(bindOptions('c', 3));
    w.registry.startAll();
    await w.advance(20);
    const removed: string[] = [];
    w.registry.on('removed', ({ bindId }) => removed.push(bindId));
    const done = w.registry.reconcile([
      bindOptions('b', 2, { degradedLatencyMs: 40 }),
      bindOptions('c', 1),
      bindOptions('d', 3),
      bindOptions('e', 2),
    ]);
    await w.advance(100);
    expect(await done).toEqual({
      added: ['d', 'e'],
      removed: ['a'],
      rebound: ['c'],
      tuned: ['b'],
      unchanged: [],
    });
    expect(removed).toEqual(['a']);
    expect(w.registry.list().map((b) => [b.id, b.state])).toEqual([
      ['b', 'bound'],
      ['c', 'bound'],
      ['d', 'bound'],
      ['e', 'bound'],
    ]);
  });

  it('reconcile checks everything first: a bad or duplicate entry changes nothing', async () => {
    const w = world([1]);
    w.registry.add(bindOptions('a', 1));
    await expect(
      w.registry.reconcile([bindOptions('b', 1), { ...bindOptions('c', 1), host: '' }]),
    ).rejects.toMatchObject({
      code: 'SMPP_ERR_BIND_INVALID_OPTIONS',
    });
    await expect(w.registry.reconcile([bindOptions('b', 1), bindOptions('b', 1)])).rejects.toMatchObject({
      code: 'SMPP_ERR_BIND_EXISTS',
    });
    expect(w.registry.list().map((b) => b.id)).toEqual(['a']);
    // The queue goes on after a refusal.
    expect(await w.registry.reconcile([bindOptions('a', 1)])).toMatchObject({ unchanged: ['a'] });
  });
});

describe('disabled binds (reconcile with disabled)', () => {
  it('a disabled bind is added stopped, never connects, and readiness leaves it out', async () => {
    const w = world([1, 2]);
    w.registry.startAll();
    const done = w.registry.reconcile([bindOptions('a', 1), bindOptions('off', 2)], {
      disabled: new Set(['off']),
    });
    await w.advance(50);
    expect(await done).toMatchObject({ added: ['a', 'off'] });
    expect(w.net(2).connectAttempts).toHaveLength(0);
    expect(w.registry.get('off')?.state).toBe('stopped');
    expect(w.registry.isDisabled('off')).toBe(true);
    expect(w.registry.readiness('all')).toMatchObject({ ready: true, total: 1, healthy: 1 });
  });

  it('disabling stops a running bind and keeps it stopped; enabling starts it again', async () => {
    const w = world([1]);
    w.registry.add(bindOptions('a', 1));
    w.registry.startAll();
    await w.advance(20);
    expect(w.registry.get('a')?.state).toBe('bound');
    const off = w.registry.reconcile([bindOptions('a', 1)], { disabled: new Set(['a']) });
    await w.advance(50);
    expect(await off).toMatchObject({ unchanged: ['a'] });
    expect(w.registry.get('a')?.state).toBe('stopped');
    // A later reconcile that still disables it leaves it stopped.
    const again = w.registry.reconcile([bindOptions('a', 1, { degradedLatencyMs: 40 })], {
      disabled: new Set(['a']),
    });
    await w.advance(200);
    expect(await again).toMatchObject({ tuned: ['a'] });
    expect(w.registry.get('a')?.state).toBe('stopped');
    const on = w.registry.reconcile([bindOptions('a', 1)]);
    await w.advance(50);
    await on;
    expect(w.registry.isDisabled('a')).toBe(false);
    expect(w.registry.get('a')?.state).toBe('bound');
  });
});

describe('standby binds', () => {
  it('a bind added as standby never connects, reports standby, and does not count for readiness', async () => {
    const w = world([1, 2]);
    w.registry.add(bindOptions('a', 1));
    const s = w.registry.add(bindOptions('s', 2), { standby: { owner: 'replica-b' } });
    w.registry.startAll();
    await w.advance(50);
    expect(w.net(2).connectAttempts).toHaveLength(0);
    expect(s.state).toBe('standby');
    expect(s.evaluate()).toEqual({ status: 'standby', code: 'STANDBY', reason: 'run by replica-b' });
    expect(w.registry.readiness('all')).toMatchObject({ ready: true, required: 1, healthy: 1, total: 1 });
    expect(w.registry.readiness('all').binds.map((b) => b.status)).toEqual(['healthy', 'standby']);
  });

  it('a replica holding only standby binds is ready, under every policy', async () => {
    const w = world([1]);
    w.registry.add(bindOptions('s', 1), { standby: {} });
    w.registry.startAll();
    await w.advance(10);
    expect(w.registry.get('s')!.evaluate().reason).toBe('run by another replica');
    for (const policy of ['all', 'any', 'quorum', 'atLeast'] as const) {
      expect(w.registry.readiness(policy).ready).toBe(true);
    }
    w.registry.drain();
    expect(w.registry.readiness('any').ready).toBe(false);
  });

  it('a running bind handed to another replica unbinds; start takes it back, stop makes it stopped', async () => {
    const w = world([1]);
    const a = w.registry.add(bindOptions('a', 1));
    w.registry.startAll();
    await w.advance(20);
    const handing = w.registry.standby('a', 'replica-b');
    expect(a.evaluate().code).toBe('STANDBY');
    await w.advance(50);
    await handing;
    expect(w.net(1).commands('unbind')).toHaveLength(1);
    expect(a.state).toBe('standby');
    w.registry.start('a');
    await w.advance(20);
    expect(a.state).toBe('bound');
    await Promise.all([w.registry.standby('a'), w.advance(50)]);
    expect(a.state).toBe('standby');
    await w.registry.stop('a');
    expect(a.state).toBe('stopped');
    expect(a.evaluate().code).toBe('STOPPED');
  });

  it('a bind taken back while it still unbinds binds again once the old connection is closed', async () => {
    const w = world([1]);
    const a = w.registry.add(bindOptions('a', 1));
    w.registry.startAll();
    await w.advance(20);
    expect(a.state).toBe('bound');
    const handing = w.registry.standby('a', 'replica-b');
    // Taken back before the unbind finished (ownership moved back within a pass).
    w.registry.start('a');
    await w.advance(50);
    await handing;
    await w.advance(50);
    expect(w.net(1).commands('unbind')).toHaveLength(1);
    expect(a.state).toBe('bound');
    expect(a.evaluate().code).toBe('OK');

    // A stop after such a start wins: it stays stopped.
    const handingAgain = w.registry.standby('a');
    w.registry.start('a');
    const stopped = w.registry.stop('a');
    await w.advance(100);
    await Promise.all([handingAgain, stopped]);
    await w.advance(100);
    expect(a.state).toBe('stopped');
  });
});
