/**
 * The cheap reads the message router makes of a bind (isBound, windowInUse, windowCapacity,
 * isThrottled, readState) on a FakeClock over an in-memory network: they follow the bind through
 * connecting, bound, requests in flight and queued, an ESME_RTHROTTLED answer and its cooldown,
 * and a lost connection; and readState() allocates nothing.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type BindReadState, type BindSupervisor, THROTTLE_COOLDOWN_MS } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import type { Pdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import { settle } from '../helpers/memory-duplex.js';
import { MemoryNetwork } from './helpers/memory-network.js';

const RESPONSE_TIMEOUT = 1_000;

function options(over: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id: 'r1',
    host: 'smsc.test',
    port: 2775,
    systemId: 'esme',
    password: 'secret',
    // Keepalive out of the way: these tests look at the window and the throttle only.
    enquireLinkIntervalMs: 600_000,
    enquireLinkTimeoutMs: 30_000,
    responseTimeoutMs: RESPONSE_TIMEOUT,
    windowWaitTimeoutMs: 5 * RESPONSE_TIMEOUT,
    windowSize: 2,
    minProbeIntervalMs: 0,
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
}

const harnesses: Harness[] = [];

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    const stopping = h.registry.stopAll(1_000);
    await h.net.advance(1_000, 50);
    await stopping;
  }
});

function harness(over: Partial<BindOptions> = {}): Harness {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const registry = new BindRegistry({
    clock,
    connect: net.connect,
    random: () => 0.5,
    keepaliveRandom: () => 1,
  });
  const bind = registry.add(options(over));
  const h = { clock, net, registry, bind };
  harnesses.push(h);
  return h;
}

/** Where the allocation test keeps each read, so the optimiser cannot drop an allocation. */
let last: BindReadState | undefined;

function submit(bind: BindSupervisor): Promise<Pdu | Error> {
  return bind
    .request('submit_sm', { destination_addr: '447700900123', short_message: Buffer.from('hi') })
    .catch((error: Error) => error);
}

/** The individual getters and readState() agree; returns readState()'s values as a copy. */
function read(bind: BindSupervisor): BindReadState {
  const state = { ...bind.readState() };
  expect(state).toEqual({
    bound: bind.isBound,
    inFlight: bind.windowInUse,
    capacity: bind.windowCapacity,
    waiting: state.waiting,
    throttled: bind.isThrottled(),
  });
  return state;
}

