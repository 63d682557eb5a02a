import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { bindOptions, type Harness, startHarness, waitBound, waitFor } from './harness.js';

let h: Harness;
let app: App;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  h.registry.add(bindOptions('main', h.port));
  h.registry.add(bindOptions('other', h.port));
  h.registry.startAll();
  await waitBound(h.registry.get('main')!);
  await waitBound(h.registry.get('other')!);
  app = await h.app({ sseHeartbeatMs: 50 });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await h?.close();
});

interface SseEvent {
  event: string | null;
  data: string | null;
  comment: string | null;
}

/** A client of GET /events that parses the stream into events as they arrive. */
function openStream(path = '/events'): Promise<{
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
        next(predicate, timeoutMs = 3_000) {
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

describe('GET /events', () => {
  it('opens with a snapshot of every bind, as text/event-stream', async () => {
    const stream = await openStream();
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.res.headers['cache-control']).toBe('no-cache, no-transform');
    const snapshot = await stream.next((e) => e.event === 'snapshot');
    const data = JSON.parse(snapshot.data!) as { binds: { id: string; status: string }[]; at: string };
    expect(data.binds.map((b) => [b.id, b.status])).toEqual([
      ['main', 'healthy'],
      ['other', 'healthy'],
    ]);
    expect(Number.isNaN(Date.parse(data.at))).toBe(false);
    stream.close();
  });

  it('sends a transition when a bind changes status', async () => {
    const stream = await openStream();
    await stream.next((e) => e.event === 'snapshot');
    await h.registry.get('other')!.stop();
    const t = await stream.next((e) => e.event === 'transition');
    expect(JSON.parse(t.data!)).toMatchObject({
      bindId: 'other',
      from: 'healthy',
      to: 'stopped',
      code: 'STOPPED',
      reason: 'the bind is stopped',
    });
    expect(Object.keys(JSON.parse(t.data!)).sort()).toEqual(['at', 'bindId', 'code', 'from', 'reason', 'to']);
    stream.close();
  });

  it('sends a heartbeat comment at the heartbeat interval', async () => {
    const stream = await openStream();
    const beat = await stream.next((e) => e.comment === 'heartbeat');
    expect(beat.event).toBeNull();
    stream.close();
  });

  it('removes its listener when the client disconnects (no leak)', async () => {
    // One listener is the app's own (the since-tracker); the earlier tests' streams are closing.
    const baseline = 1;
    await waitFor('earlier streams cleaned up', () => h.registry.listenerCount('transition') === baseline);
    const streams = await Promise.all([openStream(), openStream(), openStream()]);
    for (const s of streams) await s.next((e) => e.event === 'snapshot');
    // All streams share one listener that fans out.
    expect(h.registry.listenerCount('transition')).toBe(baseline + 1);
    for (const s of streams) s.close();
    await waitFor('listeners removed', () => h.registry.listenerCount('transition') === baseline);
  });

  it('serves more than 10 clients with one registry listener and no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const streams = await Promise.all(Array.from({ length: 12 }, () => openStream()));
      for (const s of streams) await s.next((e) => e.event === 'snapshot');
      expect(h.registry.listenerCount('transition')).toBe(2);
      // Every client still gets every transition ('other' was stopped by an earlier test).
      h.registry.get('other')!.start();
      await waitBound(h.registry.get('other')!);
      for (const s of streams) {
        await s.next((e) => e.event === 'transition' && (e.data ?? '').includes('"to":"healthy"'));
      }
      for (const s of streams) s.close();
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('ends open streams when the app closes', async () => {
    const own = await h.app({ sseHeartbeatMs: 60_000 });
    const ownUrl = await own.listen({ host: '127.0.0.1', port: 0 });
    const baseline = h.registry.listenerCount('transition');
    const ended = new Promise<void>((resolve, reject) => {
      http
        .get(`${ownUrl}/events`, (res) => {
          res.resume();
          res.on('end', resolve);
          res.on('close', resolve);
        })
        .on('error', reject);
    });
    await waitFor('stream open', () => h.registry.listenerCount('transition') > baseline);
    await own.close();
    await ended;
    // The app's own transition listener (since-tracker) went too.
    expect(h.registry.listenerCount('transition')).toBeLessThan(baseline);
  });

  it('with ?binds=true, also sends each probe of a bind as its summary, counters and RTT (the dashboard)', async () => {
    const probeListeners = h.registry.listenerCount('probe');
    const plain = await openStream();
    const stream = await openStream('/events?binds=true');
    const plainSnapshot = await plain.next((e) => e.event === 'snapshot');
    const snapshot = await stream.next((e) => e.event === 'snapshot');
    // The dashboard's snapshot says whether the message path runs (it does not in this app).
    expect(JSON.parse(snapshot.data!).messages).toBe(false);
    expect(JSON.parse(plainSnapshot.data!)).not.toHaveProperty('messages');
    const main = (JSON.parse(snapshot.data!) as { binds: Record<string, unknown>[] }).binds.find(
      (b) => b.id === 'main',
    );
    expect(main).toMatchObject({ status: 'healthy', state: 'bound', probesFailed: 0, reconnects: 0 });
    expect(Object.keys(main!).sort()).toEqual([
      'code',
      'id',
      'lastRttMs',
      'probesFailed',
      'probesSent',
      'reason',
      'reconnects',
      'since',
      'state',
      'status',
    ]);
    expect(h.registry.listenerCount('probe')).toBe(probeListeners + 1);
    const result = await h.registry.get('main')!.probe({ trigger: 'manual' });
    const frame = await stream.next((e) => e.event === 'bind' && (e.data ?? '').includes('"id":"main"'));
    const data = JSON.parse(frame.data!) as Record<string, unknown>;
    expect(data).toMatchObject({
      id: 'main',
      status: 'healthy',
      code: 'OK',
      state: 'bound',
      lastRttMs: result.rttMs,
      probe: { ok: true, rttMs: result.rttMs, trigger: 'manual' },
    });
    expect(data.probesSent).toBeGreaterThanOrEqual(1);
    expect(data.probesFailed).toBe(0);
    expect(data.reconnects).toBe(0);
    // A stream without ?binds=true gets none of these.
    await new Promise((r) => setTimeout(r, 50));
    expect(plain.events.filter((e) => e.event === 'bind')).toEqual([]);
    plain.close();
    stream.close();
    await waitFor('probe listener removed', () => h.registry.listenerCount('probe') === probeListeners);
  });
});
