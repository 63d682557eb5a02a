/**
 * The bind management API over HTTP against a real registry, the simulator and a SqliteStore:
 * create, replace, patch (enabled: false), delete; config binds read-only; validation with the
 * config file's rules and field paths; passwords never returned nor logged; API binds surviving a
 * restart (the store reopened, the desired set reconciled again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BindRegistry } from '../../src/binds/registry.js';
import { BindCatalog } from '../../src/cli/bind-catalog.js';
import { parseConfigText } from '../../src/config/load-config.js';
import type { ServiceConfig } from '../../src/config/service-config.js';
import type { App } from '../../src/http/app.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import {
  captureLogger,
  type Harness,
  config as httpConfig,
  PASSWORD,
  startHarness,
  waitFor,
} from './harness.js';

const TOKEN = 'tok-1';
const auth = { authorization: `Bearer ${TOKEN}` };

let h: Harness;
let dir: string;
let stores: SqliteStore[];
let serviceConfig: ServiceConfig;
let logs: ReturnType<typeof captureLogger>;

function openStore(): SqliteStore {
  const store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
  stores.push(store);
  return store;
}

/** One service over `registry`: the catalog applied, the registry started, the app built. */
async function service(registry: BindRegistry, store: SqliteStore | null) {
  const catalog = new BindCatalog({ registry, store, config: serviceConfig, logger: logs.logger as never });
  await catalog.apply();
  registry.startAll();
  const app = await h.app({
    registry,
    bindAdmin: catalog,
    logger: logs.logger,
    config: httpConfig({ auth: { tokens: [TOKEN], protectReads: false } }),
  });
  return { catalog, app };
}

function apiBind(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    host: '127.0.0.1',
    port: h.port,
    systemId: 'esme',
    password: PASSWORD,
    enquireLinkIntervalMs: 60_000,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    ...extra,
  };
}

