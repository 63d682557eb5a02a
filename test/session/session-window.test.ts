import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { SmppEncodeError } from '../../src/protocol/errors.js';
import { createPdu, type Pdu, type PduInit } from '../../src/protocol/pdu.js';
import type { Tlv } from '../../src/protocol/tlv.js';
import { FakeClock } from '../../src/session/clock.js';
import {
  SmppConnectionClosedError,
  SmppNotBoundError,
  SmppResponseTimeoutError,
  SmppWindowWaitTimeoutError,
} from '../../src/session/errors.js';
import { type SessionOptions, SmppSession } from '../../src/session/session.js';
import { MemorySocket, settle } from '../helpers/memory-duplex.js';

const S = 1_000;

async function boundEsme(options: Partial<SessionOptions> = {}) {
  const clock = new FakeClock();
  const socket = new MemorySocket();
  const session = new SmppSession(socket, { role: 'esme', clock, enquireLinkIntervalMs: 0, ...options });
  const bind = session.bind('bind_transceiver', { system_id: 'esme', password: 'secret' });
  await settle();
  const [request] = socket.takePdus();
  socket.inject(
    encodePdu(
      createPdu('bind_transceiver_resp', { sequence_number: request!.sequence_number, system_id: 'SMSC' }),
    ),
  );
  await bind;
  const inject = (pdu: Pdu): void => {
    socket.inject(encodePdu(pdu));
  };
  const submit = (n: number): Promise<Pdu> => session.request('submit_sm', { destination_addr: String(n) });
  const answer = (req: Pdu, messageId = `id-${req.sequence_number}`): void =>
    inject(createPdu('submit_sm_resp', { sequence_number: req.sequence_number, message_id: messageId }));
  return { clock, socket, session, inject, submit, answer };
}

/** Records how a promise settled, and how many times its handlers ran. */
function observe<T>(promise: Promise<T>) {
  const seen: { value?: T; error?: unknown; count: number } = { count: 0 };
  promise.then(
    (value) => {
      seen.count++;
      seen.value = value;
    },
    (error: unknown) => {
      seen.count++;
      seen.error = error;
    },
  );
  return seen;
}

