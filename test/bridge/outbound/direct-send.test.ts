/**
 * Direct sends: a message accepted while a bind of its route has room, and nothing of the route
 * waits in the queue, is stored `sending` on that bind and written at once (no claim, no mark);
 * anything queued closes that path until a claim has taken the queue's last part, so a direct send
 * never overtakes a queued message.
 */
import { describe, expect, it } from 'vitest';
import { acceptMessages } from '../../../src/http/message-dispatch.js';
import { eventually, type Harness, harnessPerTest } from './harness.js';

const harness = harnessPerTest();

function submittedOrder(h: Harness): string[] {
  const order: string[] = [];
  h.sim.sim.on('submit', ({ pdu }) =>
    order.push((pdu as unknown as { short_message: Buffer }).short_message.toString()),
  );
  return order;
}

describe('outbound engine: direct sends', () => {
  it('a message accepted while the bind has room is written at once, every part in order, with one attempt', async () => {
    const h = await harness({ sim: { receipts: { delayMs: 600_000 } } });
    await h.bound();
    // The first claim finds the queue empty: from then on nothing waits in it.
    await eventually(async () => h.engine.idle);
    const order = submittedOrder(h);
    const commitsBefore = h.store.stats().commits;
    await h.post('d1', 3);
    const m = await h.until('d1', 'submitted');
    expect(m.status).toBe('submitted');
    expect(h.engine.counters.directSends).toBe(1);
    expect(order).toEqual(['d1.0', 'd1.1', 'd1.2']);
    const parts = await h.parts('d1');
    expect(parts.map((p) => [p.state, p.bindId, p.attempts])).toEqual([
      ['submitted', 'b1', 1],
      ['submitted', 'b1', 1],
      ['submitted', 'b1', 1],
    ]);
    // Stored and recorded: no claim and no mark in between (the queue path takes two more commits).
    await eventually(async () => h.engine.idle);
    expect(h.store.stats().commits - commitsBefore).toBeLessThanOrEqual(4);
  });

  it('messages queued while no bind could take them go out before later ones accepted once it can', async () => {
    const h = await harness({ unbound: true, sim: { receipts: { delayMs: 600_000 } } });
    const order = submittedOrder(h);
    for (let i = 0; i < 5; i++) await h.post(`q${i}`);
    expect(h.engine.counters.directSends).toBe(0);
    h.registry.startAll();
    await h.bound();
    for (let i = 0; i < 5; i++) await h.post(`n${i}`);
    for (let i = 0; i < 5; i++) await h.until(`n${i}`, 'submitted');
    for (let i = 0; i < 5; i++) await h.until(`q${i}`, 'submitted');
    expect(order).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => `q${i}.0`),
      ...[0, 1, 2, 3, 4].map((i) => `n${i}.0`),
    ]);
    // Once the queue was taken, the path opened again.
    await eventually(async () => h.engine.idle);
    await h.post('later');
    await h.until('later', 'submitted');
    expect(h.engine.counters.directSends).toBeGreaterThan(0);
  });

  it('throttled: what is accepted during the pause is queued and keeps its place behind the part put back', async () => {
    const h = await harness({
      bind: { windowSize: 2 },
      sim: { receipts: { delayMs: 600_000 } },
      options: { retry: { throttleInitialPauseMs: 40, throttleMaxPauseMs: 200 } },
    });
    await h.bound();
    await eventually(async () => h.engine.idle);
    h.sim.sim.setFault({ kind: 'throttle', maxPerSecond: 4 });
    const order = submittedOrder(h);
    const ids = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const id of ids) await h.post(id);
    for (const id of ids) await h.until(id, 'submitted');
    // Each id once, in acceptance order (a throttled part is sent again: keep its last place).
    const accepted = order.filter((p, i) => order.lastIndexOf(p) === i);
    expect(accepted).toEqual(ids.map((id) => `${id}.0`));
    expect(h.engine.counters.directSends).toBeGreaterThan(0);
  });

  it('a transaction that fails gives its reservation back: nothing is held and the next message goes at once', async () => {
    const h = await harness({ sim: { receipts: { delayMs: 600_000 } } });
    await h.bound();
    await eventually(async () => h.engine.idle);
    const failing = acceptMessages(
      h.engine.messagePath(),
      async (tx, dispatch) => {
        await dispatch.create(tx, {
          message: {
            id: 'x',
            route: 'default',
            from: 'ACME',
            to: '447700900123',
            encoding: 'gsm7',
            body: Buffer.from('x'),
          },
          parts: [{ index: 0, payload: Buffer.from('x.0') }],
          route: 'default',
          encoding: 'gsm7',
        });
        throw new Error('the request failed after the message was written');
      },
      () => {},
    );
    await expect(failing).rejects.toThrow('the request failed');
    expect(await h.store.getMessage('x')).toBeUndefined();
    expect(h.engine.inFlight).toBe(0);
    await eventually(async () => h.engine.idle);
    await h.post('y');
    await h.until('y', 'submitted');
    expect(h.engine.counters.directSends).toBe(1);
  });

  it('anything queued closes the path until a claim has looked at the queue again', async () => {
    const h = await harness({ sim: { receipts: { delayMs: 600_000 } } });
    await h.bound();
    await eventually(async () => h.engine.idle);
    const first = h.engine.reserveSend('default', 1);
    expect(first?.fence.bindId).toBe('b1');
    first?.release(); // as when its parts were queued instead
    expect(h.engine.reserveSend('default', 1)).toBeUndefined();
    await h.send('queued'); // queued and notified, as a message that could not be reserved
    await h.until('queued', 'submitted');
    await eventually(async () => h.engine.idle);
    const again = h.engine.reserveSend('default', 1);
    expect(again).toBeDefined();
    again?.release();
  });

  it('messages accepted as the bind comes up go out after those queued before it', async () => {
    const h = await harness({ unbound: true, sim: { receipts: { delayMs: 600_000 } } });
    const order = submittedOrder(h);
    for (let i = 0; i < 5; i++) await h.post(`q${i}`);
    const posted: Promise<unknown>[] = [];
    // Right after the engine heard the bind bound (its listener came first): its claim is on the way.
    h.registry.get('b1')?.once('bound', () => {
      for (let i = 0; i < 3; i++) posted.push(h.post(`n${i}`));
    });
    h.registry.startAll();
    await h.bound();
    await Promise.all(posted);
    for (const id of ['q0', 'q1', 'q2', 'q3', 'q4', 'n0', 'n1', 'n2']) await h.until(id, 'submitted');
    expect(order).toEqual(['q0.0', 'q1.0', 'q2.0', 'q3.0', 'q4.0', 'n0.0', 'n1.0', 'n2.0']);
  });

  it('a shutdown waits for a message being stored on a reservation, and queues it unsent', async () => {
    const h = await harness({ sim: { receipts: { delayMs: 600_000 } } });
    await h.bound();
    await eventually(async () => h.engine.idle);
    const reservation = h.engine.reserveSend('default', 1);
    expect(reservation).toBeDefined();
    let stopped = false;
    const stopping = h.engine.stop(10_000).then(() => {
      stopped = true;
    });
    const created = await h.store.createMessageSending(
      {
        id: 'z',
        route: 'default',
        from: 'ACME',
        to: '447700900123',
        encoding: 'gsm7',
        body: Buffer.from('z'),
      },
      [{ index: 0, payload: Buffer.from('z.0') }],
      reservation!.fence,
    );
    expect(stopped).toBe(false); // the reservation holds the drain open
    reservation!.send(created.message, created.parts!);
    await stopping;
    const [part] = await h.parts('z');
    expect(part).toMatchObject({ state: 'queued', attempts: 0, bindId: null });
    expect(h.sim.sim.counters().in.submit_sm ?? 0).toBe(0);
  });
});
