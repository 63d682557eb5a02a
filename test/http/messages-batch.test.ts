// POST /messages/batch (per-item results, valid items accepted in one commit) and Idempotency-Key on
// both send routes: replay, mismatch, in progress, and the same key twice in parallel.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MessagesFixture, messagesApp } from './messages-setup.js';

let f: MessagesFixture;
beforeAll(async () => {
  f = await messagesApp();
});
afterAll(async () => {
  await f?.close();
});
beforeEach(() => {
  f.outbound.notified.length = 0;
  f.outbound.queued = 0;
});

const HELLO = { to: '+447700900123', from: 'ACME', text: 'Hello there' };

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return f.app.inject({ method: 'POST', url, payload: body as object, headers });
}

async function byRef(clientRef: string) {
  return f.store.listMessages({ clientRef, limit: 10_000 });
}

describe('POST /messages/batch', () => {
  it('accepts the valid messages, refuses each invalid one with its own error, in order', async () => {
    const res = await post('/messages/batch', {
      defaults: { from: 'ACME', clientRef: 'batch-1' },
      messages: [
        { to: '+447700900123', text: 'Hello Ann' },
        { to: 'nobody', text: 'Hello Bob' },
        { to: '+15550100', text: 'x'.repeat(400), maxParts: 2 },
        { text: 'no destination' },
        { to: '+15550101', text: 'Hello Cy', from: 'SHOP', clientRef: 'batch-1-own' },
      ],
    });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    expect([body.accepted, body.rejected]).toEqual([2, 3]);
    expect(
      body.results.map((r: { index: number; accepted: boolean; error?: { code: string } }) => [
        r.index,
        r.accepted,
        r.error?.code,
      ]),
    ).toEqual([
      [0, true, undefined],
      [1, false, 'INVALID_ADDRESS'],
      [2, false, 'TOO_MANY_PARTS'],
      [3, false, 'VALIDATION_FAILED'],
      [4, true, undefined],
    ]);
    expect(body.results[1].error.details.errors[0].field).toBe('body/messages/1/to');
    expect(body.results[3].error.details.errors[0].field).toBe('body/messages/3/to');
    expect(body.results[0].message).toMatchObject({ status: 'queued', route: 'uk', clientRef: 'batch-1' });
    expect(body.results[4].message).toMatchObject({ route: 'us', clientRef: 'batch-1-own' });
    const stored = await f.store.getMessage(body.results[4].message.id);
    expect(stored?.from).toBe('SHOP');
    expect((await byRef('batch-1')).map((m) => m.id)).toEqual([body.results[0].message.id]);
    expect(f.outbound.notified.sort()).toEqual(['uk', 'us']);
  });

  it('stores the valid messages of a batch in one transaction', async () => {
    const commitsBefore = f.store.stats().commits;
    const messages = Array.from({ length: 200 }, (_, i) => ({ ...HELLO, text: `Hello ${i}` }));
    const res = await post('/messages/batch', { defaults: { clientRef: 'batch-200' }, messages });
    expect(res.statusCode).toBe(202);
    expect(res.json().accepted).toBe(200);
    expect(f.store.stats().commits - commitsBefore).toBe(1);
    expect(await byRef('batch-200')).toHaveLength(200);
  });

  it('accepts 1,000 messages and refuses 1,001 with 400', async () => {
    const messages = Array.from({ length: 1_000 }, () => ({ ...HELLO, clientRef: 'batch-1000' }));
    const ok = await post('/messages/batch', { messages });
    expect(ok.statusCode, ok.body.slice(0, 300)).toBe(202);
    expect(ok.json().accepted).toBe(1_000);
    const tooMany = await post('/messages/batch', { messages: [...messages, HELLO] });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().details.errors[0].field).toBe('body/messages');
  });

  it('refuses the whole batch with 429 QUEUE_FULL when its parts would pass the bound', async () => {
    f.outbound.queued = 100_000 - 1;
    const res = await post('/messages/batch', {
      messages: [
        { ...HELLO, clientRef: 'batch-full' },
        { ...HELLO, clientRef: 'batch-full' },
      ],
    });
    expect(res.statusCode).toBe(429);
    expect(res.json().code).toBe('QUEUE_FULL');
    expect(await byRef('batch-full')).toEqual([]);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for an identical retry, with Idempotent-Replayed, and queues nothing new', async () => {
    const headers = { 'idempotency-key': 'key-replay' };
    const body = { ...HELLO, clientRef: 'idem-replay', metadata: { a: 1, b: [1, 2] } };
    const first = await post('/messages', body, headers);
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // The same body with its keys in another order is the same request.
    const again = await post('/messages', { ...body, metadata: { b: [1, 2], a: 1 } }, headers);
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(first.headers.location);
    expect(await byRef('idem-replay')).toHaveLength(1);
    expect(f.outbound.notified).toEqual(['uk']);
  });

  it('answers 422 IDEMPOTENCY_KEY_MISMATCH for the same key with another body', async () => {
    const headers = { 'idempotency-key': 'key-mismatch' };
    expect((await post('/messages', { ...HELLO, clientRef: 'idem-mm' }, headers)).statusCode).toBe(202);
    const other = await post('/messages', { ...HELLO, clientRef: 'idem-mm', text: 'Other' }, headers);
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    // A key of POST /messages is not a key of the batch route.
    const batch = await post('/messages/batch', { messages: [{ ...HELLO, clientRef: 'idem-mm' }] }, headers);
    expect(batch.json().code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    expect(await byRef('idem-mm')).toHaveLength(1);
  });

  it('answers 409 IDEMPOTENCY_KEY_IN_USE while the first request with the key is in progress', async () => {
    const body = { ...HELLO, clientRef: 'idem-busy' };
    const { requestHash } = await import('../../src/http/message-views.js');
    expect(await f.store.beginIdempotency('key-busy', requestHash('POST /messages', body))).toEqual({
      kind: 'started',
    });
    const res = await post('/messages', body, { 'idempotency-key': 'key-busy' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_IN_USE');
    expect(await byRef('idem-busy')).toEqual([]);
  });

  it('sends one message when the same key arrives twice in parallel', async () => {
    for (let round = 0; round < 5; round++) {
      const body = { ...HELLO, clientRef: `idem-parallel-${round}` };
      const headers = { 'idempotency-key': `key-parallel-${round}` };
      const answers = await Promise.all([post('/messages', body, headers), post('/messages', body, headers)]);
      const statuses = answers.map((a) => a.statusCode).sort();
      // One is accepted; the other saw the key in progress (409) or, if it came late, the replay.
      expect([[202, 409].join(), [202, 202].join()]).toContain(statuses.join());
      const stored = await byRef(body.clientRef);
      expect(stored).toHaveLength(1);
      for (const a of answers.filter((x) => x.statusCode === 202)) expect(a.json().id).toBe(stored[0]!.id);
      // Once settled, a retry replays.
      const retry = await post('/messages', body, headers);
      expect([retry.statusCode, retry.headers['idempotent-replayed'], retry.json().id]).toEqual([
        202,
        'true',
        stored[0]!.id,
      ]);
    }
  });

  it('frees the key when the request failed, so a retry starts afresh', async () => {
    const headers = { 'idempotency-key': 'key-retry-after-429' };
    const body = { ...HELLO, clientRef: 'idem-429' };
    f.outbound.queued = 100_000;
    expect((await post('/messages', body, headers)).statusCode).toBe(429);
    f.outbound.queued = 0;
    const res = await post('/messages', body, headers);
    expect(res.statusCode).toBe(202);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await byRef('idem-429')).toHaveLength(1);
  });

  it('replays a batch answer too', async () => {
    const headers = { 'idempotency-key': 'key-batch' };
    const body = { defaults: { clientRef: 'idem-batch' }, messages: [HELLO, { ...HELLO, to: 'x' }] };
    const first = await post('/messages/batch', body, headers);
    const again = await post('/messages/batch', body, headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await byRef('idem-batch')).toHaveLength(1);
  });
});

describe('group commit', () => {
  it('lets concurrent POSTs share commits', async () => {
    const before = f.store.stats();
    const n = 50;
    const answers = await Promise.all(
      Array.from({ length: n }, () => post('/messages', { ...HELLO, clientRef: 'grouped' })),
    );
    expect(answers.every((a) => a.statusCode === 202)).toBe(true);
    const after = f.store.stats();
    expect(after.units - before.units).toBe(n);
    expect(after.commits - before.commits).toBeLessThan(n);
  });
});
