import { describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/protocol/codec.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';
import { FakeClock, realClock } from '../../src/session/clock.js';
import { SmppResponseTimeoutError } from '../../src/session/errors.js';
import {
  firstProbeDelayMs,
  type KeepaliveConfig,
  type KeepaliveDecision,
  type KeepaliveState,
  keepaliveDecision,
} from '../../src/session/keepalive.js';
import { type ProbeOutcome, type SessionOptions, SmppSession } from '../../src/session/session.js';
import type { CloseReason } from '../../src/session/state.js';
import { MemorySocket, settle } from '../helpers/memory-duplex.js';

const S = 1_000;

describe('keepaliveDecision', () => {
  const cases: {
    name: string;
    config: KeepaliveConfig;
    state: KeepaliveState;
    now: number;
    expected: Pick<KeepaliveDecision, 'action' | 'nextAt'>;
  }[] = [
    {
      name: 'idle less than the interval: wait until lastRx + interval',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 0 },
      state: { lastRxAt: 0, lastProbeAt: Number.NEGATIVE_INFINITY, probeInFlight: false },
      now: 10 * S,
      expected: { action: 'none', nextAt: 30 * S },
    },
    {
      name: 'idle for exactly the interval: probe, ask again one interval later',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 0 },
      state: { lastRxAt: 0, lastProbeAt: Number.NEGATIVE_INFINITY, probeInFlight: false },
      now: 30 * S,
      expected: { action: 'probe', nextAt: 60 * S },
    },
    {
      name: 'a probe already in flight is never doubled',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 0 },
      state: { lastRxAt: 0, lastProbeAt: 30 * S, probeInFlight: true },
      now: 45 * S,
      expected: { action: 'none', nextAt: undefined },
    },
    {
      name: 'the interval counts from the later of the last receive and the last probe',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 0 },
      state: { lastRxAt: 0, lastProbeAt: 40 * S, probeInFlight: false },
      now: 50 * S,
      expected: { action: 'none', nextAt: 70 * S },
    },
    {
      name: 'traffic received postpones the probe',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 0 },
      state: { lastRxAt: 25 * S, lastProbeAt: Number.NEGATIVE_INFINITY, probeInFlight: false },
      now: 30 * S,
      expected: { action: 'none', nextAt: 55 * S },
    },
    {
      name: 'nothing received for the inactivity timeout: the peer is dead',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 90 * S },
      state: { lastRxAt: 0, lastProbeAt: 60 * S, probeInFlight: true },
      now: 90 * S,
      expected: { action: 'inactivity_timeout', nextAt: undefined },
    },
    {
      name: 'with a probe in flight only the inactivity deadline is left',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 90 * S },
      state: { lastRxAt: 0, lastProbeAt: 30 * S, probeInFlight: true },
      now: 35 * S,
      expected: { action: 'none', nextAt: 90 * S },
    },
    {
      name: 'inactivity wins over a probe due at the same moment',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 30 * S },
      state: { lastRxAt: 0, lastProbeAt: Number.NEGATIVE_INFINITY, probeInFlight: false },
      now: 30 * S,
      expected: { action: 'inactivity_timeout', nextAt: undefined },
    },
    {
      name: 'after a probe the next question comes no later than the inactivity deadline',
      config: { enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 45 * S },
      state: { lastRxAt: 0, lastProbeAt: Number.NEGATIVE_INFINITY, probeInFlight: false },
      now: 30 * S,
      expected: { action: 'probe', nextAt: 45 * S },
    },
    {
      name: 'keepalive off and no inactivity timeout: nothing is ever due',
      config: { enquireLinkIntervalMs: 0, inactivityTimeoutMs: 0 },
      state: { lastRxAt: 0, lastProbeAt: Number.NEGATIVE_INFINITY, probeInFlight: false },
      now: 1_000 * S,
      expected: { action: 'none', nextAt: undefined },
    },
    {
      name: 'keepalive off: only the inactivity deadline',
      config: { enquireLinkIntervalMs: 0, inactivityTimeoutMs: 60 * S },
      state: { lastRxAt: 10 * S, lastProbeAt: Number.NEGATIVE_INFINITY, probeInFlight: false },
      now: 20 * S,
      expected: { action: 'none', nextAt: 70 * S },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const decision = keepaliveDecision(c.config, c.state, c.now);
      expect({ action: decision.action, nextAt: decision.nextAt }).toEqual(c.expected);
    });
  }
});

// ---------------------------------------------------------------- through a session

