/**
 * GET /messages/stats: the queue depth the outbound engine reports, and the status changes the
 * message path announced since the app started, in total and per route; a token with protectReads
 * like every read; 503 without the message path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import type { MessagePath, MessageStatusChange } from '../../src/bridge/ports.js';
import { buildApp } from '../../src/http/app.js';
import type { MessageStatus } from '../../src/store/store.js';
import { config } from './harness.js';
import { type MessagesFixture, messagesApp } from './messages-setup.js';

let fixture: MessagesFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** A message path whose status changes the test announces. */
async function withChanges(deps: Parameters<typeof messagesApp>[0] = {}) {
  const listeners = new Set<(c: MessageStatusChange) => void>();
  const onStatusChange: MessagePath['onStatusChange'] = (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  // The fixture builds its own path; give the app one that shares its store and outbound.
  fixture = await messagesApp(deps);
  await fixture.app.close();
  const path: MessagePath = { ...fixture.path, onStatusChange };
  const app = await buildApp({
    registry: new BindRegistry(),
    config: deps.deps?.config ?? config(),
    messagePath: path,
  });
  const close = fixture.close.bind(fixture);
  fixture = {
    ...fixture,
    app,
    close: async () => {
      await app.close();
      await close();
    },
  };
  const announce = (route: string, status: MessageStatus): void => {
    const change = { message: { route }, status, previous: 'queued' } as unknown as MessageStatusChange;
    for (const listener of listeners) listener(change);
  };
  return { app, announce, listeners, outbound: fixture.outbound };
}

describe('GET /messages/stats', () => {
  it('reports the queued parts and every status change since start, in total and per route', async () => {
    const { app, announce, outbound } = await withChanges();
    const empty = await app.inject({ url: '/messages/stats' });
    expect(empty.statusCode).toBe(200);
    expect(empty.json().queuedParts).toBe(0);
    expect(empty.json().statusChanges).toMatchObject({ queued: 0, submitted: 0, delivered: 0, failed: 0 });
    expect(Object.keys(empty.json().statusChanges)).toHaveLength(12);
    expect(empty.json().routes).toEqual({});

    outbound.queued = 7;
    announce('uk', 'submitted');
    announce('uk', 'submitted');
    announce('uk', 'delivered');
    announce('us', 'rejected');
    const res = await app.inject({ url: '/messages/stats' });
    const body = res.json();
    expect(body.queuedParts).toBe(7);
    expect(body.maxQueuedParts).toBeNull();
    expect(Date.parse(body.since)).toBeLessThanOrEqual(Date.now());
    expect(body.statusChanges).toMatchObject({ submitted: 2, delivered: 1, rejected: 1, failed: 0 });
    expect(body.routes.uk).toMatchObject({ submitted: 2, delivered: 1, rejected: 0 });
    expect(body.routes.us).toMatchObject({ submitted: 0, rejected: 1 });
  });

  it('stops listening to the message path when the app closes', async () => {
    // Metrics off: /metrics would listen too.
    const { app, listeners } = await withChanges({
      deps: { config: config({ metrics: { enabled: false } }) },
    });
    expect(listeners.size).toBe(1);
    await app.close();
    expect(listeners.size).toBe(0);
  });

  it('is not served /messages/:id (a message cannot be named "stats" by mistake)', async () => {
    const { app } = await withChanges();
    const res = await app.inject({ url: '/messages/stats' });
    expect(res.json()).toHaveProperty('queuedParts');
    expect(res.json()).not.toHaveProperty('code');
  });

  it('asks for the token with protectReads, like every read', async () => {
    const { app } = await withChanges({
      deps: { config: config({ auth: { tokens: ['s3cret-token-0123456789'], protectReads: true } }) },
    });
    const denied = await app.inject({ url: '/messages/stats' });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().code).toBe('UNAUTHORIZED');
    const ok = await app.inject({
      url: '/messages/stats',
      headers: { authorization: 'Bearer s3cret-token-0123456789' },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('answers 503 MESSAGES_UNAVAILABLE without the message path', async () => {
    const app = await buildApp({ registry: new BindRegistry(), config: config() });
    try {
      const res = await app.inject({ url: '/messages/stats' });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('MESSAGES_UNAVAILABLE');
    } finally {
      await app.close();
    }
  });
});
