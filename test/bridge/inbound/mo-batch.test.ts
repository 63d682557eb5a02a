// The MO of one event-loop turn share one unit of work (one commit), and each is still answered only
// once stored; one MO the store refuses fails alone, and leaves no fingerprint behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MoBatcher } from '../../../src/bridge/inbound/mo-batch.js';
import type { MoArrival } from '../../../src/bridge/inbound/store-mo.js';
import type { InboundEventSink, ReceivedMessage } from '../../../src/bridge/ports.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import type { StoreTx } from '../../../src/store/store.js';
import { createTimeOrderedIdGenerator } from '../../../src/store/time-ordered-id.js';

class Events implements InboundEventSink {
  readonly received: ReceivedMessage[] = [];
  /** A message whose text is this makes the sink throw (the store refuses it). */
  poison: string | null = null;
  async onMessageReceived(tx: StoreTx, received: ReceivedMessage): Promise<void> {
    if (received.text === this.poison) throw new Error('refused');
    await tx.enqueueWebhook({
      messageId: null,
      endpoint: 'test',
      type: 'message.received',
      payload: { id: received.message.id },
    });
    this.received.push(received);
  }
}

const arrival = (text: string, fingerprint = `fp-${text}`): MoArrival => ({
  bindId: 'b1',
  route: null,
  from: '4917000001',
  to: '12345',
  part: { total: 1, seq: 1, dataCoding: 0, payload: Buffer.from(text, 'latin1') },
  fingerprint,
});

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function world(maxBatch?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-mo-batch-'));
  dirs.push(dir);
  const store = new SqliteStore({ path: join(dir, 'bridge.db') });
  const events = new Events();
  const batcher = new MoBatcher(
    { store, events, dedupWindowMs: 600_000, newId: createTimeOrderedIdGenerator() },
    maxBatch,
  );
  closers.push(async () => {
    await batcher.close();
    await store.close();
  });
  return { store, events, batcher };
}

describe('MoBatcher', () => {
  it('stores the MO of one turn in one commit, each answered only once its message is readable', async () => {
    const { store, events, batcher } = world();
    const before = store.stats();
    const texts = Array.from({ length: 50 }, (_, i) => `hello ${i}`);
    const outcomes = await Promise.all(
      texts.map((t) =>
        batcher.store(arrival(t)).then(async (outcome) => {
          // Answered: committed, so the reader connection sees it.
          const id = events.received.find((r) => r.text === t)?.message.id as string;
          expect(await store.getInboundMessage(id)).toMatchObject({ from: '4917000001' });
          return outcome;
        }),
      ),
    );
    expect(outcomes).toEqual(texts.map(() => 'delivered'));
    expect(events.received.map((r) => r.text)).toEqual(texts);
    const after = store.stats();
    expect(after.commits - before.commits).toBe(1);
    expect(after.units - before.units).toBe(1);
  });

  it('splits a turn into units of at most maxBatch MO', async () => {
    const { store, batcher } = world(8);
    const before = store.stats().units;
    await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.store(arrival(`m${i}`))));
    expect(store.stats().units - before).toBe(3);
  });

  it('fails only the MO the store refuses, and keeps no fingerprint of it', async () => {
    const { store, events, batcher } = world();
    events.poison = 'bad';
    const results = await Promise.allSettled([
      batcher.store(arrival('a')),
      batcher.store(arrival('bad')),
      batcher.store(arrival('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(batcher.stats.fallbacks).toBe(1);
    const stored = async () =>
      (await store.listInboundMessages({ limit: 10 })).map((m) => m.body.toString('latin1'));
    expect(await stored()).toEqual(['a', 'c']);
    // The SMSC redelivers the refused one: it is new (its fingerprint went with the failed unit).
    events.poison = null;
    await expect(batcher.store(arrival('bad'))).resolves.toBe('delivered');
    expect(await stored()).toEqual(['a', 'c', 'bad']);
  });

  it('recognises a redelivery within the same turn: one message, both answered', async () => {
    const { events, batcher } = world();
    const outcomes = await Promise.all([
      batcher.store(arrival('same', 'fp-1')),
      batcher.store(arrival('same', 'fp-1')),
    ]);
    expect(outcomes).toEqual(['delivered', 'duplicate']);
    expect(events.received).toHaveLength(1);
  });

  it('close() waits for what is pending, then refuses', async () => {
    const { events, batcher } = world();
    const pending = batcher.store(arrival('last'));
    await batcher.close();
    await expect(pending).resolves.toBe('delivered');
    expect(events.received).toHaveLength(1);
    await expect(batcher.store(arrival('late'))).rejects.toMatchObject({ code: expect.any(String) });
  });
});