interface Harness {
  clock: FakeClock;
  socket: MemorySocket;
  session: SmppSession;
  t0: number;
  inject(pdu: Pdu): void;
  /** Seconds since t0 for each PDU written since the last call, with the PDU. */
  closes: { reason: CloseReason; at: number }[];
  probes: { outcome: ProbeOutcome; at: number }[];
}

async function boundEsme(options: Partial<SessionOptions> = {}): Promise<Harness> {
  const clock = new FakeClock();
  const socket = new MemorySocket();
  // random 1: the first keepalive after bind comes a whole interval later (no jitter).
  const session = new SmppSession(socket, { role: 'esme', clock, random: () => 1, ...options });
  const bind = session.bind('bind_transceiver', { system_id: 'esme', password: 'secret' });
  await settle();
  const [request] = socket.takePdus();
  socket.inject(
    encodePdu(
      createPdu('bind_transceiver_resp', { sequence_number: request!.sequence_number, system_id: 'SMSC' }),
    ),
  );
  await bind;
  const t0 = clock.now();
  const h: Harness = {
    clock,
    socket,
    session,
    t0,
    inject: (pdu) => socket.inject(encodePdu(pdu)),
    closes: [],
    probes: [],
  };
  session.on('close', ({ reason }) => h.closes.push({ reason, at: clock.now() - t0 }));
  session.on('probe', (outcome) => h.probes.push({ outcome, at: clock.now() - t0 }));
  return h;
}

/** Advances the fake clock and lets the socket and promise callbacks run. */
async function advance(h: Harness, ms: number): Promise<void> {
  h.clock.advance(ms);
  await settle();
}

function enquireLinks(h: Harness): Pdu[] {
  return h.socket.takePdus().filter((p) => p.command === 'enquire_link');
}

describe('keepalive timing (interval 30 s, timeout 10 s, 2 misses)', () => {
  const options = { enquireLinkIntervalMs: 30 * S, enquireLinkTimeoutMs: 10 * S, maxMissedProbes: 2 };

  it('a silent peer: probe at 30 s, a miss at 40 s and an immediate second probe, closed at 50 s', async () => {
    const h = await boundEsme(options);
    await advance(h, 30 * S - 1);
    expect(enquireLinks(h)).toHaveLength(0);

    await advance(h, 1);
    const first = enquireLinks(h);
    expect(first).toHaveLength(1);

    await advance(h, 10 * S - 1);
    expect(h.probes).toHaveLength(0);
    await advance(h, 1);
    expect(h.probes).toHaveLength(1);
    const miss = h.probes[0]!;
    expect(miss.at).toBe(40 * S);
    expect(miss.outcome.ok).toBe(false);
    expect(miss.outcome.trigger).toBe('keepalive');
    if (!miss.outcome.ok) {
      expect(miss.outcome.error).toBeInstanceOf(SmppResponseTimeoutError);
      expect(miss.outcome.sequenceNumber).toBe(first[0]!.sequence_number);
    }
    expect(h.session.missed).toBe(1);
    const second = enquireLinks(h);
    expect(second).toHaveLength(1);
    expect(second[0]!.sequence_number).not.toBe(first[0]!.sequence_number);
    expect(h.session.closed).toBe(false);

    await advance(h, 10 * S - 1);
    expect(h.session.closed).toBe(false);
    await advance(h, 1);
    expect(h.closes).toEqual([{ reason: 'keepalive_timeout', at: 50 * S }]);
    expect(h.session.closeReason).toBe('keepalive_timeout');
    expect(h.probes.filter((p) => !p.outcome.ok)).toHaveLength(2);
  });

  it('an answered probe reports its round-trip time and the next one comes an interval later', async () => {
    const h = await boundEsme(options);
    await advance(h, 30 * S);
    const [probe] = enquireLinks(h);
    await advance(h, 250);
    h.inject(createPdu('enquire_link_resp', { sequence_number: probe!.sequence_number }));
    await settle();
    expect(h.probes).toHaveLength(1);
    const outcome = h.probes[0]!.outcome;
    expect(outcome).toMatchObject({
      ok: true,
      rttMs: 250,
      sequenceNumber: probe!.sequence_number,
      commandStatus: 0,
      trigger: 'keepalive',
    });
    expect(h.session.missed).toBe(0);
    // The response was traffic: the next probe is due 30 s after it.
    await advance(h, 30 * S - 1);
    expect(enquireLinks(h)).toHaveLength(0);
    await advance(h, 1);
    expect(enquireLinks(h)).toHaveLength(1);
    expect(h.session.closed).toBe(false);
  });

  it('any inbound PDU postpones the next probe', async () => {
    const h = await boundEsme(options);
    await advance(h, 20 * S);
    // A stray response is still proof that the peer is alive.
    h.inject(createPdu('submit_sm_resp', { sequence_number: 999, message_id: 'x' }));
    await settle();
    await advance(h, 10 * S);
    expect(enquireLinks(h)).toHaveLength(0);
    await advance(h, 20 * S - 1);
    expect(enquireLinks(h)).toHaveLength(0);
    await advance(h, 1);
    expect(enquireLinks(h)).toHaveLength(1);
  });

  it('traffic from the peer after a miss resets the miss count (reference §5, §11.2)', async () => {
    const h = await boundEsme(options);
    await advance(h, 40 * S); // probe at 30 s, missed at 40 s, second probe sent at 40 s
    expect(h.session.missed).toBe(1);
    // The peer is alive after all: it sends a request of its own.
    h.inject(createPdu('enquire_link', { sequence_number: 77 }));
    await settle();
    expect(h.session.missed).toBe(0);
    await advance(h, 10 * S); // the second probe times out: one miss, not two
    expect(h.session.closed).toBe(false);
    expect(h.session.missed).toBe(1);
    await advance(h, 10 * S); // the third probe times out too: now it is two in a row
    expect(h.closes.map((c) => c.reason)).toEqual(['keepalive_timeout']);
  });

  it('does not probe before the session is bound', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = new SmppSession(socket, { role: 'esme', clock, ...options });
    clock.advance(120 * S);
    await settle();
    expect(socket.takePdus()).toEqual([]);
    expect(session.state).toBe('open');
  });

  it('closes with inactivity_timeout when nothing arrives for inactivityTimeoutMs', async () => {
    const h = await boundEsme({ enquireLinkIntervalMs: 0, inactivityTimeoutMs: 60 * S });
    await advance(h, 40 * S);
    h.inject(createPdu('enquire_link', { sequence_number: 5 }));
    await settle();
    await advance(h, 60 * S - 1);
    expect(h.session.closed).toBe(false);
    await advance(h, 1);
    expect(h.closes).toEqual([{ reason: 'inactivity_timeout', at: 100 * S }]);
  });

  it('inactivity closes a session whose probes go unanswered before the miss limit is reached', async () => {
    const h = await boundEsme({ ...options, maxMissedProbes: 10, inactivityTimeoutMs: 45 * S });
    await advance(h, 45 * S);
    expect(h.closes).toEqual([{ reason: 'inactivity_timeout', at: 45 * S }]);
  });
});

