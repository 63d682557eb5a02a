import { describe, expect, it } from 'vitest';
import type { Pdu } from '../../src/protocol/pdu.js';
import { InflightWindow, InvariantError, type PendingRequest } from '../../src/session/window.js';

interface Tracked {
  request: PendingRequest;
  settled: { kind: 'resolved'; pdu: Pdu } | { kind: 'rejected'; error: Error } | undefined;
  settleCount: number;
}

function track(seq: number, deadline: number, windowed = true): Tracked {
  const tracked: Tracked = {
    request: undefined as unknown as PendingRequest,
    settled: undefined,
    settleCount: 0,
  };
  tracked.request = {
    seq,
    command: 'submit_sm',
    responseId: 0x80000004,
    windowed,
    deadline,
    timeoutMs: 1_000,
    resolve(pdu) {
      tracked.settleCount++;
      tracked.settled = { kind: 'resolved', pdu };
    },
    reject(error) {
      tracked.settleCount++;
      tracked.settled = { kind: 'rejected', error };
    },
  };
  return tracked;
}

describe('InflightWindow capacity', () => {
  it('hands out at most capacity slots; enquire_link-style requests do not count', () => {
    const window = new InflightWindow(2);
    expect(window.tryAcquire()).toBe(true);
    expect(window.tryAcquire()).toBe(true);
    expect(window.tryAcquire()).toBe(false);
    expect(window.used).toBe(2);
    window.add(track(1, 100).request);
    window.add(track(2, 100).request);
    window.add(track(3, 100, false).request);
    expect(window.size).toBe(3);
    expect(window.used).toBe(2);
    window.take(3);
    expect(window.used).toBe(2);
    window.take(1);
    expect(window.used).toBe(1);
    expect(window.tryAcquire()).toBe(true);
  });

  it('does not let a newcomer overtake a queued waiter', async () => {
    const window = new InflightWindow(1);
    expect(window.tryAcquire()).toBe(true);
    window.add(track(1, 100).request);
    const order: string[] = [];
    const first = window.waitForSlot('submit_sm', 500, 400).then(() => order.push('first'));
    const second = window.waitForSlot('submit_sm', 500, 400).then(() => order.push('second'));
    expect(window.waiting).toBe(2);
    window.take(1);
    // The freed slot went to the first waiter: nobody else may take it.
    expect(window.tryAcquire()).toBe(false);
    await first;
    expect(order).toEqual(['first']);
    expect(window.used).toBe(1);
    window.releaseSlot();
    await second;
    expect(order).toEqual(['first', 'second']);
    expect(window.waiting).toBe(0);
  });
});

describe('InflightWindow bookkeeping', () => {
  it('treats a duplicate sequence_number as an invariant violation', () => {
    const window = new InflightWindow(10);
    window.add(track(7, 100).request);
    expect(() => window.add(track(7, 200).request)).toThrow(InvariantError);
    expect(() => window.add(track(7, 200).request)).toThrow(/sequence_number 7 is already in flight/);
  });

  it('take() removes a request once; an unknown or repeated seq gives undefined', () => {
    const window = new InflightWindow(10);
    window.tryAcquire();
    const t = track(5, 100);
    window.add(t.request);
    expect(window.has(5)).toBe(true);
    expect(window.take(5)).toBe(t.request);
    expect(window.take(5)).toBeUndefined();
    expect(window.take(6)).toBeUndefined();
    expect(window.used).toBe(0);
  });

  it('expire(now) returns exactly the requests and waiters whose deadline passed', async () => {
    const window = new InflightWindow(1);
    window.tryAcquire();
    const early = track(1, 100);
    const late = track(2, 300, false);
    window.add(early.request);
    window.add(late.request);
    const waiterA = window.waitForSlot('submit_sm', 150, 50).catch((e: Error) => e);
    const waiterB = window.waitForSlot('submit_sm', 400, 300).catch((e: Error) => e);
    expect(window.nextDeadline()).toBe(100);

    const first = window.expire(100);
    expect(first.requests).toEqual([early.request]);
    expect(first.waiters).toEqual([]);
    expect(window.has(1)).toBe(false);
    // The expired request's slot went to the first waiter.
    await waiterA;
    expect(window.waiting).toBe(1);
    expect(window.nextDeadline()).toBe(300);

    const second = window.expire(400);
    expect(second.requests).toEqual([late.request]);
    expect(second.waiters.map((w) => w.deadline)).toEqual([400]);
    expect(window.nextDeadline()).toBeUndefined();
    second.waiters[0]!.reject(new Error('window wait'));
    await expect(waiterB).resolves.toBeInstanceOf(Error);
  });

  it('rejectAll settles every request and waiter exactly once and empties the window', async () => {
    const window = new InflightWindow(2);
    const a = track(1, 100);
    const b = track(2, 100);
    const c = track(3, 100, false);
    window.tryAcquire();
    window.tryAcquire();
    window.add(a.request);
    window.add(b.request);
    window.add(c.request);
    const waiter = window.waitForSlot('submit_sm', 100, 100).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    let made = 0;
    window.rejectAll(() => new Error(`closed ${++made}`));
    expect(made).toBe(4);
    for (const t of [a, b, c]) {
      expect(t.settleCount).toBe(1);
      expect(t.settled?.kind).toBe('rejected');
    }
    expect(await waiter).toMatch(/^closed \d$/);
    expect(window.size).toBe(0);
    expect(window.used).toBe(0);
    expect(window.waiting).toBe(0);
    // Nothing is left to settle a second time.
    window.rejectAll(() => new Error('again'));
    expect(a.settleCount).toBe(1);
    expect(window.take(1)).toBeUndefined();
  });

  it('a response for a request that has already expired finds nothing to settle', () => {
    const window = new InflightWindow(1);
    window.tryAcquire();
    const t = track(9, 100);
    window.add(t.request);
    const { requests } = window.expire(100);
    for (const r of requests) r.reject(new Error('timeout'));
    expect(window.get(9)).toBeUndefined();
    expect(window.take(9)).toBeUndefined();
    expect(t.settleCount).toBe(1);
  });
});