describe('BindSupervisor cheap reads', () => {
  it('not started: not bound, nothing in flight, the configured window, not throttled', () => {
    const h = harness();
    expect(read(h.bind)).toEqual({ bound: false, inFlight: 0, capacity: 2, waiting: 0, throttled: false });
  });

  it('bound only once the bind is answered, not while connecting or binding', async () => {
    const h = harness();
    h.net.behaviour.answerDelayMs = 50;
    h.registry.startAll();
    await settle(6);
    expect(h.bind.state).toBe('binding');
    expect(h.bind.currentSession).toBeNull();
    expect(read(h.bind).bound).toBe(false);
    await h.net.advance(50, 10);
    expect(h.bind.state).toBe('bound');
    expect(read(h.bind)).toEqual({ bound: true, inFlight: 0, capacity: 2, waiting: 0, throttled: false });
  });

  it('counts requests in flight and queued for a slot, and frees them when they time out', async () => {
    const h = harness();
    h.registry.startAll();
    await settle(6);
    h.net.behaviour.holdSubmits = true;
    const first = submit(h.bind);
    await settle(6);
    expect(read(h.bind)).toMatchObject({ bound: true, inFlight: 1, capacity: 2, waiting: 0 });
    const more = [submit(h.bind), submit(h.bind)];
    await settle(6);
    expect(read(h.bind)).toMatchObject({ bound: true, inFlight: 2, capacity: 2, waiting: 1 });
    // The held requests time out; the queued one gets the slot, then times out too.
    await h.net.advance(RESPONSE_TIMEOUT, 50);
    expect(await first).toBeInstanceOf(Error);
    expect(read(h.bind)).toMatchObject({ bound: true, inFlight: 1, waiting: 0 });
    await h.net.advance(RESPONSE_TIMEOUT, 50);
    for (const p of more) expect(await p).toBeInstanceOf(Error);
    expect(read(h.bind)).toMatchObject({ bound: true, inFlight: 0, waiting: 0 });
  });

  it('throttled from an ESME_RTHROTTLED answer until the cooldown has passed', async () => {
    const h = harness();
    h.registry.startAll();
    await settle(6);
    h.net.behaviour.submitStatus = CommandStatus.ESME_RTHROTTLED;
    const resp = submit(h.bind);
    await settle(6);
    expect(((await resp) as Pdu).command_status).toBe(CommandStatus.ESME_RTHROTTLED);
    const throttledAt = h.clock.now();
    expect(read(h.bind)).toMatchObject({ bound: true, inFlight: 0, throttled: true });
    expect(h.bind.isThrottled(throttledAt + THROTTLE_COOLDOWN_MS - 1)).toBe(true);
    expect(h.bind.isThrottled(throttledAt + THROTTLE_COOLDOWN_MS)).toBe(false);
    await h.net.advance(THROTTLE_COOLDOWN_MS - 10, 1_000);
    expect(read(h.bind).throttled).toBe(true);
    await h.net.advance(10, 10);
    expect(read(h.bind)).toMatchObject({ bound: true, throttled: false });
    // An OK answer does not start a cooldown.
    h.net.behaviour.submitStatus = 0;
    const ok = submit(h.bind);
    await settle(6);
    expect(((await ok) as Pdu).command_status).toBe(0);
    expect(read(h.bind).throttled).toBe(false);
  });

  it('not bound from the moment the connection is lost, a rebind starts or a stop begins', async () => {
    const h = harness();
    h.registry.startAll();
    await settle(6);
    expect(h.bind.isBound).toBe(true);
    h.net.clientSockets.at(-1)!.injectError('ECONNRESET');
    await settle(6);
    expect(h.bind.state).toBe('backoff');
    expect(read(h.bind)).toMatchObject({ bound: false, inFlight: 0, capacity: 2 });
    await h.net.advance(200, 10);
    expect(h.bind.isBound).toBe(true);

    const rebinding = h.bind.rebind();
    expect(h.bind.isBound).toBe(false);
    await h.net.advance(300, 10);
    await rebinding;
    expect(h.bind.isBound).toBe(true);

    const stopping = h.bind.stop();
    expect(h.bind.state).toBe('stopping');
    expect(h.bind.isBound).toBe(false);
    await h.net.advance(300, 10);
    await stopping;
    expect(read(h.bind)).toEqual({ bound: false, inFlight: 0, capacity: 2, waiting: 0, throttled: false });
  });

  it('a new window size shows once the connection that has it is bound', async () => {
    const h = harness();
    h.registry.startAll();
    await settle(6);
    expect(h.bind.reconfigure(options({ windowSize: 5 }))).toBe('tuned');
    // The session in use keeps the window it was made with.
    expect(h.bind.windowCapacity).toBe(2);
    await h.bind.rebind().then(() => h.net.advance(100, 10));
    await h.net.advance(100, 10);
    expect(read(h.bind)).toMatchObject({ bound: true, capacity: 5 });
  });
});

describe('readState() costs nothing', () => {
  it('returns the object it was given, or the one the bind keeps, refilled', async () => {
    const h = harness();
    const kept = h.bind.readState();
    expect(h.bind.readState()).toBe(kept);
    const mine: BindReadState = { bound: true, inFlight: 9, capacity: 9, waiting: 9, throttled: true };
    expect(h.bind.readState(mine)).toBe(mine);
    expect(mine).toEqual({ bound: false, inFlight: 0, capacity: 2, waiting: 0, throttled: false });
    h.registry.startAll();
    await settle(6);
    expect(h.bind.readState()).toBe(kept);
    expect(kept.bound).toBe(true);
  });

  it('a million reads of a bound bind with requests in flight trigger no garbage collection', async () => {
    const h = harness();
    h.registry.startAll();
    await settle(6);
    h.net.behaviour.holdSubmits = true;
    const held = submit(h.bind);
    await settle(6);
    const gcs: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcs.push(entry.startTime);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      let inFlight = 0;
      // Warm up (compile), then measure.
      for (let i = 0; i < 10_000; i++) inFlight += h.bind.readState().inFlight;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const from = performance.now();
      for (let i = 0; i < 1_000_000; i++) {
        // Kept past the call (as a router keeps its pick), so an object per call would be real.
        last = h.bind.readState();
        if (last.bound && !last.throttled) inFlight += last.inFlight;
      }
      const to = performance.now();
      // GC entries are delivered after the fact: let them arrive.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(inFlight).toBe(1_010_000);
      // An object per call (48 bytes × 1e6) means several scavenges (8 when tried); none means no allocation.
      expect(gcs.filter((t) => t >= from && t <= to).length).toBeLessThanOrEqual(1);
      expect(last).toBe(h.bind.readState());
    } finally {
      observer.disconnect();
    }
    await h.net.advance(RESPONSE_TIMEOUT, 100);
    expect(await held).toBeInstanceOf(Error);
  });
});
