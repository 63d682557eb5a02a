/**
 * The behaviour every Store implementation must have. An implementation's test file calls
 * `describeStore(name, factory)`; the factory makes one empty database per test and can
 * open it again (to check what survives a close or a crash).
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { fingerprintKey } from '../../src/store/fingerprint-key.js';
import type { BindLease, NewInboundMessage, NewMessage, Store } from '../../src/store/store.js';

export interface StoreDatabase {
  /** Opens the database this test owns (again, if it was closed). */
  open(): Promise<Store>;
  /** Removes the database; every store opened on it is closed by then. */
  destroy(): Promise<void>;
}

export interface StoreFactoryContext {
  /** Wall-clock milliseconds the store must use for every time it records or compares. */
  now: () => number;
  /** Finished messages are pruned after this many days. */
  retentionDays: number;
}

export type StoreFactory = (context: StoreFactoryContext) => Promise<StoreDatabase>;

const DAY_MS = 86_400_000;
const RETENTION_DAYS = 7;

/**
 * Fingerprints for the version-10 upgrade tests (SQLite and PostgreSQL): two in the window (one
 * with the top bit of its key set: a negative key) and one expired at the stores' now of 10,000.
 */
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
export const V10_FINGERPRINTS = {
  low: sha('low'),
  high: `f${sha('high').slice(1)}`,
  expired: sha('expired'),
} as const;

/** The (key, digest hex) rows migration 11 must leave for V10_FINGERPRINTS, in key order. */
export function v10FingerprintRows(): [bigint, string][] {
  const { low, high, expired } = V10_FINGERPRINTS;
  return [high, low, expired]
    .map((fp) => fingerprintKey(fp))
    .sort((x, y) => (x.key < y.key ? -1 : 1))
    .map((k) => [k.key, k.digest.toString('hex')]);
}

export function message(id: string, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    id,
    clientRef: `ref-${id}`,
    route: 'default',
    from: 'ACME',
    to: '447700900123',
    encoding: 'gsm7',
    body: Buffer.from(`hello ${id}`),
    ...overrides,
  };
}

const onePart = [{ index: 0, payload: Buffer.from('hello') }];

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

