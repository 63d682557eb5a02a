/**
 * No response ever contains a bind's password, its TLS key or an API token: every route and error
 * is called, with the secrets also sent as input values, and every body and header searched.
 * (A property name the client itself sends is named back in VALIDATION_FAILED; that is its own input.)
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TLS } from '../../src/binds/bind-options.js';
import type { App } from '../../src/http/app.js';
import {
  bindOptions,
  closedPort,
  config,
  type Harness,
  PASSWORD,
  startHarness,
  waitBound,
} from './harness.js';

const TLS_KEY = '-----BEGIN PRIVATE KEY-----\nTLSKEYSECRETMATERIAL\n-----END PRIVATE KEY-----';
const TOKEN = 'api-token-secret-7';
const SECRETS = [PASSWORD, 'TLSKEYSECRETMATERIAL', TOKEN];

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  h.registry.add(bindOptions('main', h.port, { minProbeIntervalMs: 0 }));
  h.registry.add(
    bindOptions('tls', await closedPort(), {
      tls: {
        ...DEFAULT_TLS,
        enabled: true,
        key: TLS_KEY,
        cert: 'CERT-PEM',
        ca: 'CA-PEM',
        servername: 'smsc.test',
      },
    }),
  );
  h.registry.startAll();
  await waitBound(h.registry.get('main')!);
});

afterAll(async () => {
  await h?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };

async function everyBody(app: App): Promise<string[]> {
  const bodies: string[] = [];
  const calls: {
    method?: 'GET' | 'POST';
    url: string;
    payload?: string;
    headers?: Record<string, string>;
  }[] = [
    { url: '/binds' },
    { url: '/binds/main' },
    { url: '/binds/tls' },
    { url: '/binds/main/health' },
    { url: '/binds/tls/health?strict=true&maxAgeMs=1&maxLatencyMs=0' },
    { url: '/binds/nope/health' },
    { url: '/livez' },
    { url: '/readyz' },
    { url: '/readyz?strict=true' },
    { url: '/metrics' },
    { url: '/openapi.json' },
    { url: '/docs/json' },
    { url: '/docs/yaml' },
    { url: '/nope' },
    { method: 'POST', url: '/binds/main/enquire', headers: auth },
    { method: 'POST', url: '/binds/main/enquire', headers: auth },
    { method: 'POST', url: '/binds/tls/enquire', headers: auth },
    { method: 'POST', url: '/binds/tls/rebind', headers: auth },
    { method: 'POST', url: '/binds/main/enquire' },
    { method: 'POST', url: '/binds/main/enquire', headers: { authorization: `Bearer ${PASSWORD}` } },
    {
      method: 'POST',
      url: '/binds/main/enquire',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: `{"timeoutMs":"${PASSWORD}"}`,
    },
    {
      method: 'POST',
      url: '/binds/main/enquire',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: PASSWORD,
    },
  ];
  for (const c of calls) {
    const res = await app.inject({
      method: c.method ?? 'GET',
      url: c.url,
      payload: c.payload,
      headers: c.headers,
    });
    bodies.push(
      `${c.method ?? 'GET'} ${c.url} -> ${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`,
    );
  }
  return bodies;
}

function leaks(bodies: string[]): string[] {
  return bodies.filter((b) => SECRETS.some((s) => b.includes(s)));
}

describe('secrets', () => {
  it('appear in no response of any route', async () => {
    const app = await h.app({ config: config({ auth: { tokens: [TOKEN], protectReads: false } }) });
    const bodies = await everyBody(app);
    expect(bodies.length).toBeGreaterThan(20);
    // The bind detail is really there, just without its secrets.
    expect(bodies.find((b) => b.startsWith('GET /binds/tls ->'))).toContain('"clientCertificate":true');
    expect(leaks(bodies)).toEqual([]);
  });

  it('stay out even when redactBind hands back the raw options', async () => {
    const app = await h.app({
      config: config({ auth: { tokens: [TOKEN], protectReads: false } }),
      redactBind: (options) => options,
    });
    const res = await app.inject({ url: '/binds/tls' });
    expect(res.statusCode).toBe(200);
    expect(res.json().config).toMatchObject({ id: 'tls', systemId: 'esme' });
    expect(leaks([res.body])).toEqual([]);
    expect(leaks(await everyBody(app))).toEqual([]);
  });

  it('appear nowhere in the event stream', async () => {
    const app = await h.app();
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.get(`${url}/events`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.includes('\n\n')) {
            req.destroy();
            resolve(body);
          }
        });
      });
      req.on('error', reject);
    });
    expect(text).toContain('event: snapshot');
    expect(leaks([text])).toEqual([]);
  });
});