async function send(app: App, method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  const res = await app.inject({
    method,
    url,
    headers: auth,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return {
    status: res.statusCode,
    body: res.json() as Record<string, unknown>,
    raw: res.body,
    headers: res.headers,
  };
}

beforeEach(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bindapi-'));
  stores = [];
  logs = captureLogger('debug');
  serviceConfig = parseConfigText(
    [
      'defaults: { enquireLinkIntervalMs: 60000 }',
      'binds:',
      `  - { id: cfg, host: 127.0.0.1, port: ${h.port}, systemId: esme, password: ${JSON.stringify(PASSWORD)} }`,
    ].join('\n'),
    { env: {}, baseDir: dir },
  );
});

afterEach(async () => {
  await h.close();
  for (const store of stores) await store.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('bind management API', () => {
  it('creates a bind that runs at once, shows it without its password, and stores it', async () => {
    const store = openStore();
    const { app } = await service(h.registry, store);
    const created = await send(app, 'POST', '/binds', apiBind('api-1'));
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/binds/api-1');
    expect(created.body).toMatchObject({
      id: 'api-1',
      source: 'api',
      enabled: true,
      version: 1,
      config: { id: 'api-1', port: h.port, systemId: 'esme', enquireLinkIntervalMs: 60_000 },
    });
    expect(created.raw).not.toContain(PASSWORD);
    const bind = h.registry.get('api-1');
    expect(bind).toBeDefined();
    await waitFor('api-1 bound', () => bind?.state === 'bound');
    const detail = await app.inject({ url: '/binds/api-1' });
    expect(detail.statusCode).toBe(200);
    expect(detail.body).not.toContain(PASSWORD);
    // Stored as given (the store is trusted like the config file), the password included.
    expect((await store.getBindDefinition('api-1'))?.definition).toMatchObject({ password: PASSWORD });
    // Defaults come from the config file's `defaults`, like a file bind's.
    expect(bind?.options.enquireLinkIntervalMs).toBe(60_000);
    expect(bind?.options.windowSize).toBe(10);
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it('checks a body like a config-file bind: 422 INVALID_BIND_OPTIONS naming each field, nothing stored', async () => {
    const store = openStore();
    const { app } = await service(h.registry, store);
    const bad = await send(
      app,
      'POST',
      '/binds',
      apiBind('api-bad', {
        port: 70_000,
        prot: 1,
        password: 123456789,
        reconnect: { initialDelayMs: 5_000, maxDelayMs: 1_000 },
        tls: { enabled: true, cert: 'client.pem' },
      }),
    );
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('INVALID_BIND_OPTIONS');
    const fields = (bad.body.details as { errors: { field: string; message: string }[] }).errors.map(
      (e) => e.field,
    );
    expect(fields).toEqual(
      expect.arrayContaining([
        'body/port',
        'body/prot',
        'body/password',
        'body/reconnect/initialDelayMs',
        'body/tls/cert',
      ]),
    );
    // A secret's value is never echoed, even when it is wrong.
    expect(bad.raw).not.toContain('123456789');
    const notObject = await send(app, 'POST', '/binds', [1, 2]);
    expect(notObject.status).toBe(422);
    expect(notObject.body.code).toBe('INVALID_BIND_OPTIONS');
    const missing = await send(app, 'POST', '/binds', { id: 'x' });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body)).toContain('body/host');
    expect(await store.listBindDefinitions()).toEqual([]);
    expect(h.registry.list().map((b) => b.id)).toEqual(['cfg']);
  });

  it('keeps config binds read-only (409 BIND_READ_ONLY) and ids unique (409 BIND_EXISTS)', async () => {
    const { app } = await service(h.registry, openStore());
    for (const [method, payload] of [
      ['PUT', apiBind('cfg')],
      ['PATCH', { enabled: false }],
      ['DELETE', undefined],
    ] as const) {
      const res = await send(app, method, '/binds/cfg', payload);
      expect(res.status, method).toBe(409);
      expect(res.body, method).toMatchObject({ code: 'BIND_READ_ONLY', details: { bindId: 'cfg' } });
    }
    expect((await send(app, 'POST', '/binds', apiBind('cfg'))).body.code).toBe('BIND_EXISTS');
    expect((await send(app, 'POST', '/binds', apiBind('api-1'))).status).toBe(201);
    const again = await send(app, 'POST', '/binds', apiBind('api-1'));
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('BIND_EXISTS');
    expect((await send(app, 'PUT', '/binds/nope', apiBind('nope'))).status).toBe(404);
    expect((await send(app, 'PATCH', '/binds/nope', { enabled: false })).status).toBe(404);
    expect((await send(app, 'DELETE', '/binds/nope')).status).toBe(404);
    expect(h.registry.get('cfg')?.state).not.toBe('stopped');
  });

  it('replaces a bind (the stored password kept when left out) and refuses a changed id', async () => {
    const store = openStore();
    const { app } = await service(h.registry, store);
    await send(app, 'POST', '/binds', apiBind('api-1'));
    const { password: _omitted, ...withoutPassword } = apiBind('api-1', { enquireLinkIntervalMs: 45_000 });
    const replaced = await send(app, 'PUT', '/binds/api-1', withoutPassword);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ version: 2, config: { enquireLinkIntervalMs: 45_000 } });
    expect(h.registry.get('api-1')?.options).toMatchObject({
      enquireLinkIntervalMs: 45_000,
      password: PASSWORD,
    });
    await waitFor('api-1 bound with the kept password', () => h.registry.get('api-1')?.state === 'bound');
    const renamed = await send(app, 'PUT', '/binds/api-1', apiBind('api-2'));
    expect(renamed.status).toBe(422);
    expect(renamed.body.details).toMatchObject({ errors: [{ field: 'body/id' }] });
    expect((await store.getBindDefinition('api-1'))?.version).toBe(2);
  });

  it('PATCH enabled: false stops the bind and keeps it stopped across a restart; enabled: true starts it', async () => {
    const store = openStore();
    const first = await service(h.registry, store);
    await send(first.app, 'POST', '/binds', apiBind('api-1'));
    await waitFor('api-1 bound', () => h.registry.get('api-1')?.state === 'bound');
    const off = await send(first.app, 'PATCH', '/binds/api-1', { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, version: 2 });
    expect(h.registry.get('api-1')?.state).toBe('stopped');
    // A disabled bind does not hold readiness down.
    await waitFor('cfg bound', () => h.registry.get('cfg')?.state === 'bound');
    expect(h.registry.readiness('all')).toMatchObject({ total: 1 });
    // A merge patch: tuning changes, the rest stays, null goes back to the default.
    const tuned = await send(first.app, 'PATCH', '/binds/api-1', {
      windowSize: 20,
      reconnect: { maxDelayMs: 300 },
      enquireLinkIntervalMs: null,
    });
    expect(tuned.body).toMatchObject({
      enabled: false,
      config: {
        windowSize: 20,
        enquireLinkIntervalMs: 60_000,
        reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
      },
    });
    expect(h.registry.get('api-1')?.state).toBe('stopped');

    // Restart: everything closed, the store reopened, the desired set applied again.
    await first.app.close();
    await h.registry.stopAll(2_000);
    await store.close();
    const registry = h.newRegistry();
    const second = await service(registry, openStore());
    expect(registry.list().map((b) => b.id)).toEqual(['cfg', 'api-1']);
    expect(registry.get('api-1')?.state).toBe('stopped');
    expect(registry.get('api-1')?.options).toMatchObject({ windowSize: 20, password: PASSWORD });
    const on = await send(second.app, 'PATCH', '/binds/api-1', { enabled: true });
    expect(on.body).toMatchObject({ enabled: true, version: 4 });
    await waitFor('api-1 bound again', () => registry.get('api-1')?.state === 'bound');
  });

  it('deletes a bind: unbound, gone from the running set and from the store', async () => {
    const store = openStore();
    const { app } = await service(h.registry, store);
    await send(app, 'POST', '/binds', apiBind('api-1'));
    await waitFor('api-1 bound', () => h.registry.get('api-1')?.state === 'bound');
    const deleted = await send(app, 'DELETE', '/binds/api-1');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: 'api-1', source: 'api' });
    expect(deleted.raw).not.toContain(PASSWORD);
    expect(h.registry.get('api-1')).toBeUndefined();
    expect(await store.listBindDefinitions()).toEqual([]);
    expect((await app.inject({ url: '/binds/api-1' })).statusCode).toBe(404);
    expect((await send(app, 'DELETE', '/binds/api-1')).status).toBe(404);
  });

  it('needs a bearer token, and answers 503 BINDS_UNAVAILABLE without a store', async () => {
    const { app } = await service(h.registry, null);
    const anonymous = await app.inject({ method: 'POST', url: '/binds', payload: apiBind('api-1') });
    expect(anonymous.statusCode).toBe(401);
    const unavailable = await send(app, 'POST', '/binds', apiBind('api-1'));
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.code).toBe('BINDS_UNAVAILABLE');
    expect(unavailable.headers['retry-after']).toBe('5');
    expect(h.registry.get('api-1')).toBeUndefined();
  });
});
