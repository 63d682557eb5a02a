import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmppProbeRateLimitedError } from '../../src/binds/errors.js';
import { SmppError } from '../../src/errors.js';
import type { App } from '../../src/http/app.js';
import { fromSmppError, HTTP_ERRORS, HttpApiError, retryAfterSeconds } from '../../src/http/errors.js';
import { bindOptions, captureLogger, type Harness, startHarness, waitBound } from './harness.js';

let h: Harness;
let app: App;
let logs: ReturnType<typeof captureLogger>;

beforeAll(async () => {
  h = await startHarness();
  const bind = h.registry.add(bindOptions('main', h.port));
  h.registry.add(bindOptions('broken', h.port));
  h.registry.startAll();
  await waitBound(bind);
  logs = captureLogger('info');
  app = await h.app({ logger: logs.logger });
});

afterAll(async () => {
  await h?.close();
});

describe('error responses', () => {
  it('hides the message and stack of an unexpected error behind 500 INTERNAL_ERROR, and logs it', async () => {
    const broken = h.registry.get('broken')!;
    broken.health = () => {
      throw new Error('kaboom in /srv/internal/path');
    };
    const res = await app.inject({ url: '/binds/broken' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 'INTERNAL_ERROR', message: 'internal error' });
    expect(res.body).not.toContain('kaboom');
    expect(res.body).not.toContain('/srv/internal');
    expect(res.body).not.toMatch(/\bat \S+ \(/);
    const logged = logs.lines.find((l) => l.level === 50 && String(l.msg).startsWith('unhandled error'));
    expect(JSON.stringify(logged)).toContain('kaboom in /srv/internal/path');
  });

  it('answers an unknown route with 404 NOT_FOUND naming method and path, not the query', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/binds/main?token=abc' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ code: 'NOT_FOUND', message: 'no route DELETE /binds/main' });
  });

  it('answers a malformed URL with 400 BAD_REQUEST', async () => {
    const res = await app.inject({ url: '/binds/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('BAD_REQUEST');
  });

  it('answers a path parameter beyond the router limit with 400 BAD_REQUEST', async () => {
    const res = await app.inject({ url: `/binds/${'x'.repeat(600)}/health` });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('BAD_REQUEST');
  });

  it('never answers with a stack trace or an error shape of its own for any bad input', async () => {
    const cases = [
      app.inject({ url: '/binds/main/health?maxAgeMs=x' }),
      app.inject({
        method: 'POST',
        url: '/binds/main/enquire',
        headers: { 'content-type': 'application/json' },
        payload: '{',
      }),
      app.inject({
        method: 'POST',
        url: '/binds/main/enquire',
        headers: { 'content-type': 'text/plain' },
        payload: 'x',
      }),
      app.inject({ method: 'PUT', url: '/binds' }),
      app.inject({ url: '/binds/%' }),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      const body = res.json() as Record<string, unknown>;
      expect(Object.keys(body).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
      expect(Object.keys(HTTP_ERRORS)).toContain(body.code);
      expect(HTTP_ERRORS[body.code as keyof typeof HTTP_ERRORS].status).toBe(res.statusCode);
      expect(res.body).not.toContain('node_modules');
      expect(res.body).not.toContain('FST_');
    }
  });
});

describe('error mapping', () => {
  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(59_999)).toBe(60);
  });

  it('maps a rate-limited probe to 429 with Retry-After', () => {
    const e = fromSmppError(new SmppProbeRateLimitedError('main', 1500), 'main')!;
    expect(e.statusCode).toBe(429);
    expect(e.headers).toEqual({ 'retry-after': '2' });
    expect(e.toBody()).toEqual({
      code: 'PROBE_RATE_LIMITED',
      message: 'bind main: probed too recently; retry in 1500 ms',
      details: { bindId: 'main', retryAfterMs: 1500 },
    });
  });

  it('leaves errors that are not the bind layer to the caller', () => {
    expect(fromSmppError(new Error('x'))).toBeNull();
    expect(fromSmppError(new SmppError('SMPP_ERR_ENCODE', 'x'))).toBeNull();
  });

  it('docs/errors.md lists every code with its status', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
    );
    expect([...rows.keys()].sort()).toEqual(Object.keys(HTTP_ERRORS).sort());
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) expect(rows.get(code), code).toBe(status);
  });

  it('gives each code of the table its status', () => {
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) {
      expect(new HttpApiError(code as keyof typeof HTTP_ERRORS, 'm').statusCode).toBe(status);
    }
  });
});
