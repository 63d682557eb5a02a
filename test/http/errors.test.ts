import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SmppBindExistsError,
  SmppInvalidBindOptionsError,
  SmppProbeRateLimitedError,
  SmppUnknownBindError,
} from '../../src/binds/errors.js';
import { SmppError } from '../../src/errors.js';
import type { App } from '../../src/http/app.js';
import { fromSmppError, HTTP_ERRORS, HttpApiError, retryAfterSeconds } from '../../src/http/errors.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import {
  SmppCommandStatusError,
  SmppConnectionClosedError,
  SmppNotBoundError,
  SmppResponseTimeoutError,
  SmppWindowWaitTimeoutError,
} from '../../src/session/errors.js';
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
    // (DELETE /binds/{id} exists since the bind management API.)
    const res = await app.inject({ method: 'DELETE', url: '/binds/main/health?token=abc' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ code: 'NOT_FOUND', message: 'no route DELETE /binds/main/health' });
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

  it('maps not bound (and a connection that closed meanwhile) to 503 NOT_BOUND', () => {
    const e = fromSmppError(new SmppNotBoundError('submit_sm', 'backoff'), 'main')!;
    expect(e.statusCode).toBe(503);
    expect(e.toBody()).toMatchObject({ code: 'NOT_BOUND', details: { bindId: 'main', state: 'backoff' } });
    expect(fromSmppError(new SmppConnectionClosedError('peer_closed'))!.code).toBe('NOT_BOUND');
  });

  it('maps a response timeout to 504 RESPONSE_TIMEOUT with the timeout', () => {
    const e = fromSmppError(new SmppResponseTimeoutError('submit_sm', 7, 30_000), 'main')!;
    expect(e.statusCode).toBe(504);
    expect(e.toBody()).toMatchObject({
      code: 'RESPONSE_TIMEOUT',
      details: { bindId: 'main', timeoutMs: 30_000 },
    });
  });

  it('maps a full window and a throttling SMSC to 429 with Retry-After', () => {
    const full = fromSmppError(new SmppWindowWaitTimeoutError('submit_sm', 30_000), 'main')!;
    expect([full.statusCode, full.code, full.headers['retry-after']]).toEqual([429, 'WINDOW_FULL', '1']);
    for (const status of [CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL]) {
      const e = fromSmppError(new SmppCommandStatusError('submit_sm', status), 'main')!;
      expect([e.statusCode, e.code, e.headers['retry-after']]).toEqual([429, 'THROTTLED', '1']);
      expect(e.details).toMatchObject({ commandStatus: status, retryClass: 'retry', retryAfterMs: 1000 });
    }
  });

  it("maps any other refusal to 502 SMSC_REJECTED with the status's name and retry class", () => {
    const error = new SmppCommandStatusError('submit_sm', CommandStatus.ESME_RINVDSTADR, 9);
    expect(error).toMatchObject({
      code: 'SMPP_ERR_COMMAND_STATUS',
      statusName: 'ESME_RINVDSTADR',
      retryClass: 'permanent',
      retriable: false,
    });
    const e = fromSmppError(error, 'main')!;
    expect(e.statusCode).toBe(502);
    expect(e.toBody()).toMatchObject({
      code: 'SMSC_REJECTED',
      details: {
        bindId: 'main',
        commandStatus: 0x0b,
        statusName: 'ESME_RINVDSTADR',
        retryClass: 'permanent',
      },
    });
  });

  it('maps the registry errors: unknown 404, taken id 409, bad options 422 naming each field', () => {
    expect(fromSmppError(new SmppUnknownBindError('x'))!.statusCode).toBe(404);
    const exists = fromSmppError(new SmppBindExistsError('main'))!;
    expect([exists.statusCode, exists.code, exists.details]).toEqual([
      409,
      'BIND_EXISTS',
      { bindId: 'main' },
    ]);
    const invalid = fromSmppError(
      new SmppInvalidBindOptionsError('main', [
        { field: 'port', message: 'must be a port number from 1 to 65535' },
        { field: 'reconnect.maxDelayMs', message: 'must be a whole number of milliseconds from 1' },
      ]),
    )!;
    expect(invalid.statusCode).toBe(422);
    expect(invalid.toBody()).toMatchObject({
      code: 'INVALID_BIND_OPTIONS',
      details: {
        bindId: 'main',
        errors: [
          { field: 'body/port', message: 'must be a port number from 1 to 65535' },
          { field: 'body/reconnect/maxDelayMs', message: 'must be a whole number of milliseconds from 1' },
        ],
      },
    });
  });

  it('keeps the API error apart from the SMPP errors: its code is an HTTP code, the SMPP error its cause', () => {
    const cause = new SmppNotBoundError('enquire_link', 'backoff');
    const e = fromSmppError(cause)!;
    expect(e).not.toBeInstanceOf(SmppError);
    expect(e.code).toBe('NOT_BOUND');
    expect(e.cause).toBe(cause);
    expect(e.retriable).toBe(true);
    expect(new HttpApiError('VALIDATION_FAILED', 'x').retriable).toBe(false);
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
