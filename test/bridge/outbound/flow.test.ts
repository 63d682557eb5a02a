/**
 * Flow control and recovery: throttling keeps the order, no bound bind means waiting (no requeue
 * loop), validity ends once, a crash leaves nothing silently stuck.
 */
import { describe, expect, it } from 'vitest';
import { recountEvery } from '../../../src/bridge/outbound/engine.js';
import { CommandStatus } from '../../../src/protocol/command-status.js';
import { eventually, harnessPerTest, startHarness } from './harness.js';

const harness = harnessPerTest();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outbound engine: flow control', () => {
  it('throttled (window 1): pauses, puts the same part back at the head, resumes, keeps the order', async () => {
    const h = await harness({
      bind: { windowSize: 1 },
      sim: { receipts: { delayMs: 600_000 } },
      options: { retry: { throttleInitialPauseMs: 40, throttleMaxPauseMs: 200 } },
    });
    await h.bound();
    h.sim.sim.setFault({ kind: 'throttle', maxPerSecond: 3 });
    const order: string[] = [];
    h.sim.sim.on('submit', ({ pdu }) =>
      order.push((pdu as unknown as { short_message: Buffer }).short_message.toString()),
    );
    const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const partIds = new Map<string, number>();
    for (const id of ids) {
      await h.send(id);
      partIds.set(id, (await h.parts(id))[0]!.id);
    }
    for (const id of ids) await h.until(id, 'submitted');
    expect(order).toEqual(ids.map((id) => `${id}.0`));
    const throttled = h.engine.counters.responses.get(`default\u0000${CommandStatus.ESME_RTHROTTLED}`) ?? 0;
    expect(throttled).toBeGreaterThan(0);
    for (const id of ids) {
      const [part] = await h.parts(id);
      expect(part!.id).toBe(partIds.get(id)); // the same part, not a copy
      // Throttled sends are not attempts: a later temporary error still gets every retry.
      expect(part!.attempts).toBe(1);
    }
  });

  it('with no bound bind, messages wait without a requeue loop, and go once a bind is bound', async () => {
    const h = await harness({ unbound: true });
    for (let i = 0; i < 3; i++) await h.send(`w${i}`, 2);
    const commitsBefore = h.store.stats().commits;
    await sleep(1_000); // five polls
    expect(h.store.stats().commits).toBe(commitsBefore); // nothing claimed, released or rewritten
    for (let i = 0; i < 3; i++) {
      const parts = await h.parts(`w${i}`);
      expect(parts.every((p) => p.state === 'queued' && p.attempts === 0 && p.bindId === null)).toBe(true);
      expect((await h.message(`w${i}`)).status).toBe('queued');
    }
    expect(h.engine.queuedParts()).toBe(6);
    h.registry.startAll();
    for (let i = 0; i < 3; i++) await h.until(`w${i}`, 'delivered');
    await eventually(async () => {
      await sleep(250);
      return h.engine.queuedParts() === 0;
    });
  });

  it('the queue bound counts what is queued and sent at once, and lets go of each part as it settles', async () => {
    // No poll during the test: the count between two of the store's counts is the engine's own.
    const h = await harness({ unbound: true, options: { pollIntervalMs: 600_000 } });
    expect(h.engine.queuedParts()).toBe(0);
    await h.post('a', 2);
    await h.post('b', 3);
    expect(h.engine.queuedParts()).toBe(5);
    h.registry.startAll();
    await h.bound();
    await h.until('a', 'submitted', 'delivered');
    await h.until('b', 'submitted', 'delivered');
    await eventually(async () => h.engine.idle);
    await h.post('c', 2); // a bind has room now: written at once
    await h.until('c', 'submitted', 'delivered');
    await eventually(async () => h.engine.queuedParts() === 0, 10_000, 'the count to reach 0');
  });

  it('counts the open parts less often the longer a count holds the event loop', () => {
    expect(recountEvery(0.3)).toBe(1);
    expect(recountEvery(2)).toBe(1);
    expect(recountEvery(12)).toBe(6);
    expect(recountEvery(500)).toBe(30);
  });

  it('an idle engine with a bound bind polls slowly: a few claims a second, not a spin', async () => {
    const h = await harness({ options: { pollIntervalMs: 200 } });
    await h.bound();
    await sleep(300);
    const before = h.store.stats().commits;
    await sleep(1_000);
    const claims = h.store.stats().commits - before;
    expect(claims).toBeGreaterThan(0); // it does poll (scheduled messages and retries come due)
    expect(claims).toBeLessThanOrEqual(10);
  });

  it('fails a message whose validity ends while it waits, once, and never sends it', async () => {
    const h = await harness({ unbound: true, options: { validitySweepIntervalMs: 50 } });
    await h.send('v', 2, { validityMs: 100 });
    const m = await h.until('v', 'failed');
    expect(m.error?.code).toBe('VALIDITY_EXPIRED');
    h.registry.startAll();
    await h.bound();
    await sleep(500);
    const statuses = (await h.store.listMessageEvents('v')).filter((e) => e.type === 'status');
    expect(statuses.map((e) => (e.data as { status: string }).status)).toEqual(['failed']);
    expect(h.sim.sim.counters().in.submit_sm ?? 0).toBe(0);
    expect(h.engine.queuedParts()).toBe(0);
  });
});

describe('outbound engine: crash recovery', () => {
  it('after a crash, a part written without a response is unknown (message failed), queued ones go out', async () => {
    const first = await startHarness({ bind: { windowSize: 1, responseTimeoutMs: 60_000 } });
    await first.bound();
    first.sim.sim.setFault({ kind: 'blackhole' });
    await first.send('c0');
    await first.send('c1', 2);
    await eventually(async () => (await first.parts('c0'))[0]!.state === 'sending', 5_000, 'c0 sending');
    // The crash: the process is gone without releasing anything.
    await first.store.close();
    await first.engine.stop(0);
    await first.registry.stopAll(500);
    await first.sim.close();

    // A new process (another owner) after the old lease expired.
    const later = () => Date.now() + 120_000;
    const second = await harness({ dir: first.dir, owner: 'new-owner', now: later });
    const c0 = await second.until('c0', 'failed');
    expect(c0.error?.code).toBe('RESPONSE_TIMEOUT');
    expect(c0.error?.message).toContain('may have been sent');
    expect((await second.parts('c0'))[0]).toMatchObject({
      state: 'unknown',
      error: { code: 'SEND_INTERRUPTED' },
    });
    await second.until('c1', 'delivered');
    expect(second.sim.sim.counters().in.submit_sm).toBe(2); // c1's two parts; c0 never again
  });
});
