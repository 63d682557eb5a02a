/**
 * The statuses the outbound engine produces, end to end: real simulator over loopback, real
 * SqliteStore, receipts through the engine's ReceiptSink.
 */
import { describe, expect, it } from 'vitest';
import type { MessageStatusChange } from '../../../src/bridge/ports.js';
import { CommandStatus } from '../../../src/protocol/command-status.js';
import type { Pdu } from '../../../src/protocol/pdu.js';
import { cleanMessageId, type Receipt } from '../../../src/protocol/receipt.js';
import { eventually, type Harness, harnessPerTest } from './harness.js';

const harness = harnessPerTest();

function receipt(id: string, stat: Receipt['stat'], final = true): Receipt {
  return { id, stat, statRaw: stat, messageState: 0, final, success: stat === 'DELIVRD', source: 'text' };
}

async function statusEvents(h: Harness, id: string): Promise<string[]> {
  const events = await h.store.listMessageEvents(id);
  return events.filter((e) => e.type === 'status').map((e) => (e.data as { status: string }).status);
}

describe('outbound engine: message lifecycle', () => {
  it('submits a message, then the receipt makes it delivered; the sink hears each change in order', async () => {
    const changes: MessageStatusChange[] = [];
    const h = await harness({
      sink: {
        onStatusChanged: async (_tx, change) => {
          changes.push(change);
        },
      },
    });
    const published: string[] = [];
    h.engine.onStatusChange((c) => published.push(c.status));
    const simIds: string[] = [];
    h.sim.sim.on('submit', ({ messageId }) => simIds.push(messageId));
    await h.send('m1');
    const done = await h.until('m1', 'delivered');
    expect(done.error).toBeNull();
    const [part] = await h.parts('m1');
    expect(part).toMatchObject({ state: 'submitted', bindId: 'b1', submitStatus: 0, receiptStat: 'DELIVRD' });
    // The SMSC's id, stored in its canonical form (trimmed, lower case, no leading zeros).
    expect(simIds.map(cleanMessageId)).toEqual([part!.smscMessageId]);
    expect(await statusEvents(h, 'm1')).toEqual(['submitted', 'delivered']);
    expect(changes.map((c) => [c.previous, c.status, c.sequence])).toEqual([
      ['queued', 'submitted', 1],
      ['submitted', 'delivered', 3],
    ]);
    expect(published).toEqual(['submitted', 'delivered']);
    expect(h.engine.counters.receiptsMatched).toBe(1);
  });

  it('sends every part of a long message on one bind, in order, each asking for a receipt', async () => {
    const h = await harness({ binds: 2 });
    const submits: Pdu[] = [];
    h.sim.sim.on('submit', ({ pdu }) => submits.push(pdu));
    for (let i = 0; i < 4; i++) await h.send(`long${i}`, 3);
    for (let i = 0; i < 4; i++) await h.until(`long${i}`, 'delivered');
    for (let i = 0; i < 4; i++) {
      const parts = await h.parts(`long${i}`);
      expect(new Set(parts.map((p) => p.bindId)).size).toBe(1);
      expect(parts.every((p) => p.receiptStat === 'DELIVRD')).toBe(true);
    }
    expect(submits).toHaveLength(12);
    for (const pdu of submits) {
      const p = pdu as Pdu & { registered_delivery: number; esm_class: number };
      expect(p.registered_delivery).toBe(1);
      expect(p.esm_class & 0x40).toBe(0x40);
    }
    for (let i = 0; i < 4; i++) {
      const order = submits
        .map((p) => (p as unknown as { short_message: Buffer }).short_message.toString())
        .filter((s) => s.startsWith(`long${i}.`));
      expect(order).toEqual([`long${i}.0`, `long${i}.1`, `long${i}.2`]);
    }
  });

  it('is rejected with the SMPP status when the SMSC refuses the message permanently', async () => {
    const h = await harness();
    h.sim.sim.setFault({
      kind: 'error_status',
      status: CommandStatus.ESME_RINVDSTADR,
      commands: ['submit_sm'],
    });
    await h.send('bad');
    const m = await h.until('bad', 'rejected');
    expect(m.error?.code).toBe('SMSC_REJECTED');
    expect(m.error?.message).toContain('ESME_RINVDSTADR');
    const events = await h.store.listMessageEvents('bad');
    expect(events.at(-1)?.data).toMatchObject({
      status: 'rejected',
      error: { smppStatus: CommandStatus.ESME_RINVDSTADR, permanent: true },
    });
    expect((await h.parts('bad'))[0]).toMatchObject({ state: 'rejected', attempts: 1 });
  });

  it('retries a temporary error a bounded number of times, then fails RETRIES_EXHAUSTED', async () => {
    const h = await harness({
      options: { retry: { maxAttempts: 2, retryInitialDelayMs: 20, retryMaxDelayMs: 40 } },
    });
    h.sim.sim.setFault({ kind: 'error_status', status: CommandStatus.ESME_RSYSERR, commands: ['submit_sm'] });
    await h.send('tmp');
    const m = await h.until('tmp', 'failed');
    expect(m.error?.code).toBe('RETRIES_EXHAUSTED');
    expect((await h.parts('tmp'))[0]!.attempts).toBe(2);
  });

  it('is undelivered when the receipt says UNDELIV', async () => {
    const h = await harness({
      sim: { receipts: { delayMs: 20, rules: [{ destination: '447700900666', finalState: 'UNDELIV' }] } },
    });
    await h.send('u', 2, { to: '447700900666' });
    await h.until('u', 'undelivered');
  });

  it('moves through delivery_pending; a receipt after the final status is an event only', async () => {
    const h = await harness({ sim: { receipts: { delayMs: 600_000 } } });
    await h.send('p');
    await h.until('p', 'submitted');
    const [part] = await h.parts('p');
    const id = part!.smscMessageId!;
    await h.engine.receipts.onReceipt({
      bindId: 'b1',
      receipt: receipt(id, 'ENROUTE', false),
      receivedAt: 0,
    });
    expect((await h.message('p')).status).toBe('delivery_pending');
    await h.engine.receipts.onReceipt({
      bindId: 'b1',
      receipt: receipt(id.toUpperCase(), 'DELIVRD'),
      receivedAt: 0,
    });
    expect((await h.message('p')).status).toBe('delivered');
    await h.engine.receipts.onReceipt({ bindId: 'b1', receipt: receipt(id, 'UNDELIV'), receivedAt: 0 });
    expect((await h.message('p')).status).toBe('delivered');
    expect(await statusEvents(h, 'p')).toEqual(['submitted', 'delivery_pending', 'delivered']);
    const types = (await h.store.listMessageEvents('p')).map((e) => e.type);
    expect(types.filter((t) => t === 'receipt')).toHaveLength(3);
  });

  it('a response that never comes: the part is unknown, the message failed RESPONSE_TIMEOUT, never resent', async () => {
    const h = await harness({ bind: { responseTimeoutMs: 300 } });
    await h.bound();
    h.sim.sim.setFault({ kind: 'blackhole' });
    await h.send('lost');
    const m = await h.until('lost', 'failed');
    expect(m.error?.code).toBe('RESPONSE_TIMEOUT');
    expect((await h.parts('lost'))[0]).toMatchObject({ state: 'unknown', attempts: 1 });
    await new Promise((r) => setTimeout(r, 500));
    expect(h.sim.sim.counters().in.submit_sm ?? 0).toBe(1);
  });

  it('a route that opts in resubmits after a response timeout', async () => {
    const h = await harness({
      bind: { responseTimeoutMs: 300 },
      routes: [{ id: 'default', binds: ['b1'], resubmitOnTimeout: true }],
      options: { retry: { retryInitialDelayMs: 10, retryMaxDelayMs: 20 } },
    });
    await h.bound();
    h.sim.sim.setFault({ kind: 'blackhole' });
    await h.send('again');
    await eventually(async () => (h.sim.sim.counters().in.submit_sm ?? 0) >= 1, 5_000, 'the first send');
    h.sim.sim.clearFault();
    await h.until('again', 'delivered');
    expect((await h.parts('again'))[0]!.attempts).toBe(2);
  });

  it('a receipt that comes before the submit_sm_resp is parked, then applied when the response lands', async () => {
    const h = await harness({ sim: { receipts: { delayMs: 600_000 } } });
    h.sim.sim.setFault({ kind: 'delay', ms: 300 });
    const receipts: Promise<void>[] = [];
    h.sim.sim.on('submit', ({ messageId }) => {
      receipts.push(
        h.engine.receipts.onReceipt({ bindId: 'b1', receipt: receipt(messageId, 'DELIVRD'), receivedAt: 0 }),
      );
    });
    await h.send('early');
    await eventually(async () => receipts.length > 0, 5_000, 'the submit');
    await Promise.all(receipts);
    expect(h.engine.counters.receiptsOrphaned).toBe(1);
    await h.until('early', 'delivered');
    expect(h.engine.counters.receiptsMatched).toBe(1);
    const events = await h.store.listMessageEvents('early');
    expect(events.find((e) => e.type === 'receipt')?.data).toMatchObject({ parked: true, stat: 'DELIVRD' });
  });
});

describe('outbound engine: route strategies', () => {
  it('failover: the first usable bind takes everything; the next one only while the first is down', async () => {
    const h = await harness({
      binds: 2,
      routes: [{ id: 'default', binds: ['b1', 'b2'], strategy: 'failover' }],
    });
    await h.bound();
    for (let i = 0; i < 3; i++) await h.send(`f${i}`);
    for (let i = 0; i < 3; i++) await h.until(`f${i}`, 'delivered');
    for (let i = 0; i < 3; i++) expect((await h.parts(`f${i}`))[0]!.bindId).toBe('b1');
    await h.registry.stop('b1');
    await h.send('f3');
    await h.until('f3', 'delivered');
    expect((await h.parts('f3'))[0]!.bindId).toBe('b2');
  });
});