describe('probe()', () => {
  it('coalesces concurrent callers onto one enquire_link', async () => {
    const h = await boundEsme({ enquireLinkIntervalMs: 0 });
    const calls = Array.from({ length: 100 }, () => h.session.probe());
    await settle();
    const written = enquireLinks(h);
    expect(written).toHaveLength(1);
    h.clock.advance(3);
    h.inject(createPdu('enquire_link_resp', { sequence_number: written[0]!.sequence_number }));
    const results = await Promise.all(calls);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toMatchObject({ ok: true, rttMs: 3, trigger: 'manual' });
    // Once settled, the next call sends a new enquire_link.
    const next = h.session.probe();
    await settle();
    expect(enquireLinks(h)).toHaveLength(1);
    next.catch(() => {});
  });

  it('is not blocked by a full window', async () => {
    const h = await boundEsme({ windowSize: 1, enquireLinkIntervalMs: 0 });
    const first = h.session.request('submit_sm', { destination_addr: '1' });
    const queued = h.session.request('submit_sm', { destination_addr: '2' });
    await settle();
    expect(h.session.windowUsage).toEqual({ used: 1, capacity: 1, waiting: 1 });
    h.socket.takePdus();
    const probe = h.session.probe({ trigger: 'external' });
    await settle();
    const [el] = enquireLinks(h);
    expect(el).toBeDefined();
    h.inject(createPdu('enquire_link_resp', { sequence_number: el!.sequence_number }));
    await expect(probe).resolves.toMatchObject({ ok: true, trigger: 'external' });
    expect(h.session.windowUsage.waiting).toBe(1);
    h.session.destroy();
    await Promise.allSettled([first, queued]);
  });

  it('rejects when not bound and when closed, without writing anything', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = new SmppSession(socket, { role: 'esme', clock });
    await expect(session.probe()).rejects.toMatchObject({ code: 'SMPP_ERR_SESSION_NOT_BOUND' });
    session.destroy();
    await expect(session.probe()).rejects.toMatchObject({
      code: 'SMPP_ERR_SESSION_CLOSED',
      reason: 'local_close',
    });
    expect(socket.takePdus()).toEqual([]);
  });

  it('answers the peer’s enquire_link while our own probe is in flight', async () => {
    const h = await boundEsme({ enquireLinkIntervalMs: 0 });
    const probe = h.session.probe();
    await settle();
    const [ours] = enquireLinks(h);
    h.inject(createPdu('enquire_link', { sequence_number: 0x1625d269 }));
    await settle();
    const bytes = h.socket.takeWritten();
    expect(bytes.toString('hex')).toBe('00000010 80000015 00000000 1625d269'.replace(/ /g, ''));
    h.inject(createPdu('enquire_link_resp', { sequence_number: ours!.sequence_number }));
    await expect(probe).resolves.toMatchObject({ ok: true, sequenceNumber: ours!.sequence_number });
  });
});

