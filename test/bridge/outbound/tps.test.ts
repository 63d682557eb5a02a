/**
 * The route's tps caps PDUs per bind: held within 5 % over 10 s of a fake clock (the engine's
 * timers and token bucket run on it; the simulator and the store answer in real time between
 * steps, so the machine's load cannot move the figure).
 */
import { afterEach, expect, it } from 'vitest';
import { FakeClock } from '../../../src/session/clock.js';
import { eventually, type Harness, startHarness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('holds tps (PDUs, not messages) within 5 % over 10 s', async () => {
  const clock = new FakeClock(0);
  const tps = 50;
  h = await startHarness({
    clock,
    routes: [{ id: 'default', binds: ['b1'], tps }],
    bind: { windowSize: 50 },
    sim: { receipts: { delayMs: 600_000 } },
  });
  await h.bound();
  const engine = h.engine;
  let submits = 0;
  h.sim.sim.on('submit', () => {
    submits++;
  });
  // A backlog larger than 10 s can drain: 200 messages of 3 parts (600 PDUs).
  await h.store.transaction(async (tx) => {
    for (let i = 0; i < 200; i++) {
      await tx.createMessage(
        {
          id: `r${i}`,
          route: 'default',
          from: 'ACME',
          to: '447700900123',
          encoding: 'gsm7',
          body: Buffer.from('x'),
        },
        [0, 1, 2].map((index) => ({ index, payload: Buffer.from(`r${i}.${index}`) })),
      );
    }
  });
  const settle = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    await eventually(async () => engine.idle, 10_000, 'the engine to settle');
  };
  engine.notifyQueued('default');
  await settle();
  const start = submits;
  for (let step = 0; step < 500; step++) {
    clock.advance(20);
    await settle();
  }
  const sent = submits - start;
  expect(sent).toBeGreaterThanOrEqual(tps * 10 * 0.95);
  expect(sent).toBeLessThanOrEqual(tps * 10 * 1.05);
}, 60_000);
