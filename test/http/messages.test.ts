// POST/GET/DELETE /messages over a real SqliteStore: 202 only once stored, every refusal in the one
// error shape with its own code, reading a message back with its parts and events, listing, canceling.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import { buildApp } from '../../src/http/app.js';
import type { Fence } from '../../src/store/store.js';
import { config } from './harness.js';
import { type MessagesFixture, messagesApp } from './messages-setup.js';

// One app and store for the file (building an app is not free on a shared machine); the tests that
// need other options build their own and close it.
let shared: MessagesFixture;
let f: MessagesFixture;
beforeAll(async () => {
  shared = await messagesApp();
});
afterAll(async () => {
  await shared?.close();
});
beforeEach(() => {
  f = shared;
  f.outbound.notified.length = 0;
  f.outbound.queued = 0;
});

async function withFixture(
  options: Parameters<typeof messagesApp>[0],
  fn: () => Promise<void>,
): Promise<void> {
  const own = await messagesApp(options);
  f = own;
  try {
    await fn();
  } finally {
    f = shared;
    await own.close();
  }
}

function send(body: unknown, headers: Record<string, string> = {}) {
  return f.app.inject({ method: 'POST', url: '/messages', payload: body as object, headers });
}

async function count(): Promise<number> {
  return (await f.store.listMessages({ limit: 100_000 })).length;
}

const HELLO = { to: '+447700900123', from: 'ACME', text: 'Hello there' };