describe('requests and the window', () => {
  it('resolves each request with the response carrying its sequence_number, in any order', async () => {
    const h = await boundEsme();
    const a = h.submit(1);
    const b = h.submit(2);
    await settle();
    const [ra, rb] = h.socket.takePdus();
    expect(ra!.command).toBe('submit_sm');
    expect(rb!.sequence_number).toBe(ra!.sequence_number + 1);
    h.answer(rb!, 'second');
    h.answer(ra!, 'first');
    expect(await a).toMatchObject({ command: 'submit_sm_resp', message_id: 'first' });
    expect(await b).toMatchObject({ command: 'submit_sm_resp', message_id: 'second' });
    expect(h.session.windowUsage.used).toBe(0);
  });

  it('a non-OK status is a normal value, not a rejection', async () => {
    const h = await boundEsme();
    const p = h.submit(1);
    await settle();
    const [req] = h.socket.takePdus();
    h.inject(
      createPdu('submit_sm_resp', {
        sequence_number: req!.sequence_number,
        command_status: CommandStatus.ESME_RTHROTTLED,
      }),
    );
    expect(await p).toMatchObject({ command_status: CommandStatus.ESME_RTHROTTLED });
  });

  it('keeps at most windowSize requests in flight and sends the rest first come, first served', async () => {
    const h = await boundEsme({ windowSize: 3 });
    const done: number[] = [];
    const all = [1, 2, 3, 4, 5].map((n) => h.submit(n).then(() => done.push(n)));
    await settle();
    let sent = h.socket.takePdus();
    expect(sent.map((p) => p.command === 'submit_sm' && p.destination_addr)).toEqual(['1', '2', '3']);
    expect(h.session.windowUsage).toEqual({ used: 3, capacity: 3, waiting: 2 });

    h.answer(sent[1]!);
    await settle();
    const next = h.socket.takePdus();
    expect(next.map((p) => p.command === 'submit_sm' && p.destination_addr)).toEqual(['4']);
    expect(h.session.windowUsage).toEqual({ used: 3, capacity: 3, waiting: 1 });

    sent = [...sent, ...next];
    h.answer(sent[0]!);
    h.answer(sent[2]!);
    h.answer(sent[3]!);
    await settle();
    const last = h.socket.takePdus();
    expect(last.map((p) => p.command === 'submit_sm' && p.destination_addr)).toEqual(['5']);
    h.answer(last[0]!);
    await Promise.all(all);
    expect(done).toEqual([2, 1, 3, 4, 5]);
    expect(h.session.windowUsage).toEqual({ used: 0, capacity: 3, waiting: 0 });
  });

  it('rejects a request that waited windowWaitTimeoutMs for a slot, and never sends it', async () => {
    const h = await boundEsme({ windowSize: 1, windowWaitTimeoutMs: 5 * S, responseTimeoutMs: 60 * S });
    const first = h.submit(1);
    const queued = observe(h.submit(2));
    await settle();
    const [sent] = h.socket.takePdus();
    h.clock.advance(5 * S - 1);
    await settle();
    expect(queued.count).toBe(0);
    h.clock.advance(1);
    await settle();
    expect(queued.error).toBeInstanceOf(SmppWindowWaitTimeoutError);
    expect(queued.error).toMatchObject({
      code: 'SMPP_ERR_SESSION_WINDOW_TIMEOUT',
      retriable: true,
      command: 'submit_sm',
      timeoutMs: 5 * S,
    });
    expect(h.session.windowUsage).toEqual({ used: 1, capacity: 1, waiting: 0 });
    // Its slot never existed: when the first completes nothing else goes out.
    h.answer(sent!);
    await first;
    await settle();
    expect(h.socket.takePdus()).toEqual([]);
  });

  it('rejects with SmppResponseTimeoutError after responseTimeoutMs and frees the slot', async () => {
    const h = await boundEsme({ windowSize: 1, responseTimeoutMs: 10 * S, windowWaitTimeoutMs: 60 * S });
    const first = observe(h.submit(1));
    const second = h.submit(2);
    await settle();
    const [req] = h.socket.takePdus();
    h.clock.advance(10 * S);
    await settle();
    expect(first.error).toBeInstanceOf(SmppResponseTimeoutError);
    expect(first.error).toMatchObject({
      code: 'SMPP_ERR_SESSION_RESPONSE_TIMEOUT',
      sequenceNumber: req!.sequence_number,
      timeoutMs: 10 * S,
      retriable: true,
    });
    // The freed slot went to the waiting request.
    const [next] = h.socket.takePdus();
    expect(next).toMatchObject({ command: 'submit_sm', destination_addr: '2' });
    h.answer(next!);
    await expect(second).resolves.toMatchObject({ command: 'submit_sm_resp' });
  });

  it('a per-request timeout overrides responseTimeoutMs', async () => {
    const h = await boundEsme({ responseTimeoutMs: 60 * S });
    const p = observe(h.session.request('submit_sm', { destination_addr: '1' }, { timeoutMs: 2 * S }));
    await settle();
    h.clock.advance(2 * S);
    await settle();
    expect(p.error).toMatchObject({ timeoutMs: 2 * S });
  });

  it('settles exactly once: a response after the timeout is dropped as unexpected', async () => {
    const h = await boundEsme({ responseTimeoutMs: 10 * S });
    const unexpected: { command: string; seq: number; reason: string }[] = [];
    h.session.on('unexpected', ({ pdu, reason }) =>
      unexpected.push({ command: pdu.command, seq: pdu.sequence_number, reason }),
    );
    const p = observe(h.submit(1));
    await settle();
    const [req] = h.socket.takePdus();
    h.clock.advance(10 * S);
    await settle();
    expect(p.error).toBeInstanceOf(SmppResponseTimeoutError);
    h.answer(req!, 'late');
    await settle();
    expect(p.count).toBe(1);
    expect(p.value).toBeUndefined();
    expect(unexpected).toEqual([
      {
        command: 'submit_sm_resp',
        seq: req!.sequence_number,
        reason: 'no request with this sequence_number is in flight',
      },
    ]);
    expect(h.session.closed).toBe(false);
  });

  it('a response to an unknown sequence_number is dropped with an unexpected event and never answered', async () => {
    const h = await boundEsme();
    const seen: string[] = [];
    h.session.on('unexpected', ({ pdu }) => seen.push(`${pdu.command}#${pdu.sequence_number}`));
    h.inject(createPdu('submit_sm_resp', { sequence_number: 4242, message_id: 'x' }));
    h.inject(createPdu('enquire_link_resp', { sequence_number: 4243 }));
    await settle();
    expect(seen).toEqual(['submit_sm_resp#4242', 'enquire_link_resp#4243']);
    expect(h.socket.takePdus()).toEqual([]);
  });

  it('a response of the wrong type for a pending seq is dropped and the request keeps waiting', async () => {
    const h = await boundEsme();
    const reasons: string[] = [];
    h.session.on('unexpected', ({ reason }) => reasons.push(reason));
    const p = observe(h.submit(1));
    await settle();
    const [req] = h.socket.takePdus();
    h.inject(createPdu('query_sm_resp', { sequence_number: req!.sequence_number }));
    await settle();
    expect(reasons).toEqual(['answers submit_sm']);
    expect(p.count).toBe(0);
    h.answer(req!);
    await settle();
    expect(p.value).toMatchObject({ command: 'submit_sm_resp' });
  });

  it('a generic_nack for a pending request resolves it with the nack', async () => {
    const h = await boundEsme();
    const p = h.submit(1);
    await settle();
    const [req] = h.socket.takePdus();
    h.inject(
      createPdu('generic_nack', {
        sequence_number: req!.sequence_number,
        command_status: CommandStatus.ESME_RINVCMDLEN,
      }),
    );
    expect(await p).toMatchObject({
      command: 'generic_nack',
      command_status: CommandStatus.ESME_RINVCMDLEN,
      sequence_number: req!.sequence_number,
    });
    expect(h.session.windowUsage.used).toBe(0);
  });

  it('on close, every pending and waiting request is rejected once with the close reason', async () => {
    const h = await boundEsme({ windowSize: 2 });
    const results = [1, 2, 3, 4].map((n) => observe(h.submit(n)));
    const probe = observe(h.session.probe());
    await settle();
    h.socket.injectError('ECONNRESET');
    await settle();
    for (const r of [...results, probe]) {
      expect(r.count).toBe(1);
      expect(r.error).toBeInstanceOf(SmppConnectionClosedError);
      expect(r.error).toMatchObject({ code: 'SMPP_ERR_SESSION_CLOSED', reason: 'socket_error' });
    }
    expect((results[0]!.error as Error).cause).toMatchObject({ code: 'ECONNRESET' });
    expect(h.session.windowUsage).toEqual({ used: 0, capacity: 2, waiting: 0 });
    // Later requests fail at once with the same reason.
    await expect(h.submit(5)).rejects.toMatchObject({ reason: 'socket_error' });
  });

  it('a request granted a slot just as the session closes is rejected and the window stays consistent', async () => {
    const h = await boundEsme({ windowSize: 1 });
    const first = h.submit(1);
    const queued = observe(h.submit(2));
    await settle();
    const [req] = h.socket.takePdus();
    // One chunk: the response that frees the slot for the queued request, then the peer's unbind.
    h.socket.inject(
      Buffer.concat([
        encodePdu(createPdu('submit_sm_resp', { sequence_number: req!.sequence_number, message_id: 'a' })),
        encodePdu(createPdu('unbind', { sequence_number: 50 })),
      ]),
    );
    await expect(first).resolves.toMatchObject({ message_id: 'a' });
    await settle();
    expect(queued.error).toMatchObject({ code: 'SMPP_ERR_SESSION_CLOSED', reason: 'peer_unbind' });
    expect(h.session.windowUsage).toEqual({ used: 0, capacity: 1, waiting: 0 });
    expect(h.socket.takePdus().map((p) => p.command)).toEqual(['unbind_resp']);
  });

  it('refuses requests the bind type does not allow, without taking a slot', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = new SmppSession(socket, { role: 'esme', clock, enquireLinkIntervalMs: 0 });
    await expect(session.request('submit_sm', {})).rejects.toBeInstanceOf(SmppNotBoundError);
    const bind = session.bind('bind_receiver', { system_id: 'rx', password: 'pw' });
    await settle();
    const [req] = socket.takePdus();
    socket.inject(encodePdu(createPdu('bind_receiver_resp', { sequence_number: req!.sequence_number })));
    await bind;
    expect(session.state).toBe('bound_rx');
    await expect(session.request('submit_sm', {})).rejects.toMatchObject({
      code: 'SMPP_ERR_SESSION_NOT_BOUND',
      command: 'submit_sm',
      state: 'bound_rx',
    });
    expect(session.windowUsage.used).toBe(0);
    expect(socket.takePdus()).toEqual([]);
  });

  it('an invalid PDU is refused with SmppEncodeError and gives its slot back', async () => {
    const h = await boundEsme({ windowSize: 1 });
    await expect(h.session.request('submit_sm', { destination_addr: 'x'.repeat(30) })).rejects.toBeInstanceOf(
      SmppEncodeError,
    );
    expect(h.session.windowUsage.used).toBe(0);
    const ok = h.submit(1);
    await settle();
    const [req] = h.socket.takePdus();
    expect(req).toMatchObject({ command: 'submit_sm', destination_addr: '1' });
    h.answer(req!);
    await ok;
  });

  it('writes exactly the octets of encodePdu(createPdu(command, init)) for any init (property)', async () => {
    const h = await boundEsme({ windowSize: 1_000 });
    const text = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 20,
    });
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const inits: fc.Arbitrary<PduInit<'submit_sm'>> = fc.record(
      {
        service_type: maybe(fc.string({ maxLength: 5 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'))),
        source_addr_ton: maybe(fc.integer({ min: 0, max: 6 })),
        source_addr: maybe(text),
        destination_addr: maybe(text),
        esm_class: maybe(fc.constantFrom(0, 0x40)),
        registered_delivery: maybe(fc.integer({ min: 0, max: 1 })),
        data_coding: maybe(fc.constantFrom(0, 3, 8)),
        short_message: maybe(fc.uint8Array({ maxLength: 140 }).map((a) => Buffer.from(a))),
        tlvs: maybe(fc.constant(null).map((): Tlv[] => [{ tag: TlvTag.user_message_reference, value: 7 }])),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(inits, async (init) => {
        h.session.request('submit_sm', init).catch(() => {});
        await settle(1);
        const written = h.socket.takeWritten();
        const seq = written.readUInt32BE(12);
        expect(written).toEqual(encodePdu(createPdu('submit_sm', { ...init, sequence_number: seq })));
      }),
      { numRuns: 200 },
    );
    h.session.destroy();
  });

  it('numbers requests 1, 2, 3… in the order they are sent, and batches one tick’s writes', async () => {
    const h = await boundEsme();
    const callsBefore = h.socket.writeCalls;
    const all = Array.from({ length: 5 }, (_, i) => h.submit(i));
    await settle();
    const sent = h.socket.takePdus();
    expect(sent.map((p) => p.sequence_number)).toEqual([2, 3, 4, 5, 6]);
    expect(h.socket.writeCalls - callsBefore).toBe(1);
    for (const p of sent) h.answer(p);
    await Promise.all(all);
  });
});