export function describeStore(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let t: number;
    let db: StoreDatabase;
    let store: Store;
    const opened: Store[] = [];
    const open = async () => {
      const s = await db.open();
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      t = Date.UTC(2026, 0, 1);
      db = await factory({ now: () => t, retentionDays: RETENTION_DAYS });
      store = await open();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await db.destroy();
    });

    describe('messages', () => {
      it('stores a message with its parts and reads it back', async () => {
        const created = await store.createMessage(
          message('m1', {
            udh: Buffer.from([5, 0, 3, 1, 2, 1]),
            metadata: { campaign: 'x', n: 1 },
            callbackUrl: 'https://example.test/hook',
            receiptPolicy: 'failure',
            validityMs: 3_600_000,
          }),
          [
            { index: 0, payload: Buffer.from('part one') },
            { index: 1, payload: Buffer.from('part two') },
          ],
        );
        const read = await store.getMessage('m1');
        expect(read).toEqual(created);
        expect(read).toMatchObject({
          clientRef: 'ref-m1',
          partsCount: 2,
          status: 'queued',
          metadata: { campaign: 'x', n: 1 },
          receiptPolicy: 'failure',
          validityMs: 3_600_000,
          sendAt: null,
          createdAt: t,
        });
        expect(read?.body.toString()).toBe('hello m1');
        expect([...(read?.udh ?? [])]).toEqual([5, 0, 3, 1, 2, 1]);
        const parts = await store.listParts('m1');
        expect(parts.map((p) => [p.index, p.state, p.queue, p.payload.toString()])).toEqual([
          [0, 'queued', 'default', 'part one'],
          [1, 'queued', 'default', 'part two'],
        ]);
        expect(await store.getMessage('nope')).toBeUndefined();
        // Several in one read: those that exist, any order.
        await store.createMessage(message('m2'), [{ index: 0, payload: Buffer.from('x') }]);
        const both = await store.getMessages(['m2', 'nope', 'm1']);
        expect(both.map((m) => m.id).sort()).toEqual(['m1', 'm2']);
        expect(both.find((m) => m.id === 'm1')).toEqual(created);
        expect(await store.getMessages([])).toEqual([]);
      });

      it('marks a message with a future sendAt as scheduled', async () => {
        const m = await store.createMessage(message('m1', { sendAt: t + 60_000 }), onePart);
        expect(m.status).toBe('scheduled');
        expect((await store.listParts('m1'))[0]?.notBefore).toBe(t + 60_000);
      });

      it('refuses a second message with the same id, and a message without parts', async () => {
        await store.createMessage(message('m1'), onePart);
        expect(await codeOf(store.createMessage(message('m1'), onePart))).toBe(ErrorCode.StoreConflict);
        expect(await codeOf(store.createMessage(message('m2'), []))).toBe(ErrorCode.StoreConflict);
        expect(await store.getMessage('m2')).toBeUndefined();
      });

      it('updates status, error and metadata; an unknown id is not found', async () => {
        await store.createMessage(message('m1'), onePart);
        t += 1000;
        const updated = await store.updateMessage('m1', {
          status: 'failed',
          error: { code: 'ESME_RINVDSTADR', message: 'invalid destination' },
        });
        expect(updated).toMatchObject({ status: 'failed', updatedAt: t, metadata: null });
        expect(await store.getMessage('m1')).toEqual(updated);
        const cleared = await store.updateMessage('m1', { error: null, metadata: { a: 1 } });
        expect(cleared).toMatchObject({ status: 'failed', error: null, metadata: { a: 1 } });
        expect(await codeOf(store.updateMessage('nope', { status: 'submitted' }))).toBe(
          ErrorCode.StoreNotFound,
        );
      });

      it('lists messages newest first, filtered by clientRef, status and since, a page at a time', async () => {
        for (const [id, ref] of [
          ['a', 'x'],
          ['b', 'y'],
          ['c', 'x'],
          ['d', 'x'],
        ] as const) {
          await store.createMessage(message(id, { clientRef: ref }), onePart);
          t += 1000;
        }
        await store.updateMessage('c', { status: 'failed' });
        const ids = (list: { id: string }[]) => list.map((m) => m.id);
        expect(ids(await store.listMessages({ limit: 10 }))).toEqual(['d', 'c', 'b', 'a']);
        expect(ids(await store.listMessages({ clientRef: 'x', limit: 10 }))).toEqual(['d', 'c', 'a']);
        expect(ids(await store.listMessages({ statuses: ['queued'], limit: 10 }))).toEqual(['d', 'b', 'a']);
        expect(ids(await store.listMessages({ statuses: ['failed', 'canceled'], limit: 10 }))).toEqual(['c']);
        const since = Date.UTC(2026, 0, 1) + 1000;
        expect(ids(await store.listMessages({ since, limit: 10 }))).toEqual(['d', 'c', 'b']);
        const page1 = await store.listMessages({ limit: 2 });
        expect(ids(page1)).toEqual(['d', 'c']);
        const last = page1.at(-1)!;
        const page2 = await store.listMessages({
          limit: 2,
          after: { createdAt: last.createdAt, id: last.id },
        });
        expect(ids(page2)).toEqual(['b', 'a']);
      });

      it('pages through messages created in the same millisecond without repeats or gaps', async () => {
        for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) await store.createMessage(message(id), onePart);
        const seen: string[] = [];
        let after: { createdAt: number; id: string } | undefined;
        for (;;) {
          const page = await store.listMessages(after === undefined ? { limit: 2 } : { limit: 2, after });
          if (page.length === 0) break;
          seen.push(...page.map((m) => m.id));
          const last = page.at(-1)!;
          after = { createdAt: last.createdAt, id: last.id };
        }
        expect(seen).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
      });

      it('keeps a message across a close and reopen', async () => {
        await store.createMessage(message('m1'), onePart);
        await store.close();
        const again = await open();
        expect((await again.getMessage('m1'))?.id).toBe('m1');
      });
    });

    describe('message events', () => {
      it('numbers events per message in order', async () => {
        await store.createMessage(message('m1'), onePart);
        await store.createMessage(message('m2'), onePart);
        await Promise.all([
          store.appendMessageEvent('m1', 'queued', { a: 1 }),
          store.appendMessageEvent('m2', 'queued', null),
          store.appendMessageEvent('m1', 'sent', { part: 0 }),
          store.appendMessageEvent('m1', 'delivered', {}),
        ]);
        const events = await store.listMessageEvents('m1');
        expect(events.map((e) => [e.seq, e.type])).toEqual([
          [1, 'queued'],
          [2, 'sent'],
          [3, 'delivered'],
        ]);
        expect(events[1]?.data).toEqual({ part: 0 });
        expect((await store.listMessageEvents('m2')).map((e) => e.seq)).toEqual([1]);
      });

      it('refuses an event for an unknown message', async () => {
        expect(await codeOf(store.appendMessageEvent('nope', 'sent', {}))).toBe(ErrorCode.StoreNotFound);
      });
    });

    describe('idempotency keys', () => {
      it('goes started → in progress → done, and replays the stored response', async () => {
        expect(await store.beginIdempotency('k1', 'hash-a')).toEqual({ kind: 'started' });
        expect(await store.beginIdempotency('k1', 'hash-a')).toEqual({ kind: 'in_progress' });
        expect(await store.beginIdempotency('k1', 'hash-b')).toEqual({ kind: 'mismatch' });
        await store.completeIdempotency('k1', { statusCode: 202, body: { id: 'm1' } });
        expect(await store.beginIdempotency('k1', 'hash-a')).toEqual({
          kind: 'done',
          response: { statusCode: 202, body: { id: 'm1' } },
        });
        expect(await store.beginIdempotency('k1', 'hash-b')).toEqual({ kind: 'mismatch' });
      });

      it('forgets a key after its time to live (24 h by default)', async () => {
        await store.beginIdempotency('k1', 'hash-a');
        await store.completeIdempotency('k1', { statusCode: 202, body: {} });
        t += DAY_MS - 1;
        expect((await store.beginIdempotency('k1', 'hash-b')).kind).toBe('mismatch');
        t += 1;
        expect(await store.beginIdempotency('k1', 'hash-b')).toEqual({ kind: 'started' });
      });

      it('lets a released key start again, and completes only a key in progress', async () => {
        await store.beginIdempotency('k1', 'hash-a');
        await store.releaseIdempotency('k1');
        expect(await store.beginIdempotency('k1', 'hash-b')).toEqual({ kind: 'started' });
        expect(await codeOf(store.completeIdempotency('other', { statusCode: 200, body: null }))).toBe(
          ErrorCode.StoreNotFound,
        );
      });

      it('commits the key and the message it created together', async () => {
        await store.transaction(async (tx) => {
          expect(await tx.beginIdempotency('k1', 'h')).toEqual({ kind: 'started' });
          await tx.createMessage(message('m1'), onePart);
          await tx.completeIdempotency('k1', { statusCode: 202, body: { id: 'm1' } });
        });
        expect((await store.beginIdempotency('k1', 'h')).kind).toBe('done');
        expect(await store.getMessage('m1')).toBeDefined();
      });
    });

    describe('transactions', () => {
      it('returns the function result after the commit', async () => {
        const result = await store.transaction(async (tx) => {
          await tx.createMessage(message('m1'), onePart);
          return 42;
        });
        expect(result).toBe(42);
        expect(await store.getMessage('m1')).toBeDefined();
      });

      it('leaves nothing of a transaction that throws, and passes its error on', async () => {
        const boom = new Error('boom');
        const failing = store.transaction(async (tx) => {
          await tx.createMessage(message('m1'), onePart);
          await tx.appendMessageEvent('m1', 'queued', {});
          throw boom;
        });
        const neighbour = store.createMessage(message('m2'), onePart);
        await expect(failing).rejects.toBe(boom);
        await neighbour;
        expect(await store.getMessage('m1')).toBeUndefined();
        expect(await store.listMessageEvents('m1')).toEqual([]);
        expect(await store.getMessage('m2')).toBeDefined();
      });

      it('refuses a tx used after its transaction ended', async () => {
        let leaked: Parameters<Parameters<Store['transaction']>[0]>[0] | undefined;
        await store.transaction(async (tx) => {
          leaked = tx;
        });
        expect(await codeOf(leaked!.createMessage(message('m1'), onePart))).toBeDefined();
        expect(await store.getMessage('m1')).toBeUndefined();
      });
    });

    describe('group commit', () => {
      it('commits concurrent writes in few transactions, each resolving only once readable', async () => {
        const before = store.stats();
        const ids = Array.from({ length: 50 }, (_, i) => `g${i}`);
        const seen = await Promise.all(
          ids.map((id) =>
            store.createMessage(message(id), onePart).then(async () => (await store.getMessage(id))?.id),
          ),
        );
        expect(seen).toEqual(ids);
        const after = store.stats();
        const commits = after.commits - before.commits;
        expect(commits).toBeGreaterThanOrEqual(1);
        expect(commits).toBeLessThanOrEqual(10);
        expect(after.units - before.units).toBe(50);
      });

      it('commits what was queued before close, then refuses work', async () => {
        const writes = Array.from({ length: 20 }, (_, i) => store.createMessage(message(`c${i}`), onePart));
        await store.close();
        await Promise.all(writes);
        expect(await codeOf(store.createMessage(message('late'), onePart))).toBe(ErrorCode.StoreClosed);
        expect(await codeOf(store.getMessage('c0'))).toBe(ErrorCode.StoreClosed);
        expect((await store.healthCheck()).ok).toBe(false);
        const again = await open();
        for (let i = 0; i < 20; i++) expect(await again.getMessage(`c${i}`)).toBeDefined();
      });

      it('reports itself healthy while it accepts writes', async () => {
        const health = await store.healthCheck();
        expect(health.ok).toBe(true);
        expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      });
    });

    describe('bind leases', () => {
      it('gives a bind to one owner at a time; a takeover after expiry raises the epoch', async () => {
        const a = await store.acquireBindLease('b1', 'replica-a', 10_000);
        expect(a).toMatchObject({ bindId: 'b1', owner: 'replica-a', epoch: 1, expiresAt: t + 10_000 });
        expect(await store.acquireBindLease('b1', 'replica-b', 10_000)).toBeUndefined();
        t += 5_000;
        const renewed = await store.renewBindLease(a!, 10_000);
        expect(renewed?.expiresAt).toBe(t + 10_000);
        t += 10_000;
        const b = await store.acquireBindLease('b1', 'replica-b', 10_000);
        expect(b?.epoch).toBe(2);
        expect(await store.renewBindLease(a!, 10_000)).toBeUndefined();
      });

      it('hands a lease over before its expiry only when the caller names the holder as gone, and says who holds it', async () => {
        expect(await store.bindLeaseHolder?.('b1')).toBeUndefined();
        const a = await store.acquireBindLease('b1', 'replica-a', 60_000);
        expect(await store.bindLeaseHolder?.('b1')).toEqual({ owner: 'replica-a', expiresAt: t + 60_000 });
        expect(await store.acquireBindLease('b1', 'replica-b', 60_000, 'replica-c')).toBeUndefined();
        const b = await store.acquireBindLease('b1', 'replica-b', 60_000, 'replica-a');
        expect(b).toMatchObject({ owner: 'replica-b', epoch: 2 });
        expect(await store.renewBindLease(a!, 60_000)).toBeUndefined();
        expect((await store.bindLeaseHolder?.('b1'))?.owner).toBe('replica-b');
      });

      it('frees a released lease at once', async () => {
        const a = await store.acquireBindLease('b1', 'replica-a', 60_000);
        await store.releaseBindLease(a!);
        expect((await store.acquireBindLease('b1', 'replica-b', 60_000))?.epoch).toBe(2);
      });

      it('renews many leases in one call: only those the owner still holds at the same epoch', async () => {
        const b1 = (await store.acquireBindLease('b1', 'replica-a', 10_000))!;
        const b2 = (await store.acquireBindLease('b2', 'replica-a', 10_000))!;
        const b3 = (await store.acquireBindLease('b3', 'replica-a', 10_000))!;
        expect(await store.renewBindLeases('replica-a', [], 10_000)).toEqual([]);
        t += 11_000;
        // b2 expired and another replica took it; b3 expired and nobody took it (still renewable).
        expect(await store.acquireBindLease('b2', 'replica-b', 10_000)).toMatchObject({ epoch: 2 });
        const renewed = await store.renewBindLeases('replica-a', [b1, b2, b3], 10_000);
        expect(renewed.sort((x, y) => x.bindId.localeCompare(y.bindId))).toEqual([
          { bindId: 'b1', owner: 'replica-a', epoch: 1, expiresAt: t + 10_000 },
          { bindId: 'b3', owner: 'replica-a', epoch: 1, expiresAt: t + 10_000 },
        ]);
        // Another owner cannot renew them, even naming the right epoch.
        expect(await store.renewBindLeases('replica-b', [b1, b3], 10_000)).toEqual([]);
        expect(await store.renewBindLeases('replica-a', [{ bindId: 'b1', epoch: 7 }], 10_000)).toEqual([]);
      });

      it('lists every lease with its owner, epoch and whether it is still held', async () => {
        expect(await store.listBindLeases()).toEqual([]);
        await store.acquireBindLease('b2', 'replica-a', 5_000);
        await store.acquireBindLease('b1', 'replica-b', 20_000);
        t += 10_000;
        expect(await store.listBindLeases()).toEqual([
          { bindId: 'b1', owner: 'replica-b', epoch: 1, expiresAt: t + 10_000, held: true },
          { bindId: 'b2', owner: 'replica-a', epoch: 1, expiresAt: t - 5_000, held: false },
        ]);
      });
    });

    describe('replicas', () => {
      it('counts a replica live until its heartbeat expires, and forgets one that leaves', async () => {
        expect(await store.heartbeatReplica('replica-b', 10_000)).toEqual([
          { owner: 'replica-b', expiresAt: t + 10_000 },
        ]);
        t += 5_000;
        expect(await store.heartbeatReplica('replica-a', 10_000)).toEqual([
          { owner: 'replica-a', expiresAt: t + 10_000 },
          { owner: 'replica-b', expiresAt: t + 5_000 },
        ]);
        t += 6_000;
        // replica-b did not beat again: no longer live.
        expect((await store.heartbeatReplica('replica-a', 10_000)).map((r) => r.owner)).toEqual([
          'replica-a',
        ]);
        // It comes back under the same name.
        await store.heartbeatReplica('replica-b', 10_000);
        expect((await store.heartbeatReplica('replica-a', 10_000)).map((r) => r.owner)).toEqual([
          'replica-a',
          'replica-b',
        ]);
        await store.leaveReplica('replica-b');
        expect((await store.heartbeatReplica('replica-a', 10_000)).map((r) => r.owner)).toEqual([
          'replica-a',
        ]);
      });

      it('keeps the replicas across a reopen', async () => {
        await store.heartbeatReplica('replica-a', 60_000);
        await store.close();
        const again = await open();
        expect((await again.heartbeatReplica('replica-b', 60_000)).map((r) => r.owner)).toEqual([
          'replica-a',
          'replica-b',
        ]);
      });
    });

    describe('outbound queue', () => {
      let lease: BindLease;
      beforeEach(async () => {
        lease = (await store.acquireBindLease('b1', 'replica-a', 60_000))!;
      });

      async function queueMessages(n: number, route = 'default'): Promise<void> {
        for (let i = 0; i < n; i++) {
          await store.createMessage(message(`q${i}`, { route }), [
            { index: 0, payload: Buffer.from(`q${i}.0`) },
            { index: 1, payload: Buffer.from(`q${i}.1`) },
          ]);
        }
      }

      it('claims parts in the order they were queued, up to the limit, from its own queue', async () => {
        await queueMessages(3);
        await store.createMessage(message('other', { route: 'elsewhere' }), onePart);
        const first = await store.claimParts(lease, 'default', 4, 30_000);
        expect(first.map((p) => p.payload.toString())).toEqual(['q0.0', 'q0.1', 'q1.0', 'q1.1']);
        expect(first.every((p) => p.state === 'claimed' && p.bindId === 'b1' && p.epoch === 1)).toBe(true);
        const rest = await store.claimParts(lease, 'default', 10, 30_000);
        expect(rest.map((p) => p.payload.toString())).toEqual(['q2.0', 'q2.1']);
        expect(await store.claimParts(lease, 'default', 10, 30_000)).toEqual([]);
      });

      it('cancels a queued or scheduled message atomically: its parts are never claimed afterwards', async () => {
        await queueMessages(2);
        await store.createMessage(message('later', { sendAt: t + 60_000 }), onePart);
        const canceled = await store.cancelMessage('q0');
        expect(canceled).toMatchObject({ kind: 'canceled', message: { id: 'q0', status: 'canceled' } });
        expect((await store.getMessage('q0'))?.status).toBe('canceled');
        expect((await store.listParts('q0')).map((p) => p.state)).toEqual(['canceled', 'canceled']);
        expect((await store.cancelMessage('later')).kind).toBe('canceled');
        t += 120_000;
        const claimed = await store.claimParts(lease, 'default', 10, 30_000);
        expect(claimed.map((p) => p.messageId)).toEqual(['q1', 'q1']);
        // A takeover recovers claimed and sending parts; canceled ones stay canceled.
        t += 60_001;
        await store.acquireBindLease('b1', 'replica-b', 60_000);
        expect((await store.listParts('q0')).map((p) => p.state)).toEqual(['canceled', 'canceled']);
        expect((await store.cancelMessage('nope')).kind).toBe('not_found');
        // Canceling twice is too late the second time: the message is no longer queued.
        expect(await store.cancelMessage('q0')).toMatchObject({
          kind: 'too_late',
          reason: 'the message is canceled',
        });
      });

      it('refuses to cancel once a part was claimed, and changes nothing', async () => {
        await queueMessages(1);
        await store.claimParts(lease, 'default', 1, 30_000);
        const result = await store.cancelMessage('q0');
        expect(result).toMatchObject({ kind: 'too_late', reason: 'part 0 is already claimed' });
        expect((await store.getMessage('q0'))?.status).toBe('queued');
        // A claim takes whole messages: a limit of 1 claims both parts of q0.
        expect((await store.listParts('q0')).map((p) => p.state)).toEqual(['claimed', 'claimed']);
        // The claim and the cancel race inside one transaction each: the loser sees the winner's write.
        await store.createMessage(message('race'), onePart);
        const [claim, cancel] = await Promise.all([
          store.claimParts(lease, 'default', 10, 30_000),
          store.cancelMessage('race'),
        ]);
        const claimedRace = claim.some((p) => p.messageId === 'race');
        expect(claimedRace).toBe(cancel.kind === 'too_late');
      });

      it('claims whole messages: never splits one between claimers, keeps its parts on one bind and in order', async () => {
        await queueMessages(2);
        const other = (await store.acquireBindLease('b2', 'replica-a', 60_000))!;
        // A limit that ends inside a message takes the whole message.
        const first = await store.claimParts(lease, 'default', 1, 30_000);
        expect(first.map((p) => p.payload.toString())).toEqual(['q0.0', 'q0.1']);
        const second = await store.claimParts(other, 'default', 3, 30_000);
        expect(second.map((p) => p.payload.toString())).toEqual(['q1.0', 'q1.1']);
        // q0.0 is submitted on b1; q0.1 is throttled back to the queue: only b1 may take it.
        await store.markPartSending(lease, first[0]!.id, 1);
        await store.recordSubmitOutcome(lease, first[0]!.id, { kind: 'accepted', smscMessageId: '1' });
        await store.markPartSending(lease, first[1]!.id, 2);
        await store.recordSubmitOutcome(lease, first[1]!.id, {
          kind: 'retry',
          commandStatus: 0x58,
          retryAt: t,
        });
        expect(await store.claimParts(other, 'default', 10, 30_000)).toEqual([]);
        expect((await store.claimParts(lease, 'default', 10, 30_000)).map((p) => p.id)).toEqual([
          first[1]!.id,
        ]);
      });

      it('holds a part back while an earlier part of its message waits for a retry', async () => {
        await queueMessages(1);
        const [p0, p1] = await store.claimParts(lease, 'default', 10, 30_000);
        await store.markPartSending(lease, p0!.id, 1);
        await store.recordSubmitOutcome(lease, p0!.id, {
          kind: 'retry',
          commandStatus: 0x08,
          retryAt: t + 1_000,
        });
        await store.releaseParts(lease, [p1!.id]);
        expect(await store.claimParts(lease, 'default', 10, 30_000)).toEqual([]);
        t += 1_000;
        expect((await store.claimParts(lease, 'default', 10, 30_000)).map((p) => p.id)).toEqual([
          p0!.id,
          p1!.id,
        ]);
      });

      it('never hands out the parts of a message whose status is final (canceled, failed…)', async () => {
        await queueMessages(2);
        expect(await store.countOpenParts()).toBe(4);
        await store.updateMessage('q0', { status: 'canceled' });
        expect(await store.countOpenParts()).toBe(2);
        expect((await store.claimParts(lease, 'default', 10, 30_000)).map((p) => p.messageId)).toEqual([
          'q1',
          'q1',
        ]);
      });

      it('lists messages whose validity ran out while a part was still unsent', async () => {
        await store.createMessage(message('short', { validityMs: 1_000 }), onePart);
        await store.createMessage(message('long', { validityMs: 60_000 }), onePart);
        await store.createMessage(message('none'), onePart);
        expect(await store.listMessagesPastValidity(t + 999, 10)).toEqual([]);
        expect((await store.listMessagesPastValidity(t + 1_000, 10)).map((m) => m.id)).toEqual(['short']);
        await store.updateMessage('short', { status: 'failed' });
        expect(await store.listMessagesPastValidity(t + 1_000, 10)).toEqual([]);
      });

      it('hands a claimed part out again once its visibility timeout passed', async () => {
        await store.createMessage(message('v'), onePart);
        const claimed = await store.claimParts(lease, 'default', 1, 30_000);
        t += 29_999;
        expect(await store.claimParts(lease, 'default', 10, 30_000)).toEqual([]);
        t += 1;
        expect((await store.claimParts(lease, 'default', 10, 30_000)).map((p) => p.id)).toEqual([
          claimed[0]!.id,
        ]);
      });

      it('does not hand out a scheduled part before its time', async () => {
        await store.createMessage(message('later', { sendAt: t + 60_000 }), onePart);
        expect(await store.claimParts(lease, 'default', 10, 30_000)).toEqual([]);
        t += 60_000;
        expect(await store.claimParts(lease, 'default', 10, 30_000)).toHaveLength(1);
      });

      it('records sending, then what the SMSC answered', async () => {
        await queueMessages(2);
        const [p0, p1, p2, p3] = await store.claimParts(lease, 'default', 4, 30_000);
        const sending = await store.markPartSending(lease, p0!.id, 7);
        expect(sending).toMatchObject({
          state: 'sending',
          sequenceNumber: 7,
          attempts: 1,
          claimedUntil: null,
        });

        const accepted = await store.recordSubmitOutcome(lease, p0!.id, {
          kind: 'accepted',
          smscMessageId: '000ABC12',
        });
        expect(accepted).toMatchObject({ state: 'submitted', smscMessageId: 'abc12', submitStatus: 0 });

        await store.markPartSending(lease, p1!.id, 8);
        const rejected = await store.recordSubmitOutcome(lease, p1!.id, {
          kind: 'rejected',
          commandStatus: 0x0b,
          error: { code: 'ESME_RINVDSTADR', message: 'invalid destination' },
        });
        expect(rejected).toMatchObject({
          state: 'rejected',
          submitStatus: 0x0b,
          error: { code: 'ESME_RINVDSTADR' },
        });

        await store.markPartSending(lease, p2!.id, 9);
        const retry = await store.recordSubmitOutcome(lease, p2!.id, {
          kind: 'retry',
          commandStatus: 0x58,
          retryAt: t + 5_000,
        });
        expect(retry).toMatchObject({
          state: 'queued',
          bindId: null,
          notBefore: t + 5_000,
          submitStatus: 0x58,
        });
        expect(await store.claimParts(lease, 'default', 10, 30_000)).toEqual([]);
        t += 5_000;
        expect((await store.claimParts(lease, 'default', 10, 30_000)).map((p) => p.id)).toEqual([p2!.id]);
        // A throttled send is put back without counting against the part's attempts.
        expect((await store.markPartSending(lease, p2!.id, 11)).attempts).toBe(2);
        const throttled = await store.recordSubmitOutcome(lease, p2!.id, {
          kind: 'retry',
          commandStatus: 0x58,
          retryAt: t,
          notAnAttempt: true,
        });
        expect(throttled).toMatchObject({ state: 'queued', attempts: 1 });
        expect((await store.claimParts(lease, 'default', 10, 30_000)).map((p) => p.id)).toEqual([p2!.id]);

        await store.markPartSending(lease, p3!.id, 10);
        const unknown = await store.recordSubmitOutcome(lease, p3!.id, {
          kind: 'unknown',
          error: { code: 'SMPP_ERR_SESSION_RESPONSE_TIMEOUT', message: 'no submit_sm_resp' },
        });
        expect(unknown.state).toBe('unknown');
        // A late response still tells us the id.
        const late = await store.recordSubmitOutcome(lease, p3!.id, {
          kind: 'accepted',
          smscMessageId: 'FF',
        });
        expect(late).toMatchObject({ state: 'submitted', smscMessageId: 'ff' });
      });

      it('creates a message with its parts sending on a fence that holds: as read back, in index order, never claimable', async () => {
        const parts = [2, 0, 1].map((i) => ({ index: i, payload: Buffer.from(`d.${i}`) }));
        const created = await store.createMessageSending(message('d'), parts, lease);
        expect(created.message.status).toBe('queued');
        expect(created.parts?.map((p) => p.index)).toEqual([0, 1, 2]);
        const stored = await store.listParts('d');
        expect(created.parts).toEqual(stored);
        expect(stored.map((p) => [p.state, p.bindId, p.epoch, p.attempts])).toEqual([
          ['sending', 'b1', 1, 1],
          ['sending', 'b1', 1, 1],
          ['sending', 'b1', 1, 1],
        ]);
        expect(stored[0]!.id).toBeLessThan(stored[1]!.id);
        expect(stored[1]!.id).toBeLessThan(stored[2]!.id);
        expect(await store.claimParts(lease, 'default', 10, 30_000)).toEqual([]);
        const done = await store.recordSubmitOutcome(lease, stored[0]!.id, {
          kind: 'accepted',
          smscMessageId: '7',
        });
        expect(done).toMatchObject({ state: 'submitted', smscMessageId: '7', attempts: 1 });
        expect(await store.countOpenParts()).toBe(2);
      });

      it('answers an outcome or a patch given the current record exactly as it would read the row back', async () => {
        const [part] = (await store.createMessageSending(message('k'), onePart, lease)).parts!;
        const quick = await store.transaction((tx) =>
          tx.recordSubmitOutcome(lease, part!.id, { kind: 'accepted', smscMessageId: '00AB' }, part),
        );
        expect(quick).toEqual((await store.listParts('k'))[0]);
        const read = (await store.getMessage('k'))!;
        const patched = await store.transaction((tx) =>
          tx.updateMessage('k', { status: 'submitted', error: null }, read),
        );
        expect(patched).toEqual(await store.getMessage('k'));
        // A stale fence is refused the same way with or without the current part.
        t += 60_000;
        await store.acquireBindLease('b1', 'replica-b', 60_000);
        expect(
          await codeOf(
            store.transaction((tx) =>
              tx.recordSubmitOutcome(lease, part!.id, { kind: 'accepted', smscMessageId: '1' }, part),
            ),
          ),
        ).toBe(ErrorCode.StoreFenced);
      });

      it('queues the parts instead when the fence no longer holds, or the message is scheduled', async () => {
        t += 60_000;
        await store.acquireBindLease('b1', 'replica-b', 60_000);
        const stale = await store.createMessageSending(message('s'), onePart, lease);
        expect(stale.parts).toBeUndefined();
        expect((await store.listParts('s')).map((p) => [p.state, p.bindId])).toEqual([['queued', null]]);
        const current = (await store.acquireBindLease('b1', 'replica-b', 60_000))!;
        const later = await store.createMessageSending(
          message('later', { sendAt: t + 60_000 }),
          onePart,
          current,
        );
        expect(later.parts).toBeUndefined();
        expect(later.message.status).toBe('scheduled');
        expect((await store.listParts('later'))[0]?.state).toBe('queued');
      });

      it('after a crash, a part created sending is unknown to the next owner (it may have gone out)', async () => {
        await store.createMessageSending(message('c'), onePart, lease);
        t += 60_000;
        const next = await store.acquireBindLease('b1', 'replica-b', 60_000);
        expect(next?.recovered).toEqual(['c']);
        expect((await store.listParts('c')).map((p) => [p.state, p.error?.code])).toEqual([
          ['unknown', 'SEND_INTERRUPTED'],
        ]);
      });

      it('refuses to send a part it has not claimed', async () => {
        await queueMessages(1);
        const parts = await store.listParts('q0');
        expect(await codeOf(store.markPartSending(lease, parts[0]!.id, 1))).toBe(ErrorCode.StoreConflict);
        expect(
          await codeOf(
            store.recordSubmitOutcome(lease, parts[0]!.id, { kind: 'accepted', smscMessageId: '1' }),
          ),
        ).toBe(ErrorCode.StoreConflict);
      });

      it('puts released parts back at the head of the queue', async () => {
        await queueMessages(2);
        const claimed = await store.claimParts(lease, 'default', 2, 30_000);
        await store.releaseParts(
          lease,
          claimed.map((p) => p.id),
        );
        const again = await store.claimParts(lease, 'default', 2, 30_000);
        expect(again.map((p) => p.id)).toEqual(claimed.map((p) => p.id));
      });

      it('refuses every write with a stale epoch once the bind changed hands', async () => {
        await queueMessages(2);
        const [p0, p1] = await store.claimParts(lease, 'default', 2, 30_000);
        await store.markPartSending(lease, p0!.id, 1);
        t += 60_000;
        const taken = await store.acquireBindLease('b1', 'replica-b', 60_000);
        expect(taken?.epoch).toBe(2);
        const stale = lease;
        expect(await codeOf(store.claimParts(stale, 'default', 10, 30_000))).toBe(ErrorCode.StoreFenced);
        expect(await codeOf(store.markPartSending(stale, p1!.id, 2))).toBe(ErrorCode.StoreFenced);
        expect(
          await codeOf(store.recordSubmitOutcome(stale, p0!.id, { kind: 'accepted', smscMessageId: '1' })),
        ).toBe(ErrorCode.StoreFenced);
        expect(await codeOf(store.releaseParts(stale, [p1!.id]))).toBe(ErrorCode.StoreFenced);
        expect(await codeOf(store.claimParts({ bindId: 'never', epoch: 1 }, 'default', 1, 1))).toBe(
          ErrorCode.StoreFenced,
        );
        // The new owner got the claimed part back, and the one that may have gone out is unknown.
        const parts = [...(await store.listParts('q0')), ...(await store.listParts('q1'))];
        expect(parts.map((p) => p.state)).toEqual(['unknown', 'queued', 'queued', 'queued']);
      });

      it('after a crash, turns parts left sending into unknown and claimed ones into queued', async () => {
        await queueMessages(1);
        const [p0] = await store.claimParts(lease, 'default', 2, 30_000);
        await store.markPartSending(lease, p0!.id, 1);
        await store.close();

        const after = await open();
        const again = await after.acquireBindLease('b1', 'replica-a-restarted', 60_000);
        expect(again).toBeUndefined(); // the dead process's lease has not expired yet
        t += 60_000;
        const lease2 = await after.acquireBindLease('b1', 'replica-a-restarted', 60_000);
        expect(lease2?.epoch).toBe(2);
        expect(lease2?.recovered).toEqual(['q0']);
        const parts = await after.listParts('q0');
        expect(parts.map((p) => p.state)).toEqual(['unknown', 'queued']);
        expect(parts[0]?.error?.code).toBe('SEND_INTERRUPTED');
        expect((await after.claimParts(lease2!, 'default', 10, 30_000)).map((p) => p.index)).toEqual([1]);
      });

      it('takes many leases in one call: free, expired or its own, never one held by another; and recovers each', async () => {
        await queueMessages(1);
        const [p0] = await store.claimParts(lease, 'default', 2, 30_000);
        await store.markPartSending(lease, p0!.id, 1);
        await store.acquireBindLease('b2', 'replica-b', 60_000);
        await store.acquireBindLease('b3', 'replica-c', 10_000);
        await store.acquireBindLease('b4', 'replica-d', 60_000);
        t += 20_000; // b3 expired; b1 (replica-a) and b2, b4 still held
        const taken = await store.acquireBindLeases('replica-d', ['b5', 'b3', 'b2', 'b4', 'b5'], 60_000);
        expect(taken).toEqual([
          { bindId: 'b3', owner: 'replica-d', epoch: 2, expiresAt: t + 60_000 },
          { bindId: 'b4', owner: 'replica-d', epoch: 2, expiresAt: t + 60_000 },
          { bindId: 'b5', owner: 'replica-d', epoch: 1, expiresAt: t + 60_000 },
        ]);
        expect(await store.acquireBindLeases('replica-d', [], 60_000)).toEqual([]);
        // b1 expires: taken with its recovery, as acquireBindLease would.
        t += 60_000;
        const [b1] = await store.acquireBindLeases('replica-d', ['b1'], 60_000);
        expect(b1).toMatchObject({ bindId: 'b1', epoch: 2, recovered: ['q0'] });
        expect((await store.listParts('q0')).map((p) => p.state)).toEqual(['unknown', 'queued']);
        expect(await store.renewBindLease(lease, 60_000)).toBeUndefined();
      });
    });

    describe('receipts', () => {
      it('applies a receipt to the part with that SMSC id, whatever its spelling', async () => {
        const lease = (await store.acquireBindLease('b1', 'a', 60_000))!;
        await store.createMessage(message('m1'), onePart);
        const [part] = await store.claimParts(lease, 'default', 1, 30_000);
        await store.markPartSending(lease, part!.id, 1);
        await store.recordSubmitOutcome(lease, part!.id, { kind: 'accepted', smscMessageId: '00a1B2' });
        const updated = await store.recordReceipt({
          smscMessageId: 'A1b2\u0000',
          bindId: 'b2',
          stat: 'DELIVRD',
          err: '000',
          doneAt: t - 1000,
        });
        expect(updated).toMatchObject({
          id: part!.id,
          receiptStat: 'DELIVRD',
          receiptErr: '000',
          receiptDoneAt: t - 1000,
        });
        expect(
          await store.recordReceipt({ smscMessageId: 'ffff', bindId: 'b1', stat: 'DELIVRD' }),
        ).toBeUndefined();
      });

      it('keeps the first final receipt of a part: a later pending or final one does not replace it', async () => {
        const lease = (await store.acquireBindLease('b1', 'a', 60_000))!;
        await store.createMessage(message('m1'), onePart);
        const [part] = await store.claimParts(lease, 'default', 1, 30_000);
        await store.markPartSending(lease, part!.id, 1);
        await store.recordSubmitOutcome(lease, part!.id, { kind: 'accepted', smscMessageId: '77' });
        await store.recordReceipt({ smscMessageId: '77', bindId: 'b1', stat: 'ENROUTE' });
        expect((await store.listParts('m1'))[0]?.receiptStat).toBe('ENROUTE');
        await store.recordReceipt({ smscMessageId: '77', bindId: 'b1', stat: 'DELIVRD', err: '000' });
        const late = await store.recordReceipt({ smscMessageId: '77', bindId: 'b1', stat: 'ENROUTE' });
        expect(late).toMatchObject({ receiptStat: 'DELIVRD', receiptErr: '000' });
        await store.recordReceipt({ smscMessageId: '77', bindId: 'b1', stat: 'UNDELIV' });
        expect((await store.listParts('m1'))[0]?.receiptStat).toBe('DELIVRD');
      });

      it('parks a receipt that came first, for 10 minutes by default', async () => {
        const parked = await store.parkReceipt({ smscMessageId: '0042', bindId: 'b1', stat: 'DELIVRD' });
        expect(parked).toMatchObject({ smscMessageId: '42', receivedAt: t, expiresAt: t + 600_000 });
        await store.parkReceipt({ smscMessageId: '77', bindId: 'b1', stat: 'UNDELIV' }, 1_000);
        t += 1_000;
        expect(await store.takeParkedReceipts('77')).toEqual([]);
        const taken = await store.takeParkedReceipts('42');
        expect(taken.map((r) => r.stat)).toEqual(['DELIVRD']);
        expect(await store.takeParkedReceipts('42')).toEqual([]);
      });
    });

    describe('inbound messages', () => {
      const part = (index: number, payload = `p${index}`) => ({
        bindId: 'b1',
        groupKey: '447700900123|12345|7|3',
        index,
        total: 3,
        payload: Buffer.from(payload),
        dataCoding: 0,
      });

      it('collects parts in any order, ignores duplicates, and reports the complete group', async () => {
        expect(await store.addInboundPart(part(2))).toEqual({ complete: false, received: 1, total: 3 });
        expect(await store.addInboundPart(part(0))).toEqual({ complete: false, received: 2, total: 3 });
        expect(await store.addInboundPart(part(0, 'dup'))).toEqual({
          complete: false,
          received: 2,
          total: 3,
        });
        const done = await store.addInboundPart(part(1));
        expect(done.complete).toBe(true);
        if (!done.complete) return;
        expect(done.parts.map((p) => [p.index, p.payload.toString()])).toEqual([
          [0, 'p0'],
          [1, 'p1'],
          [2, 'p2'],
        ]);
      });

      it('stores the reassembled message and drops its parts in one transaction', async () => {
        await store.addInboundPart(part(0));
        const record = await store.createInboundMessage(
          {
            id: 'mo1',
            bindId: 'b1',
            from: '447700900123',
            to: '12345',
            encoding: 'gsm7',
            body: Buffer.from('p0p1p2'),
            partsCount: 3,
            metadata: { reference: 7 },
          },
          part(0).groupKey,
        );
        expect(await store.getInboundMessage('mo1')).toEqual(record);
        expect(await store.addInboundPart(part(1))).toEqual({ complete: false, received: 1, total: 3 });
        expect(await store.getInboundMessage('nope')).toBeUndefined();
      });

      const mo = (id: string, overrides: Partial<NewInboundMessage> = {}): NewInboundMessage => ({
        id,
        bindId: 'b1',
        from: '447700900123',
        to: '12345',
        encoding: 'gsm7',
        body: Buffer.from(`hello ${id}`),
        partsCount: 1,
        ...overrides,
      });

      it('keeps the route, data coding and incompleteness of a message (defaults: none, 0, false)', async () => {
        const full = await store.createInboundMessage(
          mo('mo-full', { route: 'r1', dataCoding: 8, incomplete: true, partsCount: 3 }),
        );
        expect(full).toMatchObject({ route: 'r1', dataCoding: 8, incomplete: true, partsCount: 3 });
        expect(await store.getInboundMessage('mo-full')).toEqual(full);
        const plain = await store.createInboundMessage(mo('mo-plain'));
        expect(plain).toMatchObject({ route: null, dataCoding: 0, incomplete: false });
        expect(await store.getInboundMessage('mo-plain')).toEqual(plain);
      });

      it('pages messages oldest first by cursor, and filters by time, bind and sender', async () => {
        for (const [i, bindId, from] of [
          [0, 'b1', 'A'],
          [1, 'b2', 'B'],
          [2, 'b1', 'A'],
          [3, 'b1', 'B'],
        ] as const) {
          await store.createInboundMessage(mo(`mo${i}`, { bindId, from }));
          if (i !== 2) t += 1_000; // mo2 and mo3 share a millisecond: the id breaks the tie
        }
        const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
        const first = await store.listInboundMessages({ limit: 2 });
        expect(ids(first)).toEqual(['mo0', 'mo1']);
        const last = first.at(-1)!;
        const second = await store.listInboundMessages({
          limit: 2,
          after: { receivedAt: last.receivedAt, id: last.id },
        });
        expect(ids(second)).toEqual(['mo2', 'mo3']);
        const end = second.at(-1)!;
        expect(await store.listInboundMessages({ limit: 2, after: end })).toEqual([]);
        expect(ids(await store.listInboundMessages({ limit: 10, bindId: 'b1' }))).toEqual([
          'mo0',
          'mo2',
          'mo3',
        ]);
        expect(ids(await store.listInboundMessages({ limit: 10, from: 'B' }))).toEqual(['mo1', 'mo3']);
        expect(ids(await store.listInboundMessages({ limit: 10, since: end.receivedAt }))).toEqual([
          'mo2',
          'mo3',
        ]);
      });

      it('lists the groups waiting longer than a cutoff, with their parts, oldest first', async () => {
        const other = { ...part(0), groupKey: 'other', total: 2 };
        await store.addInboundPart(other);
        t += 1_000;
        await store.addInboundPart(part(2));
        t += 1_000;
        await store.addInboundPart(part(0));
        expect(await store.listStaleInboundGroups(t - 1_000, 10)).toEqual([
          expect.objectContaining({ groupKey: 'other', firstReceivedAt: t - 2_000 }),
        ]);
        const stale = await store.transaction((tx) => tx.listStaleInboundGroups(t + 1, 10));
        expect(stale.map((g) => [g.groupKey, g.firstReceivedAt, g.parts.map((p) => p.index)])).toEqual([
          ['other', t - 2_000, [0]],
          [part(0).groupKey, t - 1_000, [0, 2]],
        ]);
        expect(await store.listStaleInboundGroups(t + 1, 1)).toHaveLength(1);
      });

      it('recognises a fingerprint within its window only, and forgets it when its transaction fails', async () => {
        expect(await store.recordInboundFingerprint('fp1', 60_000)).toBe(true);
        t += 59_999;
        expect(await store.recordInboundFingerprint('fp1', 60_000)).toBe(false);
        t += 1;
        expect(await store.recordInboundFingerprint('fp1', 60_000)).toBe(true);
        const failing = store.transaction(async (tx) => {
          expect(await tx.recordInboundFingerprint('fp2', 60_000)).toBe(true);
          throw new Error('the part could not be stored');
        });
        await expect(failing).rejects.toThrow('the part could not be stored');
        expect(await store.recordInboundFingerprint('fp2', 60_000)).toBe(true);
      });

      it('never takes an MO for a redelivery of another whose digest shares its key: both stored, the newer one remembered', async () => {
        // The key is the digest's first 8 bytes (src/store/fingerprint-key.ts): a collision is made here.
        const a = `0123456789abcdef${'a'.repeat(48)}`;
        const b = `0123456789abcdef${'b'.repeat(48)}`;
        expect(await store.recordInboundFingerprint(a, 60_000)).toBe(true);
        expect(await store.recordInboundFingerprint(b, 60_000)).toBe(true);
        expect(await store.recordInboundFingerprint(b, 60_000)).toBe(false);
        // a's key was taken over: its redelivery is delivered again (at least once), never dropped.
        expect(await store.recordInboundFingerprint(a, 60_000)).toBe(true);
        expect(await store.recordInboundFingerprint(a, 60_000)).toBe(false);
        // A key with the top bit set (negative as int64) is a key like any other.
        const high = 'f'.repeat(64);
        expect(await store.recordInboundFingerprint(high, 60_000)).toBe(true);
        expect(await store.recordInboundFingerprint(high, 60_000)).toBe(false);
        expect(await store.recordInboundFingerprint(a, 60_000)).toBe(false);
      });

      it('remembers fingerprints across a reopen', async () => {
        expect(await store.recordInboundFingerprint('fp1', 60_000)).toBe(true);
        await store.close();
        store = await open();
        expect(await store.recordInboundFingerprint('fp1', 60_000)).toBe(false);
      });
    });

    describe('webhook outbox', () => {
      const hook = (messageId: string | null, type: string) => ({
        messageId,
        endpoint: 'https://example.test/hook',
        type,
        payload: { type, messageId },
      });

      it('an event claimed at enqueue is handed over after the commit: nobody claims it before its claim ends', async () => {
        const handed: string[] = [];
        const e = await store.transaction(async (tx) => {
          const event = await tx.enqueueWebhook({ ...hook(null, 'message.received'), claimForMs: 30_000 });
          tx.afterCommit(() => handed.push(event.eventId));
          // Not before the commit.
          expect(handed).toEqual([]);
          return event;
        });
        expect(handed).toEqual([e.eventId]);
        expect(e).toMatchObject({ state: 'pending', claimedUntil: t + 30_000 });
        expect(await store.claimWebhooks(10, 30_000)).toEqual([]);
        const delivered = await store.recordWebhookOutcome(e.eventId, { kind: 'delivered' });
        expect(delivered.state).toBe('delivered');

        // Crashed before its outcome: it comes back once the claim ran out.
        const lost = await store.enqueueWebhook({ ...hook(null, 'message.received'), claimForMs: 30_000 });
        t += 30_000;
        expect((await store.claimWebhooks(10, 30_000)).map((w) => w.eventId)).toEqual([lost.eventId]);
      });

      it('gives the sender the payload as the JSON text stored (the body it posts), at enqueue and at a claim', async () => {
        const enqueued = await store.enqueueWebhook({
          ...hook(null, 'message.received'),
          payload: { type: 'message.received', data: { text: 'é "quoted"', n: 1 } },
        });
        expect(enqueued.body).toBe('{"type":"message.received","data":{"text":"é \\"quoted\\"","n":1}}');
        const [claimed] = await store.claimWebhooks(10, 30_000);
        expect(claimed?.body).toBe(enqueued.body);
        expect(claimed?.payload).toEqual({ type: 'message.received', data: { text: 'é "quoted"', n: 1 } });
        expect((await store.getWebhook(enqueued.eventId))?.payload).toEqual(claimed?.payload);
      });

      it('a rolled-back transaction runs no afterCommit work and leaves no event', async () => {
        const handed: string[] = [];
        await expect(
          store.transaction(async (tx) => {
            const event = await tx.enqueueWebhook({ ...hook(null, 'message.received'), claimForMs: 30_000 });
            tx.afterCommit(() => handed.push(event.eventId));
            throw new Error('spoiled');
          }),
        ).rejects.toThrow('spoiled');
        expect(handed).toEqual([]);
        t += 60_000;
        expect(await store.claimWebhooks(10, 30_000)).toEqual([]);
      });

      it('records many deliveries in one call, and names the events that were not pending', async () => {
        const a = await store.enqueueWebhook(hook(null, 'message.received'));
        const b = await store.enqueueWebhook(hook('B', 'message.sent'));
        const c = await store.enqueueWebhook(hook(null, 'message.received'));
        await store.claimWebhooks(10, 30_000);
        await store.recordWebhookOutcome(c.eventId, { kind: 'dead', error: 'HTTP 404' });
        expect(await store.recordWebhooksDelivered([a.eventId, b.eventId, c.eventId, 'evt_nope'])).toEqual([
          c.eventId,
          'evt_nope',
        ]);
        for (const e of [a, b]) {
          expect(await store.getWebhook(e.eventId)).toMatchObject({
            state: 'delivered',
            attempts: 1,
            claimedUntil: null,
            lastError: null,
          });
        }
        expect((await store.getWebhook(c.eventId))?.state).toBe('dead');
        expect(await store.recordWebhooksDelivered([])).toEqual([]);
      });

      it('keeps the event id across retries', async () => {
        const e = await store.enqueueWebhook({ ...hook('m1', 'message.sent'), eventId: 'evt_fixed' });
        expect(e).toMatchObject({ eventId: 'evt_fixed', state: 'pending', attempts: 0, nextAttemptAt: t });
        const generated = await store.enqueueWebhook(hook('m2', 'message.sent'));
        expect(generated.eventId).toMatch(/^evt_/);
        await store.claimWebhooks(10, 30_000);
        const retried = await store.recordWebhookOutcome('evt_fixed', {
          kind: 'retry',
          retryAt: t + 5_000,
          error: 'HTTP 503',
        });
        expect(retried).toMatchObject({
          eventId: 'evt_fixed',
          attempts: 1,
          nextAttemptAt: t + 5_000,
          lastError: 'HTTP 503',
        });
        t += 5_000;
        const [again] = await store.claimWebhooks(10, 30_000);
        expect(again?.eventId).toBe('evt_fixed');
        expect(again?.payload).toEqual({ type: 'message.sent', messageId: 'm1' });
      });

      it("delivers a message's events in order: the next only after the previous is delivered or dead", async () => {
        const a1 = await store.enqueueWebhook(hook('A', 'message.sent'));
        const b1 = await store.enqueueWebhook(hook('B', 'message.sent'));
        const a2 = await store.enqueueWebhook(hook('A', 'message.delivered'));
        const a3 = await store.enqueueWebhook(hook('A', 'message.expired'));
        const free = await store.enqueueWebhook(hook(null, 'inbound'));

        const first = await store.claimWebhooks(10, 30_000);
        expect(first.map((e) => e.eventId)).toEqual([a1.eventId, b1.eventId, free.eventId]);
        await store.recordWebhookOutcome(a1.eventId, { kind: 'retry', retryAt: t + 1_000, error: 'timeout' });
        t += 1_000;
        // a1 is pending again: a2 still waits behind it.
        expect((await store.claimWebhooks(10, 30_000)).map((e) => e.eventId)).toEqual([a1.eventId]);
        await store.recordWebhookOutcome(a1.eventId, { kind: 'delivered' });
        expect((await store.claimWebhooks(10, 30_000)).map((e) => e.eventId)).toEqual([a2.eventId]);
        await store.recordWebhookOutcome(a2.eventId, { kind: 'dead', error: '410 Gone' });
        expect((await store.claimWebhooks(10, 30_000)).map((e) => e.eventId)).toEqual([a3.eventId]);
        expect((await store.getWebhook(a2.eventId))?.state).toBe('dead');
        expect(await codeOf(store.recordWebhookOutcome(a1.eventId, { kind: 'delivered' }))).toBe(
          ErrorCode.StoreConflict,
        );
        expect(await codeOf(store.recordWebhookOutcome('nope', { kind: 'delivered' }))).toBe(
          ErrorCode.StoreNotFound,
        );
      });

      it('hands a claimed event out again after its visibility timeout', async () => {
        const e = await store.enqueueWebhook(hook('m1', 'message.sent'));
        expect(await store.claimWebhooks(10, 30_000)).toHaveLength(1);
        t += 29_999;
        expect(await store.claimWebhooks(10, 30_000)).toEqual([]);
        t += 1;
        expect((await store.claimWebhooks(10, 30_000)).map((x) => x.eventId)).toEqual([e.eventId]);
      });

      it('does not hand out an event before its next attempt time', async () => {
        await store.enqueueWebhook({ ...hook('m1', 'message.sent'), nextAttemptAt: t + 10 });
        expect(await store.claimWebhooks(10, 30_000)).toEqual([]);
        t += 10;
        expect(await store.claimWebhooks(10, 30_000)).toHaveLength(1);
      });

      it('claims one endpoint at a time, and orders a message per endpoint only', async () => {
        const to = (endpoint: string, messageId: string, type: string) =>
          store.enqueueWebhook({ ...hook(messageId, type), endpoint });
        const a1 = await to('a', 'M', 'message.submitted');
        const b1 = await to('b', 'M', 'message.submitted');
        const a2 = await to('a', 'M', 'message.delivered');
        const b2 = await to('b', 'M', 'message.delivered');
        const cb = await to('callback:https://x.test/1', 'N', 'message.submitted');
        // a is down: its first event stays pending; b's events are not held back by it.
        expect((await store.claimWebhooks(10, 30_000, { endpoint: 'a' })).map((e) => e.eventId)).toEqual([
          a1.eventId,
        ]);
        await store.recordWebhookOutcome(a1.eventId, {
          kind: 'retry',
          retryAt: t + 60_000,
          error: 'HTTP 503',
        });
        expect((await store.claimWebhooks(10, 30_000, { endpoint: 'b' })).map((e) => e.eventId)).toEqual([
          b1.eventId,
        ]);
        await store.recordWebhookOutcome(b1.eventId, { kind: 'delivered' });
        expect((await store.claimWebhooks(10, 30_000, { endpoint: 'b' })).map((e) => e.eventId)).toEqual([
          b2.eventId,
        ]);
        expect(await store.claimWebhooks(10, 30_000, { endpoint: 'a' })).toEqual([]);
        expect(
          (await store.claimWebhooks(10, 30_000, { endpointPrefix: 'callback:' })).map((e) => e.eventId),
        ).toEqual([cb.eventId]);
        expect(a2.state).toBe('pending');
      });

      it('lists events by state and endpoint a page at a time, and retries a dead one afresh', async () => {
        const events = [];
        for (let i = 0; i < 5; i++) {
          events.push(await store.enqueueWebhook({ ...hook(`m${i}`, 'message.submitted'), endpoint: 'e' }));
        }
        const other = await store.enqueueWebhook({ ...hook('x', 'message.submitted'), endpoint: 'f' });
        await store.claimWebhooks(10, 30_000);
        await store.recordWebhookOutcome(events[0]!.eventId, { kind: 'dead', error: 'HTTP 404' });
        await store.recordWebhookOutcome(events[1]!.eventId, {
          kind: 'retry',
          retryAt: t + 5_000,
          error: 'HTTP 500',
        });
        await store.recordWebhookOutcome(events[2]!.eventId, { kind: 'delivered' });

        const page1 = await store.listWebhooks({ endpoint: 'e', limit: 2 });
        expect(page1.events.map((e) => e.eventId)).toEqual([events[0]!.eventId, events[1]!.eventId]);
        const page2 = await store.listWebhooks({ endpoint: 'e', limit: 2, after: page1.next as string });
        const page3 = await store.listWebhooks({ endpoint: 'e', limit: 2, after: page2.next as string });
        expect([...page2.events, ...page3.events].map((e) => e.eventId)).toEqual(
          events.slice(2).map((e) => e.eventId),
        );
        expect(page3.next).toBeNull();
        expect((await store.listWebhooks({ state: 'dead', limit: 10 })).events.map((e) => e.eventId)).toEqual(
          [events[0]!.eventId],
        );
        expect(
          (await store.listWebhooks({ state: 'failed', limit: 10 })).events.map((e) => e.eventId),
        ).toEqual([events[1]!.eventId]);
        expect((await store.listWebhooks({ state: 'pending', limit: 10 })).events).toHaveLength(4);
        expect((await store.listWebhooks({ endpoint: 'f', limit: 10 })).events[0]?.eventId).toBe(
          other.eventId,
        );
        // Every combination of state and endpoint (each takes its own index).
        const ids = async (q: Omit<Parameters<Store['listWebhooks']>[0], 'limit'>) =>
          (await store.listWebhooks({ ...q, limit: 10 })).events.map((e) => e.eventId);
        expect(await ids({ state: 'dead', endpoint: 'e' })).toEqual([events[0]!.eventId]);
        expect(await ids({ state: 'dead', endpoint: 'f' })).toEqual([]);
        expect(await ids({ state: 'failed', endpoint: 'e' })).toEqual([events[1]!.eventId]);
        expect(await ids({ state: 'pending', endpoint: 'f' })).toEqual([other.eventId]);
        expect(await ids({ state: 'delivered' })).toEqual([events[2]!.eventId]);
        expect(await ids({ state: 'delivered', endpoint: 'e' })).toEqual([events[2]!.eventId]);
        expect(await ids({ state: 'delivered', endpoint: 'f' })).toEqual([]);
        expect(await ids({})).toEqual([...events, other].map((e) => e.eventId));

        t += 1_000;
        const retried = await store.retryWebhook(events[0]!.eventId);
        expect(retried).toMatchObject({
          state: 'pending',
          attempts: 0,
          nextAttemptAt: t,
          lastError: 'HTTP 404',
        });
        expect((await store.claimWebhooks(10, 30_000, { endpoint: 'e' })).map((e) => e.eventId)).toEqual([
          events[0]!.eventId,
        ]);
        expect(await codeOf(store.retryWebhook(events[2]!.eventId))).toBe(ErrorCode.StoreConflict);
        expect(await codeOf(store.retryWebhook('nope'))).toBe(ErrorCode.StoreNotFound);
      });

      it('counts pending events per endpoint with the age of the oldest', async () => {
        const first = t;
        await store.enqueueWebhook({ ...hook('m1', 'a'), endpoint: 'e' });
        t += 500;
        const done = await store.enqueueWebhook({ ...hook('m2', 'a'), endpoint: 'e' });
        await store.enqueueWebhook({ ...hook('m3', 'a'), endpoint: 'f' });
        await store.recordWebhookOutcome(done.eventId, { kind: 'delivered' });
        expect(await store.webhookBacklog()).toEqual([
          { endpoint: 'e', pending: 1, oldestPendingAt: first },
          { endpoint: 'f', pending: 1, oldestPendingAt: first + 500 },
        ]);
      });

      it('keeps an endpoint disabled until enabled again', async () => {
        expect(await store.listDisabledWebhookEndpoints()).toEqual([]);
        await store.setWebhookEndpointDisabled('crm', 'the endpoint answered 410 Gone');
        await store.setWebhookEndpointDisabled('crm', 'again');
        expect(await store.listDisabledWebhookEndpoints()).toEqual([
          { endpoint: 'crm', disabledAt: t, reason: 'again' },
        ]);
        await store.setWebhookEndpointDisabled('crm', null);
        expect(await store.listDisabledWebhookEndpoints()).toEqual([]);
      });
    });

    describe('bind definitions', () => {
      const definition = (port: number) => ({
        id: 'api-1',
        host: 'smsc.example',
        port,
        systemId: 'acme',
        password: 'secret1',
      });

      it('creates, replaces and deletes a definition, counting versions', async () => {
        expect(await store.listBindDefinitions()).toEqual([]);
        const created = await store.putBindDefinition(
          { id: 'api-1', definition: definition(2775), enabled: true },
          null,
        );
        expect(created).toEqual({
          id: 'api-1',
          definition: definition(2775),
          enabled: true,
          version: 1,
          createdAt: t,
          updatedAt: t,
        });
        t += 1_000;
        const replaced = await store.putBindDefinition(
          { id: 'api-1', definition: definition(2776), enabled: false },
          1,
        );
        expect(replaced).toMatchObject({ version: 2, enabled: false, createdAt: t - 1_000, updatedAt: t });
        expect(await store.getBindDefinition('api-1')).toEqual(replaced);
        expect(await store.listBindDefinitions()).toEqual([replaced]);
        expect(await store.deleteBindDefinition('api-1')).toBe(true);
        expect(await store.deleteBindDefinition('api-1')).toBe(false);
        expect(await store.getBindDefinition('api-1')).toBeUndefined();
      });

      it('refuses a create of a taken id and a replace of a version that moved on', async () => {
        await store.putBindDefinition({ id: 'api-1', definition: definition(1), enabled: true }, null);
        const conflict = ErrorCode.StoreConflict;
        expect(
          await codeOf(
            store.putBindDefinition({ id: 'api-1', definition: definition(2), enabled: true }, null),
          ),
        ).toBe(conflict);
        await store.putBindDefinition({ id: 'api-1', definition: definition(3), enabled: true }, 1);
        // A writer that read version 1 lost the race.
        expect(
          await codeOf(store.putBindDefinition({ id: 'api-1', definition: definition(4), enabled: true }, 1)),
        ).toBe(conflict);
        expect(
          await codeOf(store.putBindDefinition({ id: 'nope', definition: definition(4), enabled: true }, 1)),
        ).toBe(conflict);
        expect((await store.getBindDefinition('api-1'))?.definition).toEqual(definition(3));
      });

      it('keeps definitions across a reopen, listed by id', async () => {
        await store.putBindDefinition({ id: 'b', definition: { id: 'b', port: 2 }, enabled: true }, null);
        await store.putBindDefinition({ id: 'a', definition: { id: 'a', port: 1 }, enabled: false }, null);
        await store.close();
        store = await open();
        expect((await store.listBindDefinitions()).map((d) => [d.id, d.enabled, d.definition])).toEqual([
          ['a', false, { id: 'a', port: 1 }],
          ['b', true, { id: 'b', port: 2 }],
        ]);
      });
    });

    describe('prune', () => {
      it('removes what is finished and older than the retention, and keeps the rest', async () => {
        await store.createMessage(message('old-delivered'), onePart);
        await store.appendMessageEvent('old-delivered', 'delivered', {});
        await store.updateMessage('old-delivered', { status: 'delivered' });
        await store.createMessage(message('old-queued'), onePart);
        await store.beginIdempotency('k-old', 'h', DAY_MS);
        await store.parkReceipt({ smscMessageId: '1', bindId: 'b1', stat: 'DELIVRD' });
        const hookDone = await store.enqueueWebhook({
          messageId: 'old-delivered',
          endpoint: 'e',
          type: 't',
          payload: {},
        });
        const hookPending = await store.enqueueWebhook({
          messageId: 'x',
          endpoint: 'e',
          type: 't',
          payload: {},
        });
        await store.recordWebhookOutcome(hookDone.eventId, { kind: 'delivered' });
        await store.addInboundPart({
          bindId: 'b1',
          groupKey: 'g',
          index: 0,
          total: 2,
          payload: Buffer.from('x'),
          dataCoding: 0,
        });
        await store.recordInboundFingerprint('fp-old', 60_000);

        t += RETENTION_DAYS * DAY_MS;
        await store.createMessage(message('new-delivered'), onePart);
        await store.updateMessage('new-delivered', { status: 'delivered' });

        const result = await store.prune(t + 1);
        expect(result).toEqual({
          messages: 1,
          idempotencyKeys: 1,
          parkedReceipts: 1,
          inboundMessages: 0,
          inboundParts: 1,
          inboundFingerprints: 1,
          webhooks: 1,
        });
        expect(await store.getMessage('old-delivered')).toBeUndefined();
        expect(await store.listParts('old-delivered')).toEqual([]);
        expect(await store.listMessageEvents('old-delivered')).toEqual([]);
        expect(await store.getMessage('old-queued')).toBeDefined();
        expect(await store.getMessage('new-delivered')).toBeDefined();
        expect(await store.getWebhook(hookDone.eventId)).toBeUndefined();
        expect(await store.getWebhook(hookPending.eventId)).toBeDefined();
        expect(await store.prune(t + 1)).toMatchObject({ messages: 0, webhooks: 0 });
      });

      it('prunes more than one batch', async () => {
        const writes = [];
        for (let i = 0; i < 450; i++) {
          writes.push(
            store.transaction(async (tx) => {
              await tx.createMessage(message(`p${i}`), onePart);
              await tx.updateMessage(`p${i}`, { status: 'failed' });
            }),
          );
        }
        await Promise.all(writes);
        expect((await store.prune(t + RETENTION_DAYS * DAY_MS + 1)).messages).toBe(450);
      });
    });
  });
}