describe('POST /messages', () => {
  it('answers 202 with the stored message, and tells the outbound engine its route', async () => {
    const res = await send({ ...HELLO, clientRef: 'order-17' });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({
      status: 'queued',
      encoding: 'gsm7',
      parts: 1,
      route: 'uk',
      clientRef: 'order-17',
      sendAt: null,
    });
    expect(res.headers.location).toBe(`/messages/${body.id}`);
    // Stored (committed: the store's reader sees it) before the answer.
    const stored = await f.store.getMessage(body.id);
    expect(stored).toMatchObject({ status: 'queued', route: 'uk', to: '+447700900123', encoding: 'gsm7' });
    expect(stored?.body.toString('latin1')).toBe('Hello there');
    const parts = await f.store.listParts(body.id);
    expect(parts.map((p) => [p.index, p.state, p.queue])).toEqual([[0, 'queued', 'uk']]);
    expect((await f.store.listMessageEvents(body.id)).map((e) => e.type)).toEqual(['accepted']);
    expect(f.outbound.notified).toEqual(['uk']);
  });

  it('gives time-ordered ids (UUIDv7): each accepted message sorts after the one accepted before it', async () => {
    // An app of its own: the queued messages it leaves would be claimed by other tests.
    await withFixture({}, async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await send({ ...HELLO, clientRef: `order-${i}` });
        expect(res.statusCode, res.body).toBe(202);
        ids.push(res.json().id);
      }
      for (const id of ids)
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect([...ids].sort()).toEqual(ids);
      // The ids of a batch too, in item order.
      const batch = await f.app.inject({
        method: 'POST',
        url: '/messages/batch',
        payload: { messages: [HELLO, HELLO, HELLO] },
      });
      expect(batch.statusCode, batch.body).toBe(202);
      const batchIds = batch.json().results.map((r: { id: string }) => r.id);
      expect([...ids, ...batchIds].sort()).toEqual([...ids, ...batchIds]);
    });
  });

  it('splits a long message into parts with a concatenation header each, on the route of its prefix', async () => {
    const res = await send({ to: '+15550100', from: 'ACME', text: 'x'.repeat(400) });
    expect(res.statusCode, res.body).toBe(202);
    const { id, parts, route } = res.json();
    expect([parts, route]).toEqual([3, 'us']);
    const stored = await f.store.listParts(id);
    expect(stored.map((p) => [p.payload[0], p.payload[4], p.payload[5]])).toEqual([
      [5, 3, 1],
      [5, 3, 2],
      [5, 3, 3],
    ]);
    expect((await f.store.getMessage(id))?.body.length).toBe(400);
  });

  it('refuses a message needing more parts than maxParts with 422 TOO_MANY_PARTS, and stores nothing', async () => {
    const before = await count();
    const res = await send({ ...HELLO, text: 'x'.repeat(400), maxParts: 2 });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      code: 'TOO_MANY_PARTS',
      message: 'the message needs 3 parts; at most 2 are allowed (maxParts)',
      details: {
        parts: 3,
        maxParts: 2,
        errors: [
          { field: 'body/text', message: 'the message needs 3 parts; at most 2 are allowed (maxParts)' },
        ],
      },
    });
    expect(await count()).toBe(before);
    expect(f.outbound.notified).toEqual([]);
  });

  it.each([
    [{ ...HELLO, to: 'nobody' }, 'INVALID_ADDRESS', 'body/to'],
    [{ ...HELLO, from: 'Twelve chars' }, 'INVALID_ADDRESS', 'body/from'],
    [{ to: HELLO.to, from: 'ACME', binary: { hex: 'abc' } }, 'INVALID_HEX', 'body/binary/hex'],
    [{ ...HELLO, text: 'Ωmega €', encoding: 'latin1' }, 'UNENCODABLE_TEXT', 'body/text'],
    [{ to: HELLO.to, from: 'ACME' }, 'INVALID_MESSAGE', 'body/text'],
    [{ ...HELLO, binary: { hex: '00' } }, 'INVALID_MESSAGE', 'body/text'],
    [{ ...HELLO, sendAt: 'tomorrow' }, 'INVALID_MESSAGE', 'body/sendAt'],
    [{ ...HELLO, route: 'bulk' }, 'ROUTE_NOT_FOUND', 'body/route'],
    [{ ...HELLO, to: '+33612345678' }, 'NO_ROUTE', 'body/to'],
  ])('refuses %j with 422 %s naming %s', async (body, code, field) => {
    const before = await count();
    const res = await send(body);
    expect(res.statusCode, res.body).toBe(422);
    const error = res.json();
    expect(error.code).toBe(code);
    expect(error.details.errors[0].field).toBe(field);
    expect(await count()).toBe(before);
  });

  it('refuses a malformed body with 400 VALIDATION_FAILED naming the field', async () => {
    const res = await send({ ...HELLO, maxParts: '3', colour: 'red' });
    expect(res.statusCode).toBe(400);
    const fields = res.json().details.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body/maxParts', 'body/colour']));
    expect((await send(undefined)).json().code).toBe('VALIDATION_FAILED');
  });

  it('holds a message with a future sendAt as scheduled', async () => {
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await send({ ...HELLO, sendAt });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'scheduled', sendAt });
    const [part] = await f.store.listParts(res.json().id);
    expect(part?.notBefore).toBe(Date.parse(sendAt));
  });

  it('refuses loopback, private and credential-bearing callback URLs by default', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://10.1.2.3/hook',
      'http://169.254.169.254/latest',
      'https://user:pw@example.com/hook',
      'ftp://example.com/hook',
    ]) {
      const res = await send({ ...HELLO, callbackUrl: url });
      expect(res.statusCode, url).toBe(422);
      expect(res.json().code).toBe('CALLBACK_URL_REFUSED');
      expect(res.json().details.errors[0].field).toBe('body/callbackUrl');
    }
    const ok = await send({ ...HELLO, callbackUrl: 'https://93.184.215.14/hook' });
    expect(ok.statusCode, ok.body).toBe(202);
    expect((await f.store.getMessage(ok.json().id))?.callbackUrl).toBe('https://93.184.215.14/hook');
  });

  it('judges a callback host by what it resolves to, with the injected resolver and policy', async () => {
    const lookups: string[] = [];
    const resolveHost = async (host: string) => {
      lookups.push(host);
      return host === 'hooks.internal' ? ['10.0.0.7'] : ['93.184.215.14'];
    };
    await withFixture({ deps: { messages: { resolveHost } } }, async () => {
      expect((await send({ ...HELLO, callbackUrl: 'https://hooks.internal/x' })).json().code).toBe(
        'CALLBACK_URL_REFUSED',
      );
      expect((await send({ ...HELLO, callbackUrl: 'https://hooks.example.com/x' })).statusCode).toBe(202);
      // A host is resolved once for every request that names it (for a minute), not once per POST.
      for (let i = 0; i < 3; i++) {
        expect((await send({ ...HELLO, callbackUrl: `https://hooks.example.com/m${i}` })).statusCode).toBe(
          202,
        );
      }
      expect((await send({ ...HELLO, callbackUrl: 'https://hooks.internal/y' })).statusCode).toBe(422);
      expect(lookups).toEqual(['hooks.internal', 'hooks.example.com']);
    });
    await withFixture({ deps: { messages: { callbackUrlPolicy: { allowPrivate: true } } } }, async () => {
      expect((await send({ ...HELLO, callbackUrl: 'http://127.0.0.1:9/x' })).statusCode).toBe(202);
    });
  });

  it('answers 429 QUEUE_FULL with Retry-After above the queue bound, and stores nothing', async () => {
    await withFixture({ deps: { messages: { maxQueuedParts: 10 } } }, async () => {
      f.outbound.queued = 9;
      expect((await send(HELLO)).statusCode).toBe(202);
      const res = await send({ ...HELLO, text: 'x'.repeat(200) });
      expect(res.statusCode).toBe(429);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({
        code: 'QUEUE_FULL',
        details: { queuedParts: 9, maxQueuedParts: 10 },
      });
      expect(await count()).toBe(1);
    });
    await withFixture({ deps: { config: { ...config(), outbound: { maxQueuedParts: 0 } } } }, async () => {
      // The bound from config outbound.maxQueuedParts.
      expect((await send(HELLO)).json().code).toBe('QUEUE_FULL');
    });
  });

  it('answers 503 STORE_UNAVAILABLE when the store cannot commit, and nothing is stored', async () => {
    let fail = false;
    const beforeCommit = () => {
      if (fail) throw new Error('disk full');
    };
    await withFixture({ store: { beforeCommit } }, async () => {
      fail = true;
      const res = await send(HELLO);
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('STORE_UNAVAILABLE');
      fail = false;
      expect(await count()).toBe(0);
      await f.store.close();
      expect((await send(HELLO)).json().code).toBe('STORE_UNAVAILABLE');
      expect((await f.app.inject({ url: '/messages' })).json().code).toBe('STORE_UNAVAILABLE');
    });
  });
});