describe('first keepalive after bind (jitter)', () => {
  it('firstProbeDelayMs is uniform in [interval/2, interval]', () => {
    expect(firstProbeDelayMs(30 * S, () => 0)).toBe(15 * S);
    expect(firstProbeDelayMs(30 * S, () => 0.5)).toBe(22.5 * S);
    expect(firstProbeDelayMs(30 * S, () => 1)).toBe(30 * S);
    // Out-of-range draws are clamped: never beyond the interval, so the detection bound holds.
    expect(firstProbeDelayMs(30 * S, () => 7)).toBe(30 * S);
    expect(firstProbeDelayMs(30 * S, () => -1)).toBe(15 * S);
  });

  it('the first probe comes at the jittered delay, the next ones an interval apart', async () => {
    const h = await boundEsme({
      enquireLinkIntervalMs: 30 * S,
      enquireLinkTimeoutMs: 10 * S,
      random: () => 0,
    });
    await advance(h, 15 * S - 1);
    expect(enquireLinks(h)).toHaveLength(0);
    await advance(h, 1);
    const [first] = enquireLinks(h);
    expect(first).toBeDefined();
    h.inject(createPdu('enquire_link_resp', { sequence_number: first!.sequence_number }));
    await settle();
    await advance(h, 30 * S - 1);
    expect(enquireLinks(h)).toHaveLength(0);
    await advance(h, 1);
    expect(enquireLinks(h)).toHaveLength(1);
  });

  it('a silent peer is still closed within interval + maxMissed × timeout (jitter only shortens it)', async () => {
    const h = await boundEsme({
      enquireLinkIntervalMs: 30 * S,
      enquireLinkTimeoutMs: 10 * S,
      maxMissedProbes: 2,
      random: () => 0.5,
    });
    await advance(h, 22.5 * S);
    await advance(h, 10 * S);
    await advance(h, 10 * S);
    expect(h.closes).toEqual([{ reason: 'keepalive_timeout', at: 42.5 * S }]);
  });
});

describe('timers are re-armed, not re-created', () => {
  it('a hundred answered keepalives create no new timer', async () => {
    const h = await boundEsme({ enquireLinkIntervalMs: 30 * S, enquireLinkTimeoutMs: 10 * S });
    await advance(h, 30 * S);
    const created = h.clock.created;
    const resized = h.clock.resized;
    for (let i = 0; i < 100; i++) {
      const [probe] = enquireLinks(h);
      expect(probe).toBeDefined();
      await advance(h, 5);
      h.inject(createPdu('enquire_link_resp', { sequence_number: probe!.sequence_number }));
      await settle();
      // Past the probe's response deadline (the deadline timer goes idle) to the next probe.
      await advance(h, 30 * S);
    }
    expect(h.session.closed).toBe(false);
    expect(h.probes.every((p) => p.outcome.ok)).toBe(true);
    expect(h.probes).toHaveLength(100);
    expect(h.clock.created).toBe(created);
    // Nor a timer whose duration changed (with the real clock that would replace Node's timer).
    expect(h.clock.resized).toBe(resized);
  });
});

describe('realClock timers', () => {
  it('refresh() re-arms a timer that fired, one cleared, and one with a new duration', async () => {
    const fired: string[] = [];
    // Ordering, not timing: a timer due sooner fires before a later one armed after it, however
    // loaded the machine.
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const a = realClock.setTimer(() => fired.push('a'), 1);
    await wait(20);
    expect(fired).toEqual(['a']);
    a.refresh();
    await wait(20);
    expect(fired).toEqual(['a', 'a']);
    a.clear();
    a.refresh();
    await wait(20);
    expect(fired).toEqual(['a', 'a', 'a']);
    a.refresh(2);
    await wait(20);
    expect(fired).toEqual(['a', 'a', 'a', 'a']);
    a.refresh(10_000);
    a.clear();
    await wait(20);
    expect(fired).toHaveLength(4);
  });
});
