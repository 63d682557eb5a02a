/**
 * The simulator's timing on a fake clock: answer delays, slow_loris drips, throttle windows,
 * receipt delays and retries, its own enquire_link and the session-init deadline happen when
 * its clock says, and not a moment before, checked exactly whatever the machine's load. Every
 * time is long (a minute or more), so a simulator that ignored its clock would fail. The
 * sockets are real (loopback); only the simulator's time is fake, so bytes are awaited
 * (eventual), and "nothing yet" is checked after the clock stopped one millisecond short.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { MessageState } from '../../src/protocol/constants.js';
import { createPdu, type Pdu, type PduOf } from '../../src/protocol/pdu.js';
import type { SmppSession } from '../../src/session/session.js';
import { fakeClockSimulator, watch } from '../helpers/fake-clock-simulator.js';
import { closeReason, inbox, openEsme, waitFor } from '../helpers/simulator.js';

const h = fakeClockSimulator({ esme: { responseTimeoutMs: 30_000 } });
afterEach(() => h.close());
const { sim, esme } = h;

function submit(e: SmppSession, init: Partial<PduOf<'submit_sm'>> = {}): Promise<Pdu> {
  return e.request('submit_sm', {
    source_addr: 'Brand',
    source_addr_ton: 5,
    destination_addr: '447700900123',
    short_message: Buffer.from('hi'),
    ...init,
  } as Parameters<SmppSession['request']>[1]);
}

/**
 * Gives loopback bytes already written time to be read. Used only before "nothing arrived yet":
 * on a loaded machine such a check can pass wrongly, never fail wrongly.
 */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

describe('answer faults on the fake clock', () => {
  it('delay: the answer leaves exactly ms later; cleared, answers come with the clock standing still', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'delay', ms: 60_000 });
    const answer = watch(submit(e));
    await waitFor(() => s.counters().in.submit_sm === 1, 5_000, 'the submit_sm at the simulator');
    h.clock.advance(59_999);
    await settle();
    expect(answer.done()).toBe(false);
    h.clock.advance(1);
    expect(await answer.value).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
    s.clearFault(id);
    expect(await submit(e)).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
    expect((await e.probe()).commandStatus).toBe(0);
  });

  it('slow_loris: chunkBytes every intervalMs, whole only after the last chunk; cleared, at once', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'slow_loris', chunkBytes: 4, intervalMs: 10_000 });
    const answer = watch(submit(e)); // submit_sm_resp: 33 octets, 9 chunks, 8 waits
    await waitFor(() => s.counters().in.submit_sm === 1, 5_000, 'the submit_sm at the simulator');
    for (let i = 0; i < 7; i++) h.clock.advance(10_000);
    h.clock.advance(9_999);
    await settle();
    expect(answer.done()).toBe(false);
    h.clock.advance(1);
    expect(await answer.value).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
    s.clearFault(id);
    expect(await submit(e)).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
  });

  it('throttle: ESME_RTHROTTLED beyond maxPerSecond in one second, none of those stored; the next second lets them through', async () => {
    const { sim: s } = await sim();
    const e = await esme({ windowSize: 20 });
    const id = s.setFault({ kind: 'throttle', maxPerSecond: 3 });
    const resps = await Promise.all(Array.from({ length: 8 }, () => submit(e)));
    const statuses = resps.map((r) => r.command_status);
    expect(statuses.filter((x) => x === 0)).toHaveLength(3);
    expect(statuses.filter((x) => x === CommandStatus.ESME_RTHROTTLED)).toHaveLength(5);
    expect(s.counters().submits).toBe(3);
    h.clock.advance(999); // the same second (the fake clock starts on a whole second)
    expect((await submit(e)).command_status).toBe(CommandStatus.ESME_RTHROTTLED);
    h.clock.advance(1);
    const next = await Promise.all(Array.from({ length: 4 }, () => submit(e)));
    expect(next.map((r) => r.command_status)).toEqual([0, 0, 0, CommandStatus.ESME_RTHROTTLED]);
    s.clearFault(id);
    const after = await Promise.all(Array.from({ length: 8 }, () => submit(e)));
    expect(after.every((r) => r.command_status === 0)).toBe(true);
  });
});

