/**
 * Our ESME session against an independent implementation: the `smpp` npm package's server
 * (node-smpp 0.5.1), on a loopback port with real sockets and the real clock.
 */
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { connectSocket } from '../../src/session/connect.js';
import { SmppBindError } from '../../src/session/errors.js';
import { type SessionOptions, SmppSession } from '../../src/session/session.js';

type Handlers = Record<string, (pdu: smpp.PDU, session: smpp.Session) => void>;

interface Peer {
  server: smpp.Server;
  port: number;
  sessions: smpp.Session[];
  received: smpp.PDU[];
}

const peers: Peer[] = [];
const ours: SmppSession[] = [];

afterEach(async () => {
  for (const s of ours.splice(0)) s.destroy();
  for (const p of peers.splice(0)) {
    for (const s of p.sessions) s.destroy();
    await new Promise<void>((resolve) => p.server.close(() => resolve()));
  }
});

/** The smpp package's server, answering binds (and whatever `handlers` add). */
async function theirServer(handlers: Handlers = {}): Promise<Peer> {
  const sessions: smpp.Session[] = [];
  const received: smpp.PDU[] = [];
  const all: Handlers = {
    bind_transceiver: (pdu, s) => s.send(pdu.response({ system_id: 'NODE-SMPP' })),
    ...handlers,
  };
  const server = smpp.createServer((session) => {
    sessions.push(session);
    session.on('error', () => {});
    session.on('pdu', (pdu) => {
      received.push(pdu);
      all[pdu.command]?.(pdu, session);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const peer = { server, port: (server.address() as AddressInfo).port, sessions, received };
  peers.push(peer);
  return peer;
}

async function ourEsme(port: number, options: Partial<SessionOptions> = {}): Promise<SmppSession> {
  const socket = await connectSocket({ host: '127.0.0.1', port, connectTimeoutMs: 2_000 });
  const session = new SmppSession(socket, { role: 'esme', ...options });
  ours.push(session);
  return session;
}

async function boundEsme(port: number, options: Partial<SessionOptions> = {}): Promise<SmppSession> {
  const session = await ourEsme(port, options);
  await session.bind('bind_transceiver', { system_id: 'bridge', password: 'secret' });
  return session;
}

function sendAndWait(session: smpp.Session, pdu: smpp.PDU): Promise<smpp.PDU> {
  return new Promise((resolve) => session.send(pdu, resolve));
}

describe('our ESME session ↔ the smpp package server', () => {
  it('binds as a transceiver; the server saw our credentials', async () => {
    const peer = await theirServer();
    const session = await ourEsme(peer.port);
    const resp = await session.bind('bind_transceiver', { system_id: 'bridge', password: 'secret' });
    expect(resp).toMatchObject({
      command: 'bind_transceiver_resp',
      command_status: 0,
      system_id: 'NODE-SMPP',
    });
    expect(session.state).toBe('bound_trx');
    expect(session.peerSystemId).toBe('NODE-SMPP');
    expect(peer.received[0]).toMatchObject({
      command: 'bind_transceiver',
      system_id: 'bridge',
      password: 'secret',
      interface_version: 0x34,
    });
  });

  it('a refused bind (header-only error response) is an SmppBindError', async () => {
    const peer = await theirServer({
      bind_transceiver: (pdu, s) => s.send(pdu.response({ command_status: CommandStatus.ESME_RINVPASWD })),
    });
    const session = await ourEsme(peer.port);
    const error = await session
      .bind('bind_transceiver', { system_id: 'bridge', password: 'nope' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(SmppBindError);
    expect(error).toMatchObject({ statusName: 'ESME_RINVPASWD', retriable: false });
  });

  it('our enquire_link is answered by their server and yields a round-trip time', async () => {
    const peer = await theirServer({ enquire_link: (pdu, s) => s.send(pdu.response()) });
    const session = await boundEsme(peer.port, { enquireLinkIntervalMs: 0 });
    const result = await session.probe();
    expect(result.ok).toBe(true);
    expect(result.commandStatus).toBe(0);
    expect(result.rttMs).toBeGreaterThan(0);
    expect(peer.received.at(-1)).toMatchObject({
      command: 'enquire_link',
      sequence_number: result.sequenceNumber,
    });
  });

  it('their server’s enquire_link is answered by our session with its sequence number', async () => {
    const peer = await theirServer();
    await boundEsme(peer.port, { enquireLinkIntervalMs: 0 });
    const theirSession = peer.sessions[0]!;
    const request = new smpp.PDU('enquire_link', { sequence_number: 0x1625d269 });
    const resp = await sendAndWait(theirSession, request);
    expect(resp).toMatchObject({
      command: 'enquire_link_resp',
      command_status: 0,
      sequence_number: 0x1625d269,
      command_length: 16,
    });
  });

  it('submit_sm round trip: they decode our fields, we decode their message_id', async () => {
    const peer = await theirServer({
      submit_sm: (pdu, s) => s.send(pdu.response({ message_id: 'node-42' })),
    });
    const session = await boundEsme(peer.port);
    const resp = await session.request('submit_sm', {
      source_addr_ton: 5,
      source_addr: 'MyBrand',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      registered_delivery: 1,
      short_message: Buffer.from('Hello'),
    });
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: 0, message_id: 'node-42' });
    const submit = peer.received.find((p) => p.command === 'submit_sm')!;
    expect(submit).toMatchObject({
      source_addr: 'MyBrand',
      destination_addr: '447700900123',
      registered_delivery: 1,
      short_message: { message: 'Hello' },
    });
  });

  it('many submits in flight at once all come back, each matched to its own response', async () => {
    const peer = await theirServer({
      submit_sm: (pdu, s) => s.send(pdu.response({ message_id: `m-${String(pdu.destination_addr)}` })),
    });
    const session = await boundEsme(peer.port, { windowSize: 20 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => session.request('submit_sm', { destination_addr: String(i) })),
    );
    expect(results.map((r) => (r.command === 'submit_sm_resp' ? r.message_id : ''))).toEqual(
      Array.from({ length: 200 }, (_, i) => `m-${i}`),
    );
  });

  it('a server that ignores enquire_link is detected: closed within interval + maxMissed × timeout', async () => {
    const peer = await theirServer(); // binds, never answers enquire_link
    const session = await boundEsme(peer.port, {
      enquireLinkIntervalMs: 200,
      enquireLinkTimeoutMs: 100,
      maxMissedProbes: 2,
      random: () => 1, // the first keepalive a whole interval after bind
    });
    const start = performance.now();
    const failed: number[] = [];
    session.on('probe', (p) => {
      if (!p.ok) failed.push(performance.now() - start);
    });
    await session.whenClosed();
    const elapsed = performance.now() - start;
    expect(session.closeReason).toBe('keepalive_timeout');
    expect(failed).toHaveLength(2);
    // 200 + 2 × 100 = 400 ms, and timers never fire early. The upper bound is asserted on a fake
    // clock (keepalive.test.ts, 'a silent peer'); real time only gives a lower bound here.
    expect(elapsed).toBeGreaterThanOrEqual(395);
    expect(peer.received.filter((p) => p.command === 'enquire_link')).toHaveLength(2);
  });

  it('unbind both ways: our close() and their unbind', async () => {
    const peer = await theirServer({
      unbind: (pdu, s) => {
        s.send(pdu.response());
        s.close();
      },
    });
    const first = await boundEsme(peer.port);
    await first.close();
    expect(first.closeReason).toBe('local_close');

    const second = await boundEsme(peer.port);
    const theirs = peer.sessions[1]!;
    const resp = await sendAndWait(theirs, new smpp.PDU('unbind'));
    expect(resp).toMatchObject({ command: 'unbind_resp', command_status: 0 });
    await second.whenClosed();
    expect(second.closeReason).toBe('peer_unbind');
  });

  it('their server dropping the connection closes our session with pending requests rejected', async () => {
    const peer = await theirServer({ submit_sm: (_pdu, s) => s.destroy() });
    const session = await boundEsme(peer.port);
    const error = await session.request('submit_sm', { destination_addr: '1' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'SMPP_ERR_SESSION_CLOSED' });
    expect(['peer_closed', 'socket_error']).toContain(session.closeReason);
  });
});
