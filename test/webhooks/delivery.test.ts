/**
 * The webhook sender against a real local receiver: signatures, the retry schedule (on a fake
 * clock), Retry-After, 410, refusals, timeouts, resets, ordering per message, isolation between
 * endpoints, callback URLs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageStatusChange } from '../../src/bridge/ports.js';
import { FakeClock } from '../../src/session/clock.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { MessageRecord, MessageStatus, Store } from '../../src/store/store.js';
import {
  DEFAULT_WEBHOOKS,
  type WebhookEndpointConfig,
  type WebhooksConfig,
} from '../../src/webhooks/config.js';
import {
  createWebhookDelivery,
  type WebhookDelivery,
  type WebhookDeliveryOptions,
} from '../../src/webhooks/delivery.js';
import { newWebhookSecret } from '../../src/webhooks/signing.js';
import { type Answer, type Receiver, startReceiver } from './receiver.js';

const SECRET = newWebhookSecret();
const OLD_SECRET = newWebhookSecret();
const silent = pino({ level: 'silent' });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openStore(now?: () => number): Store {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-webhooks-'));
  const store = openSqliteStore({
    path: join(dir, 'store.db'),
    synchronous: 'normal',
    ...(now ? { now } : {}),
  });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

async function receiver(answer?: (index: number) => Answer): Promise<Receiver> {
  const r = await startReceiver(answer === undefined ? undefined : (_req, i) => answer(i));
  cleanups.push(() => r.close());
  return r;
}

function endpoint(
  id: string,
  url: string,
  extra: Partial<WebhookEndpointConfig> = {},
): WebhookEndpointConfig {
  return {
    id,
    url: `${url}/hooks/${id}`,
    secrets: [SECRET],
    events: ['message.received', 'message.submitted', 'message.delivered', 'message.undelivered'],
    routes: null,
    headers: {},
    concurrency: 4,
    ...extra,
  };
}

function config(endpoints: WebhookEndpointConfig[], extra: Partial<WebhooksConfig> = {}): WebhooksConfig {
  return { ...DEFAULT_WEBHOOKS, timeoutMs: 2_000, pollIntervalMs: 50, endpoints, ...extra };
}

function start(
  options: Partial<WebhookDeliveryOptions> & { store: Store; config: WebhooksConfig },
): WebhookDelivery {
  const delivery = createWebhookDelivery({ logger: silent, random: () => 0.5, ...options });
  cleanups.push(() => delivery.stop(100));
  return delivery;
}

function message(id: string, extra: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id,
    clientRef: `ref-${id}`,
    route: 'default',
    from: 'ACME',
    to: '447700900123',
    encoding: 'gsm7',
    body: Buffer.from('hi'),
    udh: null,
    partsCount: 1,
    status: 'submitted',
    error: null,
    metadata: { campaign: 'x' },
    callbackUrl: null,
    receiptPolicy: 'final',
    validityMs: null,
    sendAt: null,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
}

function change(
  msg: MessageRecord,
  previous: MessageStatus,
  status: MessageStatus,
  sequence: number,
): MessageStatusChange {
  return { message: { ...msg, status }, previous, status, parts: [], sequence, at: Date.now() };
}

const publish = (store: Store, delivery: WebhookDelivery, c: MessageStatusChange) =>
  store.transaction((tx) => delivery.fanOut.onStatusChanged(tx, c));

/** Stores an MO's webhook events as the inbound handler does (in the MO's transaction). */
const receive = (store: Store, delivery: WebhookDelivery, id: string) =>
  store.transaction((tx) =>
    delivery.fanOut.onMessageReceived(tx, {
      message: {
        id,
        bindId: 'b1',
        from: '447700900123',
        to: '12345',
        encoding: 'gsm7',
        body: Buffer.from(id),
        partsCount: 1,
        metadata: null,
        route: null,
        dataCoding: 0,
        incomplete: false,
        receivedAt: Date.now(),
      },
      route: null,
      text: id,
      dataCoding: 0,
      incomplete: false,
    }),
  );

