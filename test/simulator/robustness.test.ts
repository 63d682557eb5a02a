/**
 * Whatever a client sends, the simulator stays up: garbage, an HTTP request, half a PDU, floods
 * of PDUs and of connections, resets, a client that never reads. After each, a new ESME binds
 * and submits as usual. Also TLS.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodePdu, encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { Framer } from '../../src/protocol/framer.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';
import type { SmppSession } from '../../src/session/session.js';
import type { SimulatorOptions } from '../../src/simulator/simulator.js';
import { connectEsme, type StartedSimulator, startSimulator, waitFor } from '../helpers/simulator.js';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.js';

let started: StartedSimulator | undefined;
const esmes: SmppSession[] = [];
const raws: net.Socket[] = [];

afterEach(async () => {
  for (const e of esmes.splice(0)) e.destroy();
  for (const r of raws.splice(0)) r.destroy();
  await started?.close();
  started = undefined;
});

async function sim(options: SimulatorOptions = {}): Promise<StartedSimulator> {
  started = await startSimulator(options);
  return started;
}

/** The simulator still serves: a fresh ESME binds and submits. */
async function stillServes(): Promise<void> {
  const e = await connectEsme(started!.port, { responseTimeoutMs: 2_000 });
  esmes.push(e);
  const resp = await e.request('submit_sm', {
    destination_addr: '447700900123',
    short_message: Buffer.from('ok'),
  });
  expect(resp.command_status).toBe(0);
}

interface Raw {
  socket: net.Socket;
  /** Every byte received. */
  bytes(): Buffer;
  /** PDUs received so far. */
  pdus(): Pdu[];
  ended: Promise<void>;
}

async function raw(): Promise<Raw> {
  const socket = net.connect({ host: '127.0.0.1', port: started!.port });
  raws.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    bytes: () => Buffer.concat(chunks),
    pdus: () => {
      const framer = new Framer();
      framer.push(Buffer.concat(chunks));
      const out: Pdu[] = [];
      for (let f = framer.next(); f?.ok; f = framer.next()) {
        const d = decodePdu(f.frame);
        if (d.ok) out.push(d.pdu);
      }
      return out;
    },
    ended,
  };
}

const bindBytes = (seq = 1): Buffer =>
  encodePdu(
    createPdu('bind_transceiver', {
      sequence_number: seq,
      system_id: 'raw',
      password: 'pw',
      interface_version: 0x34,
    }),
  );

describe('bad input', () => {
  it('answers an HTTP request with generic_nack ESME_RINVCMDLEN, closes that connection, stays up', async () => {
    const { sim: s } = await sim();
    const r = await raw();
    r.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await r.ended;
    const answers = r.pdus();
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({
      command: 'generic_nack',
      command_status: CommandStatus.ESME_RINVCMDLEN,
    });
    await waitFor(() => s.sessions().length === 0, 2_000, 'the connection to be forgotten');
    await stillServes();
  });

  it('survives random garbage on many connections', async () => {
    await sim({ sessionInitTimeoutMs: 300 });
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const clients = await Promise.all(Array.from({ length: 20 }, () => raw()));
    for (const c of clients) {
      const junk = Buffer.alloc(64 + (rand() % 512));
      for (let i = 0; i < junk.length; i++) junk[i] = rand() & 0xff;
      c.socket.write(junk);
    }
    // Each connection ends: at once when the length is impossible, else at the session-init timeout.
    await Promise.all(clients.map((c) => c.ended));
    await stillServes();
  });

  it('waits for the rest of half a PDU, and the session-init timer closes a client that never sends it', async () => {
    const { sim: s } = await sim({ sessionInitTimeoutMs: 200 });
    const r = await raw();
    r.socket.write(bindBytes().subarray(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(s.sessions()).toHaveLength(1);
    await r.ended;
    expect(r.bytes()).toHaveLength(0);
    await stillServes();
  });

  it('assembles a PDU written one byte at a time', async () => {
    await sim();
    const r = await raw();
    for (const byte of bindBytes()) {
      r.socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => r.pdus().length === 1, 2_000, 'the bind_resp');
    expect(r.pdus()[0]).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0 });
  });

  it('answers an unknown command id with generic_nack ESME_RINVCMDID and keeps the session', async () => {
    await sim();
    const r = await raw();
    r.socket.write(bindBytes());
    r.socket.write(Buffer.from('00000010000000990000000000000005', 'hex'));
    await waitFor(() => r.pdus().length === 2, 2_000, 'two answers');
    expect(r.pdus()[1]).toMatchObject({
      command: 'generic_nack',
      command_status: CommandStatus.ESME_RINVCMDID,
      sequence_number: 5,
    });
    expect(r.socket.destroyed).toBe(false);
  });
});

