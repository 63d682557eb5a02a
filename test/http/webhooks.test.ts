/**
 * GET /webhooks/deliveries, POST /webhooks/deliveries/{id}/retry, GET /webhooks/endpoints and
 * POST /webhooks/endpoints/{id}/enable over a real store and sender, with a real receiver that
 * answers 410 first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import { buildRouteTable } from '../../src/bridge/routing.js';
import { type App, buildApp } from '../../src/http/app.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { DEFAULT_WEBHOOKS } from '../../src/webhooks/config.js';
import { createWebhookDelivery, type WebhookDelivery } from '../../src/webhooks/delivery.js';
import { newWebhookSecret } from '../../src/webhooks/signing.js';
import { startReceiver } from '../webhooks/receiver.js';
import { config } from './harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup(): Promise<{
  app: App;
  store: Store;
  delivery: WebhookDelivery;
  received: () => number;
}> {
  const receiver = await startReceiver((_req, i) => (i === 0 ? { status: 410 } : { status: 200 }));
  cleanups.push(() => receiver.close());
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-webhook-routes-'));
  const store = openSqliteStore({ path: join(dir, 'store.db'), synchronous: 'normal' });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const delivery = createWebhookDelivery({
    store,
    logger: pino({ level: 'silent' }),
    config: {
      ...DEFAULT_WEBHOOKS,
      pollIntervalMs: 50,
      endpoints: [
        {
          id: 'crm',
          url: `${receiver.url}/hook`,
          secrets: [newWebhookSecret()],
          events: ['message.submitted'],
          routes: null,
          headers: {},
          concurrency: 2,
        },
      ],
    },
  });
  cleanups.push(() => delivery.stop(100));
  const registry = new BindRegistry();
  const app = await buildApp({
    registry,
    config: config(),
    messagePath: {
      store,
      outbound: { notifyQueued: () => {}, queuedParts: () => 0 },
      routes: () => buildRouteTable([], []),
    },
    webhooks: delivery,
  });
  cleanups.push(() => app.close());
  return { app, store, delivery, received: () => receiver.received.length };
}

describe('webhook routes', () => {
  it('lists a dead delivery, retries it, and re-enables the endpoint a 410 disabled', async () => {
    const { app, store, delivery, received } = await setup();
    await delivery.start();
    await store.enqueueWebhook({
      messageId: 'm1',
      endpoint: 'crm',
      type: 'message.submitted',
      payload: { a: 1 },
    });
    delivery.notify('crm');
    await waitFor('the 410', () => received() === 1);
    await waitFor('disabled', () => delivery.endpoints()[0]!.disabled);
    // The endpoint is disabled at once; the event's outcome (dead) commits a moment later.
    await waitFor(
      'dead',
      async () => (await store.listWebhooks({ state: 'dead', limit: 1 })).events.length === 1,
    );

    const endpoints = await app.inject({ url: '/webhooks/endpoints' });
    expect(endpoints.statusCode).toBe(200);
    expect(endpoints.json().endpoints[0]).toMatchObject({
      id: 'crm',
      disabled: true,
      disabledReason: expect.stringMatching(/410/),
    });

    const dead = await app.inject({ url: '/webhooks/deliveries?state=dead&endpoint=crm' });
    expect(dead.statusCode).toBe(200);
    const [event] = dead.json().deliveries;
    expect(event).toMatchObject({
      endpoint: 'crm',
      state: 'dead',
      attempts: 1,
      messageId: 'm1',
      type: 'message.submitted',
    });
    expect((await app.inject({ url: '/webhooks/deliveries?state=pending' })).json().deliveries).toEqual([]);

    const retried = await app.inject({ method: 'POST', url: `/webhooks/deliveries/${event.id}/retry` });
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ id: event.id, state: 'pending', attempts: 0 });
    // Still disabled: nothing goes out until the endpoint is enabled.
    await new Promise((r) => setTimeout(r, 150));
    expect(received()).toBe(1);

    const again = await app.inject({ method: 'POST', url: `/webhooks/deliveries/${event.id}/retry` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'WEBHOOK_DELIVERY_NOT_DEAD', details: { state: 'pending' } });

    const enabled = await app.inject({ method: 'POST', url: '/webhooks/endpoints/crm/enable' });
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ id: 'crm', disabled: false, disabledAt: null });
    await waitFor('sent again', () => received() === 2);
    await waitFor('delivered', async () => (await store.getWebhook(event.id))?.state === 'delivered');

    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/smpp_webhook_deliveries_total\{endpoint="crm",outcome="disabled"\} 1/);
    expect(metrics.body).toMatch(/smpp_webhook_deliveries_total\{endpoint="crm",outcome="delivered"\} 1/);
    expect(metrics.body).toMatch(/smpp_webhook_outbox_pending\{endpoint="crm"\} 0/);
    expect(metrics.body).toMatch(/smpp_webhook_attempt_duration_seconds_count\{endpoint="crm"\} 2/);
  });

  it('pages with a cursor and answers 404/400/503 in the one error shape', async () => {
    const { app, store } = await setup();
    for (let i = 0; i < 3; i++) {
      await store.enqueueWebhook({
        messageId: `m${i}`,
        endpoint: 'crm',
        type: 'message.submitted',
        payload: {},
      });
    }
    const first = (await app.inject({ url: '/webhooks/deliveries?limit=2' })).json();
    expect(first.deliveries).toHaveLength(2);
    const second = (
      await app.inject({ url: `/webhooks/deliveries?limit=2&cursor=${first.nextCursor}` })
    ).json();
    expect(second).toMatchObject({ deliveries: [{ messageId: 'm2' }], nextCursor: null });

    const missing = await app.inject({ method: 'POST', url: '/webhooks/deliveries/evt_nope/retry' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('WEBHOOK_DELIVERY_NOT_FOUND');
    expect((await app.inject({ method: 'POST', url: '/webhooks/endpoints/nope/enable' })).json().code).toBe(
      'WEBHOOK_ENDPOINT_NOT_FOUND',
    );
    const bad = await app.inject({ url: '/webhooks/deliveries?state=lost' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');

    const bare = await buildApp({ registry: new BindRegistry(), config: config() });
    cleanups.push(() => bare.close());
    const off = await bare.inject({ url: '/webhooks/deliveries' });
    expect(off.statusCode).toBe(503);
    expect(off.json().code).toBe('WEBHOOKS_UNAVAILABLE');
  });
});