describe('webhook delivery', () => {
  it('POSTs signed events that the standardwebhooks verifier accepts with either rotated secret, and refuses when tampered or old', async () => {
    const r = await receiver();
    const store = openStore();
    const ep = endpoint('crm', r.url, { secrets: [SECRET, OLD_SECRET], headers: { 'x-tenant': 'acme' } });
    const delivery = start({ store, config: config([ep]) });
    await delivery.start();
    const m = message('m1');
    await publish(store, delivery, change(m, 'queued', 'submitted', 1));
    await waitFor('one delivery', () => r.received.length === 1);

    const got = r.received[0]!;
    expect(got.path).toBe('/hooks/crm');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-tenant']).toBe('acme');
    expect(got.json).toMatchObject({
      type: 'message.submitted',
      data: { id: 'm1', clientRef: 'ref-m1', status: 'submitted', previousStatus: 'queued', sequence: 1 },
    });
    const headers = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(SECRET).verify(got.body, headers)).toEqual(got.json);
    expect(new Webhook(OLD_SECRET).verify(got.body, headers)).toEqual(got.json);
    expect(() => new Webhook(SECRET).verify(got.body.replace('m1', 'm2'), headers)).toThrow();
    const old = { ...headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) };
    expect(() => new Webhook(SECRET).verify(got.body, old)).toThrow();
    await waitFor(
      'delivered',
      async () => (await store.listWebhooks({ state: 'delivered', limit: 5 })).events.length === 1,
    );
  });

  it('retries on the schedule on a fake clock (5 s after the first failure), with the same webhook-id', async () => {
    const clock = new FakeClock();
    let wall = 1_800_000_000_000;
    const advance = (ms: number) => {
      wall += ms;
      clock.advance(ms);
    };
    const r = await receiver((i) => (i === 0 ? { status: 500 } : { status: 200 }));
    const store = openStore(() => wall);
    const delivery = start({ store, config: config([endpoint('crm', r.url)]), clock, now: () => wall });
    await delivery.start();
    await publish(store, delivery, change(message('m1'), 'queued', 'submitted', 1));
    await waitFor('first attempt', () => r.received.length === 1);
    await waitFor('retry recorded', async () => {
      const [e] = (await store.listWebhooks({ state: 'failed', limit: 1 })).events;
      return e !== undefined && e.nextAttemptAt === wall + 5_000;
    });
    advance(4_999);
    await sleep(150);
    expect(r.received).toHaveLength(1);
    advance(1);
    await waitFor('second attempt', () => r.received.length === 2);
    expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
    await waitFor(
      'delivered',
      async () => (await store.listWebhooks({ state: 'delivered', limit: 5 })).events.length === 1,
    );
  });

  it('honours Retry-After on 429, and retries timeouts and reset connections', async () => {
    let wall = 1_800_000_000_000;
    const answers: Answer[] = [{ status: 429, headers: { 'retry-after': '120' } }, 'hang', 'reset'];
    const r = await receiver((i) => answers[i] ?? { status: 200 });
    const store = openStore(() => wall);
    const clock = new FakeClock();
    const delivery = start({
      store,
      config: config([endpoint('crm', r.url)], { timeoutMs: 300 }),
      clock,
      now: () => wall,
    });
    await delivery.start();
    await publish(store, delivery, change(message('m1'), 'queued', 'submitted', 1));
    const failed = async () => (await store.listWebhooks({ state: 'failed', limit: 1 })).events[0];
    await waitFor('429 recorded', async () => (await failed())?.attempts === 1);
    expect(await failed()).toMatchObject({
      nextAttemptAt: wall + 120_000,
      lastError: expect.stringMatching(/^HTTP 429/),
    });

    wall += 120_000;
    clock.advance(120_000);
    await waitFor('timeout recorded', async () => (await failed())?.attempts === 2);
    expect((await failed())?.lastError).toMatch(/timeout/);
    // Attempt 2's delay is the schedule's second step: 5 min.
    expect((await failed())?.nextAttemptAt).toBe(wall + 5 * 60_000);

    wall += 5 * 60_000;
    clock.advance(5 * 60_000);
    await waitFor('reset recorded', async () => (await failed())?.attempts === 3);
    expect((await failed())?.lastError).toMatch(/network error/);
    expect(r.received).toHaveLength(3);
  });

  it('reads Retry-After in any case from a 503 with a large body, and counts a 2xx whose body is too large to read as delivered', async () => {
    let wall = 1_800_000_000_000;
    const answers: Answer[] = [
      { status: 503, headers: { 'Retry-After': '60' }, bodyBytes: 300_000 },
      { status: 200, bodyBytes: 2_000_000 },
    ];
    const r = await receiver((i) => answers[i] ?? { status: 500 });
    const store = openStore(() => wall);
    const clock = new FakeClock();
    const delivery = start({ store, config: config([endpoint('crm', r.url)]), clock, now: () => wall });
    await delivery.start();
    await publish(store, delivery, change(message('m1'), 'queued', 'submitted', 1));
    const failed = async () => (await store.listWebhooks({ state: 'failed', limit: 1 })).events[0];
    await waitFor('503 recorded', async () => (await failed())?.attempts === 1);
    expect(await failed()).toMatchObject({
      nextAttemptAt: wall + 60_000,
      lastError: expect.stringMatching(/^HTTP 503/),
    });
    wall += 60_000;
    clock.advance(60_000);
    await waitFor('delivered', async () => (await failed()) === undefined);
    const [event] = (await store.listWebhooks({ limit: 1 })).events;
    expect(event).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(r.received).toHaveLength(2);
  });

  it('a refusal (404) gets one more try, then the event is dead; a dead event can be retried', async () => {
    let wall = 1_800_000_000_000;
    const clock = new FakeClock();
    const r = await receiver((i) => (i < 2 ? { status: 404 } : { status: 200 }));
    const store = openStore(() => wall);
    const delivery = start({ store, config: config([endpoint('crm', r.url)]), clock, now: () => wall });
    await delivery.start();
    await publish(store, delivery, change(message('m1'), 'queued', 'submitted', 1));
    await waitFor(
      'first refusal',
      async () => (await store.listWebhooks({ state: 'failed', limit: 1 })).events.length === 1,
    );
    wall += 5_000;
    clock.advance(5_000);
    await waitFor(
      'dead',
      async () => (await store.listWebhooks({ state: 'dead', limit: 1 })).events.length === 1,
    );
    const [dead] = (await store.listWebhooks({ state: 'dead', limit: 1 })).events;
    expect(dead).toMatchObject({
      attempts: 2,
      lastError: expect.stringMatching(/^HTTP 404: .*refused the message twice/),
    });

    await store.retryWebhook(dead!.eventId);
    delivery.notify('crm');
    await waitFor(
      'delivered after retry',
      async () => (await store.getWebhook(dead!.eventId))?.state === 'delivered',
    );
    expect(r.received).toHaveLength(3);
  });

  it('410 disables the endpoint durably (across a restart) until it is enabled again', async () => {
    const r = await receiver((i) => (i === 0 ? { status: 410 } : { status: 200 }));
    const store = openStore();
    const cfg = config([endpoint('crm', r.url)]);
    const first = start({ store, config: cfg });
    await first.start();
    await publish(store, first, change(message('m1'), 'queued', 'submitted', 1));
    await waitFor('disabled', () => first.endpoints()[0]!.disabled);
    await waitFor(
      'disabled in the store',
      async () => (await store.listDisabledWebhookEndpoints()).length === 1,
    );
    await publish(store, first, change(message('m2'), 'queued', 'submitted', 1));
    await first.stop(2_000);

    const second = start({ store, config: cfg });
    await second.start();
    expect(second.endpoints()[0]).toMatchObject({
      id: 'crm',
      disabled: true,
      disabledReason: expect.stringMatching(/410/),
    });
    const metrics = await Promise.all(second.metrics.map((m) => m.get()));
    const disabledGauge = metrics.find((m) => m.name === 'smpp_webhook_endpoint_disabled');
    expect(disabledGauge?.values).toEqual([{ labels: { endpoint: 'crm' }, value: 1 }]);
    await sleep(200);
    expect(r.received).toHaveLength(1);
    expect((await store.listWebhooks({ state: 'dead', limit: 5 })).events).toHaveLength(1);

    expect(await second.enableEndpoint('crm')).toMatchObject({ disabled: false });
    await waitFor('m2 delivered', () => r.received.length === 2);
    expect(r.received[1]!.json.data.id).toBe('m2');
    expect(await store.listDisabledWebhookEndpoints()).toEqual([]);
  });

  it("delivers a message's events in order under retries; other messages do not wait", async () => {
    let wall = 1_800_000_000_000;
    const clock = new FakeClock();
    // The first request (m1 submitted) fails once; everything else succeeds.
    const r = await receiver((i) => (i === 0 ? { status: 503 } : { status: 200 }));
    const store = openStore(() => wall);
    const delivery = start({
      store,
      config: config([endpoint('crm', r.url, { concurrency: 1 })]),
      clock,
      now: () => wall,
    });
    const m1 = message('m1');
    await publish(store, delivery, change(m1, 'queued', 'submitted', 1));
    await publish(store, delivery, change(m1, 'submitted', 'delivered', 2));
    await publish(store, delivery, change(message('m2'), 'queued', 'submitted', 1));
    await delivery.start();
    await waitFor('m2 through while m1 waits', () => r.received.some((x) => x.json.data.id === 'm2'));
    expect(r.received.filter((x) => x.json.data.id === 'm1').map((x) => x.json.type)).toEqual([
      'message.submitted',
    ]);
    wall += 5_000;
    clock.advance(5_000);
    await waitFor('m1 both', () => r.received.filter((x) => x.json.data.id === 'm1').length === 3);
    expect(r.received.filter((x) => x.json.data.id === 'm1').map((x) => x.json.data.sequence)).toEqual([
      1, 1, 2,
    ]);
  });

  it('an endpoint that hangs does not delay another', async () => {
    const down = await receiver(() => 'hang');
    const up = await receiver();
    const store = openStore();
    const delivery = start({
      store,
      config: config(
        [endpoint('down', down.url, { concurrency: 2 }), endpoint('up', up.url, { concurrency: 2 })],
        {
          timeoutMs: 60_000,
        },
      ),
    });
    await delivery.start();
    for (let i = 0; i < 20; i++)
      await publish(store, delivery, change(message(`m${i}`), 'queued', 'submitted', 1));
    await waitFor('all 20 at the healthy endpoint', () => up.received.length === 20);
    // The hanging one holds only its own two slots.
    expect(down.received).toHaveLength(2);
    expect(delivery.endpoints().find((e) => e.id === 'down')?.inFlight).toBe(2);
  });

  it('sends status events to a message callbackUrl only when the URL policy allows its address', async () => {
    const r = await receiver();
    const store = openStore();
    const strict = start({ store, config: config([]) });
    await strict.start();
    await publish(
      store,
      strict,
      change(message('m1', { callbackUrl: `${r.url}/cb` }), 'queued', 'submitted', 1),
    );
    await waitFor(
      'refused',
      async () => (await store.listWebhooks({ state: 'dead', limit: 1 })).events.length === 1,
    );
    expect((await store.listWebhooks({ state: 'dead', limit: 1 })).events[0]?.lastError).toMatch(
      /callback URL refused.*loopback/,
    );
    await strict.stop(100);

    const open = start({
      store,
      config: config([], { allowPrivateCallbackUrls: true, callbackSecrets: [SECRET] }),
    });
    await open.start();
    await publish(
      store,
      open,
      change(message('m2', { callbackUrl: `${r.url}/cb?x=1` }), 'queued', 'submitted', 1),
    );
    await waitFor('callback delivered', () => r.received.length === 1);
    expect(r.received[0]!.path).toBe('/cb?x=1');
    expect(() =>
      new Webhook(SECRET).verify(r.received[0]!.body, r.received[0]!.headers as Record<string, string>),
    ).not.toThrow();

    const off = start({ store, config: config([], { allowCallbackUrl: false }) });
    await publish(
      store,
      off,
      change(message('m3', { callbackUrl: `${r.url}/cb` }), 'queued', 'submitted', 1),
    );
    expect((await store.listWebhooks({ limit: 10 })).events.map((e) => e.messageId)).toEqual(['m1', 'm2']);
  });

  it('hands received messages to a healthy endpoint after their commit, with no claim of their own; a failing endpoint gets them through the outbox', async () => {
    let failing = false;
    const r = await receiver(() => (failing ? { status: 503 } : { status: 200 }));
    const store = openStore();
    let claims = 0;
    const counted: Store = Object.create(store, {
      claimWebhooks: {
        value: (...args: Parameters<Store['claimWebhooks']>) => {
          claims++;
          return store.claimWebhooks(...args);
        },
      },
    });
    // A slow poll: what goes out goes out because it was handed over (or notified).
    const delivery = start({
      store: counted,
      config: config([endpoint('mo', r.url)], { pollIntervalMs: 60_000 }),
    });
    await delivery.start();
    const claimsAtStart = claims;
    const received = (id: string) => receive(store, delivery, id);
    await Promise.all(Array.from({ length: 20 }, (_, i) => received(`mo${i}`)));
    await waitFor('20 deliveries', () => r.received.length === 20);
    expect(claims).toBe(claimsAtStart);
    await waitFor('outcomes recorded', async () =>
      (await store.webhookBacklog()).every((b) => b.pending === 0),
    );

    // After a failure the endpoint is not healthy: the next one is left to the outbox (claimed,
    // retried on the schedule), not held in memory.
    failing = true;
    await received('mo-fail');
    await waitFor('the failed attempt', () => r.received.length === 21);
    failing = false;
    await received('mo-after');
    await waitFor('a claim from the outbox', () => claims > claimsAtStart);
    await waitFor('mo-after delivered', () => r.received.some((x) => x.json.data.id === 'mo-after'));
  });

  it('events left in the outbox (no room when they came) are not overtaken by newer ones handed over', async () => {
    // One request at a time, 15 ms each: 30 MO at once overflow what the endpoint takes in memory
    // (the rest wait in the outbox), then more keep coming while those wait.
    const r = await receiver(() => ({ status: 200, delayMs: 15 }));
    const store = openStore();
    const delivery = start({
      store,
      config: config([endpoint('mo', r.url, { concurrency: 1 })], { pollIntervalMs: 60_000 }),
    });
    await delivery.start();
    await Promise.all(Array.from({ length: 30 }, (_, i) => receive(store, delivery, `first-${i}`)));
    for (let i = 0; i < 20; i++) {
      await receive(store, delivery, `later-${i}`);
      await sleep(10);
    }
    await waitFor('50 deliveries', () => r.received.length === 50, 30_000);
    const order = r.received.map((x) => String(x.json.data.id));
    const lastFirst = Math.max(...order.map((id, i) => (id.startsWith('first-') ? i : -1)));
    const firstLater = order.findIndex((id) => id.startsWith('later-'));
    expect(lastFirst, order.join(' ')).toBeLessThan(firstLater);
    // And the later ones in the order they came.
    expect(order.slice(30)).toEqual(Array.from({ length: 20 }, (_, i) => `later-${i}`));
  });

  it('fans out by events and routes, and sends MO as message.received', async () => {
    const r = await receiver();
    const store = openStore();
    const delivery = start({
      store,
      config: config([
        endpoint('all', r.url),
        endpoint('mkt', r.url, { routes: ['marketing'] }),
        endpoint('mo', r.url, { events: ['message.received'] }),
      ]),
    });
    await delivery.start();
    await publish(store, delivery, change(message('m1', { route: 'otp' }), 'queued', 'submitted', 1));
    await publish(store, delivery, change(message('m2', { route: 'marketing' }), 'queued', 'delivered', 2));
    // queued is not published.
    await publish(store, delivery, change(message('m3'), 'scheduled', 'queued', 1));
    await store.transaction((tx) =>
      delivery.fanOut.onMessageReceived(tx, {
        message: {
          id: 'mo1',
          bindId: 'b1',
          from: '447700900123',
          to: '12345',
          encoding: 'gsm7',
          body: Buffer.from('hello'),
          partsCount: 1,
          metadata: null,
          route: 'marketing',
          dataCoding: 0,
          incomplete: false,
          receivedAt: Date.UTC(2026, 11, 7),
        },
        route: 'marketing',
        text: 'hello',
        dataCoding: 0,
        incomplete: false,
      }),
    );
    await waitFor('6 deliveries', () => r.received.length === 6);
    const seen = r.received.map((x) => `${x.path.split('/').pop()}:${x.json.data.id}`).sort();
    expect(seen).toEqual(['all:m1', 'all:m2', 'all:mo1', 'mkt:m2', 'mkt:mo1', 'mo:mo1']);
    expect(r.received.find((x) => x.json.type === 'message.received')?.json.data).toMatchObject({
      id: 'mo1',
      route: 'marketing',
      bind: 'b1',
      text: 'hello',
      incomplete: false,
      receivedAt: '2026-12-07T00:00:00.000Z',
    });
  });
});
