/**
 * The simulator's receipt sender under a slow ESME: receipts beyond the in-flight bound wait in
 * line and go, in order, as answers come. Waiting is not an attempt: a burst larger than the
 * bound loses no receipt (an SMSC keeps receipts for an ESME that answers slowly).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Pdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import type { SmppSession } from '../../src/session/session.js';
import { type DeliveryJob, ReceiptSender } from '../../src/simulator/receipts.js';
import { TimerSet } from '../../src/simulator/timer-set.js';

function harness(maxInFlight: number) {
  const clock = new FakeClock();
  const timers = new TimerSet(clock);
  const requests: { messageId: string; answer(status: number): void; fail(): void }[] = [];
  const session = {
    id: 1,
    request(_command: string, init: { short_message: Buffer }) {
      return new Promise<Pdu>((resolve, reject) => {
        requests.push({
          messageId: init.short_message.toString(),
          answer: (status) =>
            resolve({ command: 'deliver_sm_resp', command_status: status } as unknown as Pdu),
          fail: () => reject(new Error('response timeout')),
        });
      });
    },
  } as unknown as SmppSession;
  const delivered: string[] = [];
  const sender = new ReceiptSender({
    pick: () => session,
    timers,
    log: pino({ level: 'silent' }),
    retries: 1,
    retryDelayMs: 1_000,
    responseTimeoutMs: 5_000,
    onSent: () => {},
    onDelivered: (job) => delivered.push(job.messageId),
    maxInFlight,
  });
  const job = (id: string): DeliveryJob => ({
    systemId: 'esme',
    messageId: id,
    init: { short_message: Buffer.from(id) } as DeliveryJob['init'],
  });
  return { clock, sender, requests, delivered, job };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ReceiptSender: the in-flight bound', () => {
  it('holds receipts beyond the bound in line and sends them in order as answers come, losing none', async () => {
    const { clock, sender, requests, delivered, job } = harness(2);
    for (let i = 1; i <= 6; i++) sender.send(job(`r${i}`));
    expect(requests.map((r) => r.messageId)).toEqual(['r1', 'r2']);
    expect(sender.pending).toBe(2);
    expect(sender.queued).toBe(4);

    // Long after every retry delay, nothing held back was given up on or sent out of turn.
    clock.advance(60_000);
    expect(sender.queued).toBe(4);
    expect(requests).toHaveLength(2);

    for (let answered = 0; answered < 6; answered++) {
      requests[answered]?.answer(0);
      await settle();
    }
    expect(requests.map((r) => r.messageId)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(delivered).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(sender.pending).toBe(0);
    expect(sender.queued).toBe(0);
  });

  it('a timed-out receipt frees its place for the next in line, and is retried after its delay', async () => {
    const { clock, sender, requests, job } = harness(1);
    sender.send(job('a'));
    sender.send(job('b'));
    requests[0]?.fail();
    await settle();
    expect(requests.map((r) => r.messageId)).toEqual(['a', 'b']);
    requests[1]?.answer(0);
    await settle();
    clock.advance(1_000);
    expect(requests.map((r) => r.messageId)).toEqual(['a', 'b', 'a']);
  });

  it('close() drops what waits', async () => {
    const { sender, requests, job } = harness(1);
    sender.send(job('a'));
    sender.send(job('b'));
    sender.close();
    requests[0]?.answer(0);
    await settle();
    expect(requests).toHaveLength(1);
    expect(sender.queued).toBe(0);
  });
});
