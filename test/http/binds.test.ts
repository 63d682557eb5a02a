import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import {
  bindOptions,
  closedPort,
  config,
  type Harness,
  MUTE_SYSTEM_ID,
  PASSWORD,
  startHarness,
  waitBound,
  waitFor,
} from './harness.js';

let h: Harness;
let app: App;

beforeAll(async () => {
  h = await startHarness();
  const down = await closedPort();
  h.registry.add(bindOptions('main', h.port, { minProbeIntervalMs: 0 }));
  h.registry.add(bindOptions('limited', h.port));
  h.registry.add(bindOptions('mute', h.port, { systemId: MUTE_SYSTEM_ID, minProbeIntervalMs: 0 }));
  h.registry.add(bindOptions('down', down));
  h.registry.add(bindOptions('stopped', h.port));
  h.registry.add(bindOptions('rebound', h.port, { minProbeIntervalMs: 0 }));
  h.registry.startAll();
  for (const id of ['main', 'limited', 'mute', 'stopped', 'rebound']) await waitBound(h.registry.get(id)!);
  await h.registry.get('stopped')!.stop();
  h.simulator.setFault({ kind: 'blackhole' }, { systemId: MUTE_SYSTEM_ID });
  app = await h.app({ config: config({ http: { bodyLimitBytes: 256 } }) });
});

afterAll(async () => {
  await h?.close();
});

const json = { 'content-type': 'application/json' };

describe('GET /binds', () => {
  it('lists every bind in id order with its status summary', async () => {
    const res = await app.inject({ url: '/binds' });
    expect(res.statusCode).toBe(200);
    const { binds, nextCursor } = res.json() as { binds: Record<string, unknown>[]; nextCursor: unknown };
    expect(binds.map((b) => b.id)).toEqual(['down', 'limited', 'main', 'mute', 'rebound', 'stopped']);
    expect(nextCursor).toBeNull();
    const main = binds[2]!;
    // No bind ownership in this registry: no replica is named.
    expect(main).toMatchObject({ id: 'main', owner: null, status: 'healthy', code: 'OK', state: 'bound' });
    expect(Object.keys(main).sort()).toEqual([
      'code',
      'id',
      'lastRttMs',
      'owner',
      'reason',
      'since',
      'state',
      'status',
    ]);
    expect(Number.isNaN(Date.parse(main.since as string))).toBe(false);
    expect(binds[0]).toMatchObject({ id: 'down', status: 'unhealthy', code: 'NOT_BOUND', lastRttMs: null });
    expect(binds[5]).toMatchObject({ id: 'stopped', status: 'stopped', code: 'STOPPED', state: 'stopped' });
  });
});

describe('GET /binds/:id', () => {
  it('shows the configuration without secrets and the full health model', async () => {
    const res = await app.inject({ url: '/binds/main' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      id: string;
      config: Record<string, unknown>;
      health: Record<string, unknown>;
    };
    expect(body.id).toBe('main');
    expect(body.config).toMatchObject({ id: 'main', host: '127.0.0.1', port: h.port, systemId: 'esme' });
    expect(body.config).not.toHaveProperty('password');
    expect(body.config.tls).toEqual({
      enabled: false,
      rejectUnauthorized: true,
      customCa: false,
      clientCertificate: false,
    });
    expect(body.health).toMatchObject({
      id: 'main',
      status: 'healthy',
      state: 'bound',
      bindType: 'transceiver',
      remoteAddress: `127.0.0.1:${h.port}`,
    });
    expect(body.health.counters).toMatchObject({ binds: 1, bindFailures: 0 });
    expect(res.body).not.toContain(PASSWORD);
  });

  it('answers 404 BIND_NOT_FOUND for an unknown id', async () => {
    const res = await app.inject({ url: '/binds/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      code: 'BIND_NOT_FOUND',
      message: "no bind with id 'nope'",
      details: { bindId: 'nope' },
    });
  });

  it('refuses an id longer than 128 characters with VALIDATION_FAILED naming params/id', async () => {
    const res = await app.inject({ url: `/binds/${'x'.repeat(129)}` });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { code: string; details: { errors: { field: string }[] } };
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.details.errors[0]?.field).toBe('params/id');
  });
});

