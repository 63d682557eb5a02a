import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bindOptions,
  captureLogger,
  closedPort,
  config,
  type Harness,
  startHarness,
  waitBound,
} from './harness.js';

let h: Harness;
const TOKEN = 'log-test-token-9';

beforeAll(async () => {
  h = await startHarness();
  h.registry.add(bindOptions('main', h.port, { minProbeIntervalMs: 0 }));
  h.registry.add(bindOptions('down', await closedPort()));
  h.registry.startAll();
  await waitBound(h.registry.get('main')!);
});

afterAll(async () => {
  await h?.close();
});

const DEBUG = 20;
const INFO = 30;

describe('access log', () => {
  it('writes one line per request: probes and scrapes at debug, mutations, failures and the rest at info', async () => {
    const { logger, lines } = captureLogger('debug');
    const app = await h.app({ logger, config: config({ auth: { tokens: [TOKEN], protectReads: false } }) });
    lines.length = 0;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const requests: [string, string, number, number][] = [
      ['GET', '/livez', 200, DEBUG],
      ['GET', '/readyz', 503, INFO],
      ['GET', '/binds/main/health', 200, DEBUG],
      ['GET', '/binds/down/health', 503, INFO],
      ['GET', '/metrics', 200, DEBUG],
      ['GET', '/binds', 200, INFO],
      ['GET', '/binds/main', 200, INFO],
      ['GET', '/nope', 404, INFO],
      ['POST', '/binds/main/enquire', 200, INFO],
      ['POST', '/binds/down/enquire', 503, INFO],
    ];
    for (const [method, url, status] of requests) {
      const res = await app.inject({ method: method as 'GET', url, headers: method === 'POST' ? auth : {} });
      expect(res.statusCode, url).toBe(status);
    }
    const access = lines.filter(
      (l) => typeof l.statusCode === 'number' && typeof l.responseTimeMs === 'number',
    );
    expect(access.map((l) => [l.method, l.url, l.statusCode, l.level])).toEqual(requests);
    for (const l of access) {
      expect(typeof l.reqId).toBe('string');
      expect(l.msg).toBe(`${l.method} ${l.url} ${l.statusCode} ${l.responseTimeMs} ms`);
    }
    expect(access.find((l) => l.url === '/binds/main/health')?.route).toBe('/binds/:id/health');
    // fastify's own request lines are off
    expect(lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toBe(false);
  });

  it('writes nothing for successful probes at level info', async () => {
    const { logger, lines } = captureLogger('info');
    const app = await h.app({ logger });
    lines.length = 0;
    for (let i = 0; i < 5; i++) {
      await app.inject({ url: '/livez' });
      await app.inject({ url: '/binds/main/health' });
      await app.inject({ url: '/metrics' });
    }
    expect(lines).toEqual([]);
    await app.inject({ url: '/binds/down/health' });
    expect(lines.map((l) => [l.url, l.statusCode])).toEqual([['/binds/down/health', 503]]);
  });

  it('never logs the Authorization header or the token', async () => {
    const { logger, text } = captureLogger('debug');
    const app = await h.app({ logger, config: config({ auth: { tokens: [TOKEN], protectReads: true } }) });
    await app.inject({ url: '/binds', headers: { authorization: `Bearer ${TOKEN}` } });
    await app.inject({ url: '/binds', headers: { authorization: 'Bearer wrong-token-x' } });
    await app.inject({
      method: 'POST',
      url: '/binds/main/enquire',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(text()).not.toContain(TOKEN);
    expect(text()).not.toContain('wrong-token-x');
    expect(text().toLowerCase()).not.toContain('authorization');
  });

  it('redacts sensitive query values from the URL (a token in ?access_token= is refused and not logged)', async () => {
    const { logger, lines, text } = captureLogger('debug');
    const app = await h.app({ logger, config: config({ auth: { tokens: [TOKEN], protectReads: false } }) });
    lines.length = 0;
    const leaked = 'qs-token-value-7';
    const res = await app.inject({
      method: 'POST',
      url: `/binds/main/enquire?access_token=${leaked}&api_key=k2&password=p3&detail=x`,
    });
    expect(res.statusCode).toBe(401);
    expect(text()).not.toContain(leaked);
    expect(text()).not.toMatch(/=k2|=p3/);
    const line = lines.find((l) => l.statusCode === 401);
    expect(line?.url).toBe(
      '/binds/main/enquire?access_token=[redacted]&api_key=[redacted]&password=[redacted]&detail=x',
    );
  });

  it('writes reqId once per access-log line', async () => {
    const { logger, text } = captureLogger('debug');
    const app = await h.app({ logger });
    await app.inject({ url: '/binds' });
    const line = text()
      .split('\n')
      .find((l) => l.includes('"statusCode"'));
    expect(line?.match(/"reqId"/g)).toHaveLength(1);
  });
});