describe('messages and receipts on the fake clock', () => {
  it('query_sm says ENROUTE until delayMs has passed, then the final state; the receipt follows', async () => {
    await sim({ receipts: { delayMs: 3_600_000, finalState: 'UNDELIV', err: '034' } });
    const e = await esme();
    const resp = (await submit(e, { registered_delivery: 1 })) as PduOf<'submit_sm_resp'>;
    const query = async () =>
      (await e.request('query_sm', { message_id: resp.message_id })) as PduOf<'query_sm_resp'>;
    h.clock.advance(3_599_999);
    expect(await query()).toMatchObject({ message_state: MessageState.ENROUTE, final_date: '' });
    expect(inbox(e)).toHaveLength(0);
    h.clock.advance(1);
    const after = await query();
    expect(after).toMatchObject({ message_state: MessageState.UNDELIVERABLE, error_code: 34 });
    expect(after.final_date).toMatch(/^\d{12}\d00\+$/);
    // The receipt was written before the query_sm_resp, on the same connection.
    expect(inbox(e)).toHaveLength(1);
  });

  it('cancel_sm before delayMs stops the receipt for good', async () => {
    await sim({ receipts: { delayMs: 100 } });
    const e = await esme();
    const resp = (await submit(e, { registered_delivery: 1 })) as PduOf<'submit_sm_resp'>;
    h.clock.advance(99);
    expect(
      (await e.request('cancel_sm', { message_id: resp.message_id, source_addr: 'Brand' })).command_status,
    ).toBe(0);
    h.clock.advance(60_000);
    await e.probe(); // anything written before the enquire_link_resp has arrived
    expect(inbox(e)).toHaveLength(0);
  });

  it('retries a refused receipt after retryDelayMs, doubling, and gives up after `retries`', async () => {
    const { sim: s } = await sim({ receipts: { delayMs: 60_000, retryDelayMs: 60_000, retries: 2 } });
    const e = await esme({ onDeliver: () => CommandStatus.ESME_RX_T_APPN });
    await submit(e, { registered_delivery: 1 });
    const answered = (n: number) => () => s.counters().in.deliver_sm_resp === n;
    h.clock.advance(60_000);
    await waitFor(answered(1), 5_000, 'the first attempt answered');
    h.clock.advance(59_999);
    await e.probe();
    expect(inbox(e)).toHaveLength(1);
    h.clock.advance(1);
    await waitFor(answered(2), 5_000, 'the second attempt answered');
    h.clock.advance(119_999);
    await e.probe();
    expect(inbox(e)).toHaveLength(2);
    h.clock.advance(1);
    await waitFor(answered(3), 5_000, 'the third attempt answered');
    h.clock.advance(3_600_000);
    await e.probe();
    expect(inbox(e)).toHaveLength(3);
    expect(s.counters().receiptsSent).toBe(3);
  });
});

describe('session timers on the fake clock', () => {
  it('probes a bound client after exactly enquireLinkIntervalMs of silence', async () => {
    await sim({ enquireLinkIntervalMs: 30_000 });
    const e = await esme();
    h.clock.advance(29_999);
    await settle();
    expect(e.pdusIn.enquire_link ?? 0).toBe(0);
    h.clock.advance(1);
    await waitFor(() => e.pdusIn.enquire_link === 1, 5_000, "the simulator's enquire_link");
  });

  it('closes a connection that has not bound after exactly sessionInitTimeoutMs', async () => {
    await sim({ sessionInitTimeoutMs: 60_000 });
    const e = await openEsme(h.started.port);
    h.track(e);
    const closed = watch(closeReason(e));
    await waitFor(() => h.started.sim.sessions().length === 1, 5_000, 'the accepted connection');
    h.clock.advance(59_999);
    await settle();
    expect(closed.done()).toBe(false);
    h.clock.advance(1);
    expect(await closed.value).toBe('peer_closed');
  });
});

describe('backpressure', () => {
  it('stops reading a client whose answers a delay holds past the high-water mark, and catches up after', async () => {
    const { sim: s, port } = await sim();
    s.setFault({ kind: 'delay', ms: 60_000 });
    const raw = net.connect({ host: '127.0.0.1', port });
    h.track(raw);
    raw.on('error', () => {});
    let received = 0;
    raw.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    await new Promise((resolve) => raw.once('connect', resolve));
    raw.write(
      encodePdu(createPdu('bind_transmitter', { sequence_number: 1, system_id: 'flood', password: 'x' })),
    );
    await waitFor(() => s.sessions()[0]?.state === 'bound_tx', 5_000, 'the bind');
    // 20,000 submit_sm (~1.1 MB); each answer is 33 octets, so 256 KiB of answers is ~7,900.
    const COUNT = 20_000;
    const BIND_RESP_OCTETS = 16 + 'SMPPSIM'.length + 1;
    const frames = Array.from({ length: COUNT }, (_, i) =>
      encodePdu(
        createPdu('submit_sm', {
          sequence_number: i + 2,
          destination_addr: '447700900123',
          short_message: Buffer.from('x'),
        }),
      ),
    );
    raw.write(Buffer.concat(frames));
    const read = () => s.counters().in.submit_sm ?? 0;
    await waitFor(() => read() > 7_000, 10_000, 'the first requests read');
    // It stops reading: the count stays put over three looks 100 ms apart (a simulator that kept
    // reading would have read all 20,000 by then).
    let last = -1;
    let same = 0;
    while (same < 3) {
      await new Promise((r) => setTimeout(r, 100));
      const now = read();
      same = now === last ? same + 1 : 0;
      last = now;
    }
    const held = read();
    // ~7,900 answers fill the queue; one more socket read (at most 64 KiB, ~1,400 requests) may follow.
    expect(held).toBeLessThan(COUNT / 2);
    expect(received).toBe(0); // the delay holds the bind_transmitter_resp too
    // Time passes: the held answers go out, the queue drains, reading resumes, all are answered.
    // Time moves in 10 s steps with real I/O in between: a socket cannot deliver the rest of a
    // PDU during one synchronous jump, and a partial PDU held for frameTimeoutMs (30 s) while
    // reading is not paused is a stalled peer.
    const advance = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 10_000) {
        h.clock.advance(Math.min(10_000, ms - t));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    for (let i = 0; i < 5 && read() < COUNT; i++) {
      await advance(60_000);
      await waitFor(() => read() > held || read() === COUNT, 10_000, 'reading to resume');
    }
    for (let i = 0; i < 100 && received < BIND_RESP_OCTETS + COUNT * 33; i++) await advance(60_000);
    expect(received).toBe(BIND_RESP_OCTETS + COUNT * 33);
    expect(read()).toBe(COUNT);
  }, 60_000);
});