describe('POST /binds/:id/enquire', () => {
  it('sends an enquire_link and answers with its round trip', async () => {
    const before = Date.now();
    const res = await app.inject({ method: 'POST', url: '/binds/main/enquire' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      ok: boolean;
      rttMs: number;
      sequenceNumber: number;
      commandStatus: number;
      at: string;
    };
    expect(body.ok).toBe(true);
    expect(body.rttMs).toBeGreaterThan(0);
    expect(Number.isInteger(body.sequenceNumber)).toBe(true);
    expect(body.commandStatus).toBe(0);
    expect(Date.parse(body.at)).toBeGreaterThanOrEqual(before - 5);
    expect(Object.keys(body).sort()).toEqual(['at', 'commandStatus', 'ok', 'rttMs', 'sequenceNumber']);
    const probe = h.registry.get('main')!.health().lastProbe;
    expect(probe).toMatchObject({ ok: true, trigger: 'manual', sequenceNumber: body.sequenceNumber });
  });

  it('takes a timeoutMs in a JSON body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/binds/main/enquire',
      headers: json,
      payload: '{"timeoutMs":5000}',
    });
    expect(res.statusCode).toBe(200);
  });

  it('treats an empty JSON body as no body', async () => {
    const res = await app.inject({ method: 'POST', url: '/binds/main/enquire', headers: json, payload: '' });
    expect(res.statusCode).toBe(200);
  });

  it('coalesces concurrent probes into one enquire_link', async () => {
    const [a, b] = await Promise.all([
      app.inject({ method: 'POST', url: '/binds/main/enquire' }),
      app.inject({ method: 'POST', url: '/binds/main/enquire' }),
    ]);
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(a.json().sequenceNumber).toBe(b.json().sequenceNumber);
  });

  it('answers 429 PROBE_RATE_LIMITED with Retry-After in whole seconds within minProbeIntervalMs', async () => {
    const first = await app.inject({ method: 'POST', url: '/binds/limited/enquire' });
    expect(first.statusCode).toBe(200);
    const res = await app.inject({ method: 'POST', url: '/binds/limited/enquire' });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    const body = res.json() as { code: string; details: { bindId: string; retryAfterMs: number } };
    expect(body.code).toBe('PROBE_RATE_LIMITED');
    expect(body.details.bindId).toBe('limited');
    expect(body.details.retryAfterMs).toBeGreaterThan(0);
    expect(body.details.retryAfterMs).toBeLessThanOrEqual(1000);
  });

  it('answers 504 PROBE_TIMEOUT when the SMSC ignores enquire_link', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/binds/mute/enquire',
      headers: json,
      payload: { timeoutMs: 150 },
    });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ code: 'PROBE_TIMEOUT', details: { bindId: 'mute', timeoutMs: 150 } });
    expect(h.registry.get('mute')!.health().lastProbe).toMatchObject({ ok: false, trigger: 'manual' });
  });

  it('answers 503 NOT_BOUND for a bind that is not bound', async () => {
    const res = await app.inject({ method: 'POST', url: '/binds/down/enquire' });
    expect(res.statusCode).toBe(503);
    const body = res.json() as { code: string; details: { bindId: string; state: string } };
    expect(body.code).toBe('NOT_BOUND');
    expect(body.details.bindId).toBe('down');
    expect(['connecting', 'backoff', 'binding']).toContain(body.details.state);
  });

  it('answers 503 BIND_STOPPED for a stopped bind', async () => {
    const res = await app.inject({ method: 'POST', url: '/binds/stopped/enquire' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'BIND_STOPPED', details: { bindId: 'stopped' } });
  });

  it('answers 404 BIND_NOT_FOUND for an unknown id', async () => {
    const res = await app.inject({ method: 'POST', url: '/binds/nope/enquire' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('BIND_NOT_FOUND');
  });

  it.each([
    ['a string', '{"timeoutMs":"5000"}', 'body/timeoutMs', 'must be integer'],
    ['a boolean', '{"timeoutMs":true}', 'body/timeoutMs', 'must be integer'],
    ['a fraction', '{"timeoutMs":1.5}', 'body/timeoutMs', 'must be integer'],
    ['zero', '{"timeoutMs":0}', 'body/timeoutMs', 'must be >= 1'],
    ['above the limit', '{"timeoutMs":60001}', 'body/timeoutMs', 'must be <= 60000'],
    ['an unknown field', '{"timeout":5000}', 'body/timeout', 'is not an allowed property'],
    ['an array', '[5000]', 'body', 'must be object'],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (_name, payload, field, message) => {
    const res = await app.inject({ method: 'POST', url: '/binds/main/enquire', headers: json, payload });
    expect(res.statusCode).toBe(400);
    const body = res.json() as {
      code: string;
      message: string;
      details: { errors: { field: string; message: string }[] };
    };
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.details.errors).toContainEqual({ field, message });
    expect(body.message).toContain(`${field} ${message}`);
  });

  it('refuses a body that is not JSON with 400 INVALID_JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/binds/main/enquire',
      headers: json,
      payload: '{"timeoutMs":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_JSON');
  });

  it('refuses a body over http.bodyLimitBytes with 413 BODY_TOO_LARGE', async () => {
    const payload = JSON.stringify({ timeoutMs: 5000, pad: 'x'.repeat(300) });
    const res = await app.inject({ method: 'POST', url: '/binds/main/enquire', headers: json, payload });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      code: 'BODY_TOO_LARGE',
      message: 'the body is larger than 256 bytes',
      details: { limitBytes: 256 },
    });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'refuses a %s body with 415 UNSUPPORTED_MEDIA_TYPE',
    async (type) => {
      const res = await app.inject({
        method: 'POST',
        url: '/binds/main/enquire',
        headers: { 'content-type': type },
        payload: 'timeoutMs=5000',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    },
  );

  it('accepts application/json with a charset', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/binds/main/enquire',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: '{"timeoutMs":5000}',
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('POST /binds/:id/rebind', () => {
  it('answers 202 and binds again on a fresh connection', async () => {
    const bind = h.registry.get('rebound')!;
    const before = bind.health().counters;
    const res = await app.inject({ method: 'POST', url: '/binds/rebound/rebind' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: 'rebound', accepted: true });
    await waitFor('the second bind', () => bind.health().counters.binds === before.binds + 1);
    await waitBound(bind);
    expect(bind.health().counters.reconnects).toBe(before.reconnects + 1);
    const probe = await app.inject({ method: 'POST', url: '/binds/rebound/enquire' });
    expect(probe.statusCode).toBe(200);
  });

  it('answers 503 BIND_STOPPED for a stopped bind', async () => {
    const res = await app.inject({ method: 'POST', url: '/binds/stopped/rebind' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      code: 'BIND_STOPPED',
      details: { bindId: 'stopped', state: 'stopped' },
    });
  });

  it('answers 404 BIND_NOT_FOUND for an unknown id', async () => {
    const res = await app.inject({ method: 'POST', url: '/binds/nope/rebind' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('BIND_NOT_FOUND');
  });
});
