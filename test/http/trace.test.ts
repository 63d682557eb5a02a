/**
 * GET /binds/:id/trace, /trace/stream and /trace.pcap against a bind bound to the simulator: the
 * PDUs that really went over the wire, decoded, the password masked in JSON and in the pcap,
 * filters and limits, live events, and a pcap tshark reads back field for field.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { encodePdu } from '../../src/protocol/codec.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { EXPERT_WARN, hasTshark, tsharkFields } from '../helpers/tshark.js';
import {
  bindOptions,
  closedPort,
  type Harness,
  PASSWORD,
  startHarness,
  waitBound,
  waitFor,
} from './harness.js';

let h: Harness;
let app: App;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  h.registry.add(bindOptions('main', h.port, { minProbeIntervalMs: 0 }));
  h.registry.add(bindOptions('quiet', h.port, { traceSize: 0 }));
  h.registry.startAll();
  await waitBound(h.registry.get('main')!);
  await waitBound(h.registry.get('quiet')!);
  app = await h.app({ sseHeartbeatMs: 50 });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await h?.close();
});

interface Entry {
  timeUs: number;
  at: string;
  direction: 'in' | 'out';
  command: string;
  commandId: number;
  status: number;
  statusName: string;
  sequence: number;
  length: number;
  truncated: boolean;
  fields: Record<string, unknown> | null;
}

interface TraceBody {
  bindId: string;
  size: number;
  maxBytes: number;
  held: number;
  recorded: number;
  pdus: Entry[];
}

async function trace(id: string, query = ''): Promise<TraceBody> {
  const res = await app.inject({ method: 'GET', url: `/binds/${id}/trace${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as TraceBody;
}

describe('GET /binds/:id/trace', () => {
  it('shows the bind exchange as it went over the wire, password masked', async () => {
    const res = await app.inject({ method: 'GET', url: '/binds/main/trace' });
    expect(res.body).not.toContain(PASSWORD);
    const body = res.json() as TraceBody;
    expect(body).toMatchObject({ bindId: 'main', size: 200, maxBytes: 65_536 });
    const [bind, resp] = body.pdus;
    expect(bind).toMatchObject({
      direction: 'out',
      command: 'bind_transceiver',
      commandId: 9,
      status: 0,
      statusName: 'ESME_ROK',
      sequence: 1,
      truncated: false,
    });
    expect(bind?.fields).toMatchObject({ system_id: 'esme', password: '*'.repeat(PASSWORD.length) });
    expect(resp).toMatchObject({ direction: 'in', command: 'bind_transceiver_resp', sequence: 1 });
    expect(bind?.length).toBe(16 + 'esme'.length + 1 + PASSWORD.length + 1 + 1 + 1 + 1 + 1 + 1);
    expect(Math.abs(bind!.timeUs / 1000 - Date.now())).toBeLessThan(60_000);
    expect(bind!.timeUs).toBeLessThanOrEqual(resp!.timeUs);
    expect(new Date(bind!.at).getTime()).toBe(Math.floor(bind!.timeUs / 1000));
  });

  it('records a probe both ways with matching sequence numbers; limit and command filter', async () => {
    const bind = h.registry.get('main')!;
    const probe = await bind.probe();
    const body = await trace('main', '?limit=2');
    expect(body.pdus.map((p) => [p.direction, p.command, p.sequence])).toEqual([
      ['out', 'enquire_link', probe.sequenceNumber],
      ['in', 'enquire_link_resp', probe.sequenceNumber],
    ]);
    await bind.probe();
    const only = await trace('main', '?command=enquire_link_resp');
    expect(only.pdus.length).toBeGreaterThanOrEqual(2);
    expect(only.pdus.every((p) => p.command === 'enquire_link_resp' && p.direction === 'in')).toBe(true);
    const both = await trace('main', '?command=bind_transceiver,enquire_link&limit=2');
    expect(both.pdus.map((p) => p.command)).toEqual(['enquire_link', 'enquire_link']);
    expect(both.held).toBe(body.held + 2);
  });

  it('a reload that changes traceSize resizes the trace at once, keeping the newest PDUs', async () => {
    const bind = h.registry.add(bindOptions('resized', h.port, { minProbeIntervalMs: 0 }));
    bind.start();
    await waitBound(bind);
    await bind.probe();
    const before = await trace('resized');
    expect(before.pdus.length).toBe(4);
    const tuned = h.registry.replace('resized', bindOptions('resized', h.port, { traceSize: 3 }));
    expect(tuned).toBe('tuned');
    const after = await trace('resized');
    expect(after.size).toBe(3);
    expect(after.pdus).toEqual(before.pdus.slice(-3));
    h.registry.replace('resized', bindOptions('resized', h.port));
    expect((await trace('resized')).size).toBe(200);
    await h.registry.remove('resized');
  });

  it('is empty and off for a bind with traceSize 0', async () => {
    await h.registry.get('quiet')!.probe();
    expect(await trace('quiet')).toEqual({
      bindId: 'quiet',
      size: 0,
      maxBytes: 65_536,
      held: 0,
      recorded: 0,
      pdus: [],
    });
  });

  it('answers 404 for an unknown bind and 400 for a bad filter', async () => {
    const missing = await app.inject({ method: 'GET', url: '/binds/nope/trace' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'BIND_NOT_FOUND' });
    for (const query of ['?limit=0', '?command=Submit%20SM', '?limit=abc']) {
      const bad = await app.inject({ method: 'GET', url: `/binds/main/trace${query}` });
      expect(bad.statusCode, query).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    for (const path of ['/binds/nope/trace.pcap', '/binds/nope/trace/stream']) {
      expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(404);
    }
  });
});

interface SseEvent {
  event: string | null;
  data: string | null;
  comment: string | null;
}

function openStream(path: string): Promise<{
  res: http.IncomingMessage;
  events: SseEvent[];
  next(predicate: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, (res) => {
      const events: SseEvent[] = [];
      let buffer = '';
      const waiters: (() => void)[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: SseEvent = { event: null, data: null, comment: null };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) e.comment = line.slice(1).trim();
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) e.data = line.slice(6);
          }
          events.push(e);
          end = buffer.indexOf('\n\n');
        }
        for (const w of waiters.splice(0)) w();
      });
      resolve({
        res,
        events,
        next(predicate, timeoutMs = 5_000) {
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error('no such event in time')), timeoutMs);
            const look = (): void => {
              const found = events.find(predicate);
              if (found) {
                clearTimeout(timer);
                ok(found);
              } else waiters.push(look);
            };
            look();
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}

describe('GET /binds/:id/trace/stream', () => {
  it('sends each PDU live as event: pdu, with heartbeats, and only the commands asked for', async () => {
    const listeners = h.registry.listenerCount('removed');
    const all = await openStream('/binds/main/trace/stream');
    const filtered = await openStream('/binds/main/trace/stream?command=enquire_link_resp');
    expect(all.res.statusCode).toBe(200);
    expect(all.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await all.next((e) => e.comment === 'trace');
    await filtered.next((e) => e.comment === 'trace');
    const probe = await h.registry.get('main')!.probe();
    const out = await all.next((e) => e.event === 'pdu' && JSON.parse(e.data!).direction === 'out');
    const back = await all.next((e) => e.event === 'pdu' && JSON.parse(e.data!).direction === 'in');
    expect(JSON.parse(out.data!)).toMatchObject({ command: 'enquire_link', sequence: probe.sequenceNumber });
    expect(JSON.parse(back.data!)).toMatchObject({
      command: 'enquire_link_resp',
      sequence: probe.sequenceNumber,
    });
    const only = await filtered.next((e) => e.event === 'pdu');
    expect(JSON.parse(only.data!)).toMatchObject({
      command: 'enquire_link_resp',
      sequence: probe.sequenceNumber,
    });
    await all.next((e) => e.comment === 'heartbeat');
    expect(filtered.events.filter((e) => e.event === 'pdu')).toHaveLength(1);
    all.close();
    filtered.close();
    await waitFor('streams forgotten', () => h.registry.listenerCount('removed') === listeners);
  });

  it('a client that does not read loses PDUs (counted in event: dropped), not the server its memory', async () => {
    // A bind that never connects: the test's PDUs are the only ones.
    const bind = h.registry.add(bindOptions('slow', await closedPort()));
    const listeners = h.registry.listenerCount('removed');
    const stream = await openStream('/binds/slow/trace/stream');
    await stream.next((e) => e.comment === 'trace');
    stream.res.pause();
    // ~8 KB events (a 4000-octet message_payload as hex): 3,000 of them, far more than the socket
    // buffers and the 256 KiB allowance hold.
    const big = encodePdu(
      createPdu('submit_sm', {
        destination_addr: '4915112345678',
        tlvs: [{ tag: 0x0424, value: Buffer.alloc(4_000, 0x41) }],
      }),
    );
    const total = 3_000;
    for (let i = 0; i < total; i++) {
      big.writeUInt32BE(i + 1, 12);
      bind.trace.record(true, big);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    stream.res.resume();
    await waitFor('the backlog read', () => stream.events.filter((e) => e.event === 'pdu').length > 0);
    await new Promise((r) => setTimeout(r, 200));
    big.writeUInt32BE(total + 1, 12);
    bind.trace.record(true, big);
    await stream.next((e) => e.event === 'pdu' && JSON.parse(e.data!).sequence === total + 1, 10_000);
    // Every PDU is either delivered or counted in a dropped event before the next one delivered.
    const dropped = stream.events
      .filter((e) => e.event === 'dropped')
      .reduce((n, e) => n + (JSON.parse(e.data!) as { dropped: number }).dropped, 0);
    const delivered = stream.events.filter((e) => e.event === 'pdu').length;
    expect(dropped).toBeGreaterThan(0);
    expect(delivered + dropped).toBe(total + 1);
    stream.close();
    await h.registry.remove('slow');
    await waitFor('stream forgotten', () => h.registry.listenerCount('removed') === listeners);
  });

  it('ends the stream when the bind is removed', async () => {
    h.registry.add(bindOptions('gone', h.port));
    h.registry.get('gone')!.start();
    await waitBound(h.registry.get('gone')!);
    const baseline = h.registry.listenerCount('removed');
    const stream = await openStream('/binds/gone/trace/stream');
    await stream.next((e) => e.comment === 'trace');
    // The routes listen for removed binds only while a stream is open.
    expect(h.registry.listenerCount('removed')).toBe(baseline + 1);
    let ended = false;
    stream.res.on('end', () => {
      ended = true;
    });
    await h.registry.remove('gone');
    // The unbind on the way out is traced before the stream ends.
    await waitFor('stream ended', () => ended);
    expect(h.registry.listenerCount('removed')).toBe(baseline);
  });
});

describe.skipIf(!hasTshark)('GET /binds/:id/trace.pcap', () => {
  it('is a pcap of the real connection that tshark decodes field for field, without the password', async () => {
    await h.registry.get('main')!.probe();
    const json = await trace('main');
    const res = await app.inject({ method: 'GET', url: '/binds/main/trace.pcap' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
    expect(res.headers['content-disposition']).toBe('attachment; filename="main-trace.pcap"');
    const pcap = res.rawPayload;
    expect(pcap.includes(PASSWORD)).toBe(false);
    const rows = tsharkFields(pcap, h.port, [
      'smpp.command_id',
      'smpp.sequence_number',
      'smpp.password',
      'smpp.system_id',
      'tcp.dstport',
      '_ws.malformed',
      '_ws.expert.severity',
    ]);
    const pduRows = rows.filter((r) => r[0] !== '');
    expect(pduRows.map((r) => [Number(r[0]), Number(r[1])])).toEqual(
      json.pdus.map((p) => [p.commandId, p.sequence]),
    );
    expect(pduRows[0]?.[2]).toBe('*'.repeat(PASSWORD.length));
    expect(pduRows[0]?.[3]).toBe('esme');
    // Our PDUs go to the simulator's real port.
    expect(pduRows[0]?.[4]).toBe(String(h.port));
    for (const r of rows) {
      expect(r[5]).toBe('');
      for (const s of (r[6] ?? '').split(',').filter(Boolean)) expect(Number(s)).toBeLessThan(EXPERT_WARN);
    }
  });
});
