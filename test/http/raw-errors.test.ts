/**
 * Errors the HTTP parser raises before fastify routes anything (issue 8 item 8): a URL or headers
 * too large, an unknown method, a bare CR, a missing Host, headers that never finish. Sent with a
 * raw node:net client, since no HTTP client can send them; every answer must have the one error
 * shape `{ code, message }`.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import { type App, buildApp } from '../../src/http/app.js';
import { HTTP_ERRORS } from '../../src/http/errors.js';
import { config } from './harness.js';

let app: App;
let port: number;

beforeAll(async () => {
  // A short header timeout so the 408 case stays quick.
  app = await buildApp({ registry: new BindRegistry(), config: config(), headersTimeoutMs: 400 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await app?.close();
});

/** Writes `raw`, collects everything until the server closes the connection (or `waitMs` passes). */
function rawRequest(raw: string, waitMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, waitMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(raw);
  });
}

function parse(response: string): { status: number; headers: string; body: Record<string, unknown> } {
  const at = response.indexOf('\r\n\r\n');
  const head = response.slice(0, at);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(response.slice(at + 4)) };
}

function expectShape(res: ReturnType<typeof parse>, code: keyof typeof HTTP_ERRORS): void {
  expect(res.status).toBe(HTTP_ERRORS[code].status);
  expect(res.headers).toContain('content-type: application/json');
  expect(Object.keys(res.body).sort()).toEqual(['code', 'message']);
  expect(res.body.code).toBe(code);
  expect(typeof res.body.message).toBe('string');
}

describe('errors of the HTTP parser', () => {
  it('answers a 100,000-character URL with 431 HEADERS_TOO_LARGE', async () => {
    const res = parse(await rawRequest(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expectShape(res, 'HEADERS_TOO_LARGE');
  });

  it('answers an unknown method with 400 BAD_REQUEST', async () => {
    expectShape(parse(await rawRequest('FROB /binds HTTP/1.1\r\nHost: x\r\n\r\n')), 'BAD_REQUEST');
  });

  it('answers a bare CR in a header with 400 BAD_REQUEST', async () => {
    expectShape(parse(await rawRequest('GET /binds HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n')), 'BAD_REQUEST');
  });

  it('answers an HTTP/1.1 request without Host with 400 BAD_REQUEST', async () => {
    expectShape(parse(await rawRequest('GET /binds HTTP/1.1\r\n\r\n')), 'BAD_REQUEST');
  });

  it('answers headers that never finish with 408 REQUEST_TIMEOUT', async () => {
    expectShape(parse(await rawRequest('GET /binds HTTP/1.1\r\nHost: x\r\n')), 'REQUEST_TIMEOUT');
  });

  it('still answers a well-formed request normally on the same server', async () => {
    const res = await rawRequest('GET /binds HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.startsWith('HTTP/1.1 200')).toBe(true);
  });
});