describe('without a message path', () => {
  it('answers 503 MESSAGES_UNAVAILABLE on every message route', async () => {
    const app = await buildApp({ registry: new BindRegistry(), config: config() });
    try {
      for (const [method, url] of [
        ['POST', '/messages'],
        ['POST', '/messages/batch'],
        ['GET', '/messages'],
        ['GET', '/messages/x'],
        ['DELETE', '/messages/x'],
      ] as const) {
        const res = await app.inject({
          method,
          url,
          ...(method === 'POST' ? { payload: url.endsWith('batch') ? { messages: [HELLO] } : HELLO } : {}),
        });
        expect(res.statusCode, `${method} ${url}`).toBe(503);
        expect(res.json().code).toBe('MESSAGES_UNAVAILABLE');
      }
    } finally {
      await app.close();
    }
  });
});

describe('GET /messages/:id', () => {
  it('shows the status, parts with bind, SMSC id, submit status and receipt, and the events in order', async () => {
    // Its own store: the queue must hold this message's parts only.
    await withFixture({}, async () => {
      const { id } = (await send({ ...HELLO, text: 'y'.repeat(200), metadata: { order: 17 } })).json();
      // What the outbound engine and the receipt correlation would record.
      const lease = (await f.store.acquireBindLease('uk-1', 'test', 60_000))!;
      const fence: Fence = { bindId: lease.bindId, epoch: lease.epoch };
      const [p0, p1] = await f.store.claimParts(fence, 'uk', 10, 30_000);
      await f.store.markPartSending(fence, p0!.id, 7);
      await f.store.recordSubmitOutcome(fence, p0!.id, { kind: 'accepted', smscMessageId: '00A1' });
      await f.store.markPartSending(fence, p1!.id, 8);
      await f.store.recordSubmitOutcome(fence, p1!.id, {
        kind: 'rejected',
        commandStatus: 0x0b,
        error: { code: 'SMSC_REJECTED', message: 'invalid destination' },
      });
      await f.store.recordReceipt({
        smscMessageId: 'a1',
        bindId: 'uk-1',
        stat: 'DELIVRD',
        err: '000',
        doneAt: 1_765_000_000_000,
      });
      await f.store.updateMessage(id, {
        status: 'rejected',
        error: { code: 'SMSC_REJECTED', message: 'part 1 refused' },
      });
      await f.store.appendMessageEvent(id, 'status', { status: 'rejected' });

      const res = await f.app.inject({ url: `/messages/${id}` });
      expect(res.statusCode, res.body).toBe(200);
      const m = res.json();
      expect(m).toMatchObject({
        id,
        status: 'rejected',
        partsCount: 2,
        metadata: { order: 17 },
        receipt: 'final',
        error: { code: 'SMSC_REJECTED', smppStatus: 11, statusName: 'ESME_RINVDSTADR', permanent: true },
      });
      expect(m.parts).toEqual([
        expect.objectContaining({
          index: 0,
          state: 'submitted',
          bindId: 'uk-1',
          smscMessageId: 'a1',
          submitStatus: 0,
          submitStatusName: 'ESME_ROK',
          receipt: { stat: 'DELIVRD', err: '000', doneDate: new Date(1_765_000_000_000).toISOString() },
        }),
        expect.objectContaining({ index: 1, state: 'rejected', submitStatus: 11, receipt: null }),
      ]);
      expect(m.events.map((e: { seq: number; type: string }) => [e.seq, e.type])).toEqual([
        [1, 'accepted'],
        [2, 'status'],
      ]);
    });
  });

  it('answers 404 MESSAGE_NOT_FOUND for an unknown id', async () => {
    const res = await f.app.inject({ url: '/messages/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      code: 'MESSAGE_NOT_FOUND',
      message: "no message with id 'nope'",
      details: { messageId: 'nope' },
    });
  });
});