describe('floods and resets', () => {
  it('answers a flood of 5,000 pipelined PDUs in one write', async () => {
    const { sim: s } = await sim();
    const r = await raw();
    const flood = [bindBytes()];
    for (let i = 2; i <= 5_001; i++) {
      flood.push(
        encodePdu(
          i % 2 === 0
            ? createPdu('enquire_link', { sequence_number: i })
            : createPdu('submit_sm', {
                sequence_number: i,
                destination_addr: '4477',
                short_message: Buffer.from('x'),
              }),
        ),
      );
    }
    r.socket.write(Buffer.concat(flood));
    await waitFor(() => r.pdus().length === 5_001, 10_000, 'every answer');
    const answers = r.pdus();
    expect(answers.filter((p) => p.command === 'submit_sm_resp' && p.command_status === 0)).toHaveLength(
      2_500,
    );
    expect(answers.filter((p) => p.command === 'enquire_link_resp')).toHaveLength(2_500);
    expect(s.counters().submits).toBe(2_500);
    await stillServes();
  });

  it('accepts 200 connections binding at once, and forgets them when they go', async () => {
    const { sim: s } = await sim();
    const many = await Promise.all(Array.from({ length: 200 }, () => connectEsme(started!.port)));
    esmes.push(...many);
    expect(s.sessions().filter((x) => x.state === 'bound_trx')).toHaveLength(200);
    await Promise.all(many.map((e) => e.close()));
    await waitFor(() => s.sessions().length === 0, 5_000, 'every session to go');
    expect(s.counters().binds).toBe(200);
  });

  it('survives clients that reset mid-bind and mid-PDU', async () => {
    const { sim: s } = await sim();
    for (let i = 0; i < 20; i++) {
      const r = await raw();
      if (i % 2 === 0) r.socket.write(bindBytes());
      else r.socket.write(bindBytes().subarray(0, 20));
      if (i % 2 === 0) await waitFor(() => r.pdus().length === 1, 2_000, 'bind_resp');
      r.socket.resetAndDestroy();
    }
    await waitFor(() => s.sessions().length === 0, 2_000, 'every session to go');
    await stillServes();
  });

  it('stops reading from a client that floods without reading, and serves others meanwhile', async () => {
    const { sim: s } = await sim({ receipts: { delayMs: 60_000 } });
    const r = await raw();
    r.socket.pause();
    r.socket.write(bindBytes());
    const submit = encodePdu(
      createPdu('submit_sm', {
        sequence_number: 2,
        destination_addr: '4477',
        short_message: Buffer.from('x'),
      }),
    );
    // ~6 MB of requests whose answers (33 octets each, ~3 MB) the client does not read.
    const batch = Buffer.concat(Array.from({ length: 2_000 }, () => submit));
    for (let i = 0; i < 50; i++) r.socket.write(batch);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stalled = s.counters().submits;
    expect(stalled).toBeLessThan(100_000);
    await stillServes();
    // Once the client reads again, the simulator reads again and answers everything.
    r.socket.resume();
    // 100,000 from the flood, one from stillServes.
    await waitFor(() => s.counters().submits === 100_001, 10_000, 'every submit');
    // bind_resp (29 octets) and 100,000 submit_sm_resp (33 octets each).
    await waitFor(() => r.bytes().length === 29 + 100_000 * 33, 10_000, 'every answer');
    expect(r.pdus().filter((p) => p.command === 'submit_sm_resp' && p.command_status === 0)).toHaveLength(
      100_000,
    );
    r.socket.destroy();
  });
});

describe('TLS', () => {
  let key: string;
  let cert: string;

  let made: TestCert;
  beforeAll(() => {
    made = makeTestCert('smpp-sim-tls-');
    ({ key, cert } = made);
  });

  afterAll(() => {
    made.remove();
  });

  async function stillServesTls(): Promise<void> {
    const e = await connectEsme(started!.port, { tls: { enabled: true, ca: cert, servername: 'localhost' } });
    esmes.push(e);
    expect(e.bound).toBe(true);
  }

  it('binds, submits and resets over TLS; plain SMPP on the TLS port is refused', async () => {
    const { sim: s, port } = await sim({ tls: { key, cert } });
    const e = await connectEsme(port, { tls: { enabled: true, ca: cert, servername: 'localhost' } });
    esmes.push(e);
    const resp = await e.request('submit_sm', {
      destination_addr: '447700900123',
      short_message: Buffer.from('tls'),
    });
    expect(resp.command_status).toBe(0);
    expect(s.sessions()[0]?.tls).toBe(true);

    const plain = net.connect({ host: '127.0.0.1', port });
    raws.push(plain);
    plain.on('error', () => {});
    plain.write(bindBytes());
    await new Promise((resolve) => plain.once('close', resolve));

    expect(s.sessions()[0]?.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    // The reset acts on the TCP connection under TLS.
    const closed = new Promise<Error | undefined>((resolve) => e.once('close', (c) => resolve(c.error)));
    s.setFault({ kind: 'drop', mode: 'rst' });
    expect(((await closed) as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
    expect(e.closeReason).toBe('socket_error');
    await waitFor(() => s.sessions().length === 0, 2_000, 'the TLS session to go');
  });

  it('closes a connection that never completes the TLS handshake after sessionInitTimeoutMs', async () => {
    await sim({ tls: { key, cert }, sessionInitTimeoutMs: 150 });
    const silent = net.connect({ host: '127.0.0.1', port: started!.port });
    raws.push(silent);
    silent.on('error', () => {});
    const t0 = Date.now();
    await new Promise((resolve) => silent.once('close', resolve));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    await stillServesTls();
  });
});
