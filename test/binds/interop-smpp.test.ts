/**
 * BindSupervisor against an independent SMSC: the `smpp` npm package's server (node-smpp 0.5.1),
 * over loopback with real timers. Bind, keepalive, a manual probe, and a server that stops
 * answering enquire_link.
 */
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { waitFor } from '../helpers/simulator.js';

interface TheirServer {
  port: number;
  received: { at: number; pdu: smpp.PDU }[];
  sessions: smpp.Session[];
  /** Whether enquire_link is answered (switchable at any time). */
  answerEnquireLink: boolean;
}

const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function theirServer(): Promise<TheirServer> {
  const peer: TheirServer = { port: 0, received: [], sessions: [], answerEnquireLink: true };
  const server = smpp.createServer((session) => {
    peer.sessions.push(session);
    session.on('error', () => {});
    session.on('pdu', (pdu) => {
      peer.received.push({ at: performance.now(), pdu });
      if (pdu.command === 'bind_transceiver' || pdu.command === 'bind_transmitter') {
        session.send(pdu.response({ system_id: 'NODE-SMPP' }));
      } else if (pdu.command === 'enquire_link' && peer.answerEnquireLink) {
        session.send(pdu.response());
      } else if (pdu.command === 'unbind') {
        session.send(pdu.response());
        session.close();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.port = (server.address() as AddressInfo).port;
  cleanup.push(async () => {
    for (const s of peer.sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return peer;
}

function bindOptions(port: number, over: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id: 'node-smpp',
    host: '127.0.0.1',
    port,
    systemId: 'bridge',
    password: 'secret',
    enquireLinkIntervalMs: 200,
    enquireLinkTimeoutMs: 100,
    maxMissedProbes: 2,
    minProbeIntervalMs: 0,
    bindTimeoutMs: 500,
    unbindTimeoutMs: 300,
    reconnect: { initialDelayMs: 50, maxDelayMs: 400, stableAfterMs: 60_000 },
    ...over,
  });
}

function start(port: number, over: Partial<BindOptions> = {}) {
  const registry = new BindRegistry({ sweepIntervalMs: 20, keepaliveRandom: () => 1 });
  cleanup.push(async () => {
    await registry.stopAll(1_000);
  });
  const bind = registry.add(bindOptions(port, over));
  registry.startAll();
  return bind;
}

const commands = (peer: TheirServer, command: string) =>
  peer.received.filter((r) => r.pdu.command === command);

describe('BindSupervisor ↔ the smpp package server', () => {
  it('binds with our credentials and turns healthy', async () => {
    const peer = await theirServer();
    const bind = start(peer.port, { bindType: 'transmitter', systemType: 'VMA' });
    await waitFor(() => bind.status === 'healthy', 2_000, 'healthy');
    const [first] = commands(peer, 'bind_transmitter');
    expect(first?.pdu).toMatchObject({ system_id: 'bridge', password: 'secret', system_type: 'VMA' });
    expect(bind.health()).toMatchObject({ state: 'bound', sessionState: 'bound_tx', code: 'OK' });
    expect(bind.currentSession?.peerSystemId).toBe('NODE-SMPP');
  });

  it('keeps the link alive: an enquire_link every interval of silence, each answered', async () => {
    const peer = await theirServer();
    const bind = start(peer.port);
    await waitFor(() => bind.state === 'bound', 2_000, 'bound');
    const boundAt = performance.now();
    await waitFor(() => commands(peer, 'enquire_link').length >= 4, 10_000, 'four probes');
    const elapsed = performance.now() - boundAt;
    const probes = commands(peer, 'enquire_link');
    // Timers never fire early: probes at least an interval apart (a late one only widens a gap),
    // so never more than one per interval. The exact spacing is on a fake clock (supervisor-clock).
    expect(probes.length).toBeLessThanOrEqual(Math.floor(elapsed / 190) + 1);
    const gaps = probes.slice(1).map((p, i) => p.at - probes[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(190);
    await waitFor(() => bind.health().rtt.count >= 4, 5_000, 'four answers');
    expect(bind.health().status).toBe('healthy');
  });

  it('a manual probe reports the round trip of one enquire_link', async () => {
    const peer = await theirServer();
    const bind = start(peer.port, { enquireLinkIntervalMs: 60_000 });
    await waitFor(() => bind.state === 'bound', 2_000, 'bound');
    const result = await bind.probe();
    expect(result).toMatchObject({ ok: true, commandStatus: 0, trigger: 'manual' });
    expect(result.rttMs).toBeGreaterThan(0);
    const [probe] = commands(peer, 'enquire_link');
    expect(probe?.pdu.sequence_number).toBe(result.sequenceNumber);
  });

  it('a server that stops answering enquire_link: unhealthy and reconnecting within the detection bound', async () => {
    const peer = await theirServer();
    const bind = start(peer.port);
    await waitFor(() => bind.status === 'healthy', 2_000, 'healthy');
    const transitions: { at: number; to: string }[] = [];
    const unbound: { at: number; reason: string }[] = [];
    bind.on('transition', (t) => transitions.push({ at: performance.now(), to: t.to }));
    bind.on('unbound', (u) => unbound.push({ at: performance.now(), reason: u.reason }));
    const t = performance.now();
    peer.answerEnquireLink = false;
    await waitFor(() => unbound.length > 0, 5_000, 'unbound');
    expect(unbound[0]!.reason).toBe('keepalive_timeout');
    // Two misses in a row, each a whole timeout (Node timers count from the event loop's cached
    // time, so allow a little early). The upper bound, detectionBoundMs, is asserted on a fake
    // clock (supervisor-clock.test.ts).
    const unhealthy = transitions.find((x) => x.to === 'unhealthy');
    expect(unhealthy!.at - t).toBeGreaterThanOrEqual(bind.options.enquireLinkTimeoutMs / 2);
    expect(transitions[0]?.to).toBe('degraded');
    // It reconnects on its own: a second session at the server, bound again.
    await waitFor(() => peer.sessions.length === 2 && bind.state === 'bound', 2_000, 'a new bind');
    // The new session is probed too and, still unanswered, dropped again: no storm meanwhile.
    peer.answerEnquireLink = true;
    await waitFor(() => bind.status === 'healthy', 2_000, 'healthy again');
    expect(peer.sessions.length).toBeLessThanOrEqual(4);
  });

  it('stop() sends unbind and the server sees it', async () => {
    const peer = await theirServer();
    const bind = start(peer.port);
    await waitFor(() => bind.state === 'bound', 2_000, 'bound');
    await bind.stop();
    expect(commands(peer, 'unbind')).toHaveLength(1);
    expect(bind.status).toBe('stopped');
  });
});