describe('GET /messages', () => {
  it('lists newest first, filtered, a page at a time with an opaque cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await send({ ...HELLO, clientRef: i % 2 === 0 ? 'list-even' : 'list-odd' })).json().id);
    }
    await f.store.updateMessage(ids[1]!, { status: 'failed' });
    const list = async (q: string) => {
      const res = await f.app.inject({ url: `/messages${q}` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { messages: { id: string; status: string }[]; nextCursor: string | null };
    };
    const newestFirst = [...ids].reverse();
    expect((await list('?limit=5')).messages.map((m) => m.id)).toEqual(newestFirst);
    expect((await list('?clientRef=list-even')).messages.map((m) => m.id)).toEqual(
      newestFirst.filter((id) => ids.indexOf(id) % 2 === 0),
    );
    expect((await list('?clientRef=list-odd&status=failed,canceled')).messages.map((m) => m.id)).toEqual([
      ids[1],
    ]);
    expect((await list('?clientRef=list-odd&since=2000-01-01T00:00:00Z')).messages).toHaveLength(2);
    expect((await list(`?since=${new Date(Date.now() + 60_000).toISOString()}`)).messages).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?clientRef=list-even&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect([seen, pages]).toEqual([[ids[4], ids[2], ids[0]], 2]);
  });

  it('refuses a bad status, since or cursor with 400 naming the parameter', async () => {
    for (const [q, field] of [
      ['?status=sent', 'querystring/status'],
      ['?since=yesterday', 'querystring/since'],
      ['?cursor=bm9wZQ', 'querystring/cursor'],
      ['?limit=0', 'querystring/limit'],
    ]) {
      const res = await f.app.inject({ url: `/messages${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().details.errors[0].field, q).toBe(field);
    }
  });
});

describe('DELETE /messages/:id', () => {
  it('cancels a queued message: canceled, an event, and its parts never claimed', async () => {
    await withFixture({}, async () => {
      const { id } = (await send({ ...HELLO, text: 'z'.repeat(200) })).json();
      const res = await f.app.inject({ method: 'DELETE', url: `/messages/${id}` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id, status: 'canceled' });
      const lease = (await f.store.acquireBindLease('uk-1', 'test', 60_000))!;
      expect(await f.store.claimParts(lease, 'uk', 10, 30_000)).toEqual([]);
      const detail = (await f.app.inject({ url: `/messages/${id}` })).json();
      expect(detail.status).toBe('canceled');
      expect(detail.parts.map((p: { state: string }) => p.state)).toEqual(['canceled', 'canceled']);
      expect(detail.events.map((e: { type: string }) => e.type)).toEqual(['accepted', 'canceled']);
    });
  });

  it('answers 409 MESSAGE_NOT_CANCELABLE once a part was claimed, and changes nothing', async () => {
    const { id } = (await send(HELLO)).json();
    const lease = (await f.store.acquireBindLease('uk-1', 'test', 60_000))!;
    await f.store.claimParts(lease, 'uk', 10, 30_000);
    const res = await f.app.inject({ method: 'DELETE', url: `/messages/${id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'MESSAGE_NOT_CANCELABLE',
      details: { messageId: id, status: 'queued' },
    });
    expect((await f.store.listParts(id))[0]?.state).toBe('claimed');
    expect((await f.app.inject({ method: 'DELETE', url: '/messages/nope' })).statusCode).toBe(404);
  });

  it('cancels a scheduled message', async () => {
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const { id } = (await send({ ...HELLO, sendAt })).json();
    const res = await f.app.inject({ method: 'DELETE', url: `/messages/${id}` });
    expect(res.json().status).toBe('canceled');
  });
});
