/**
 * A session's life: bind (ESME), accept a bind and the session-init timer (SMSC), graceful and
 * abrupt closes, and socket failures turned into close reasons.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import {
  SmppBindError,
  SmppConnectionClosedError,
  SmppNotBoundError,
  SmppResponseTimeoutError,
} from '../../src/session/errors.js';
import { type SessionOptions, SmppSession } from '../../src/session/session.js';
import type { CloseReason } from '../../src/session/state.js';
import { MemorySocket, memorySocketPair, settle } from '../helpers/memory-duplex.js';

const S = 1_000;

function open(options: Partial<SessionOptions> = {}) {
  const clock = new FakeClock();
  const socket = new MemorySocket();
  const session = new SmppSession(socket, { role: 'esme', clock, enquireLinkIntervalMs: 0, ...options });
  const states: string[] = [];
  const closes: { reason: CloseReason; error?: Error }[] = [];
  session.on('state', ({ from, to }) => states.push(`${from}->${to}`));
  session.on('close', (c) => closes.push(c));
  return { clock, socket, session, states, closes, inject: (pdu: Pdu) => socket.inject(encodePdu(pdu)) };
}

type Harness = ReturnType<typeof open>;

async function bindWith(h: Harness, answer: (req: Pdu) => Pdu | undefined): Promise<Pdu> {
  const bind = h.session.bind('bind_transceiver', { system_id: 'esme', password: 'secret' });
  await settle();
  const [req] = h.socket.takePdus();
  const resp = answer(req!);
  if (resp) h.inject(resp);
  return bind;
}

async function boundEsme(options: Partial<SessionOptions> = {}): Promise<Harness> {
  const h = open(options);
  await bindWith(h, (req) =>
    createPdu('bind_transceiver_resp', { sequence_number: req.sequence_number, system_id: 'SMSC' }),
  );
  h.states.length = 0;
  return h;
}

describe('bind (ESME)', () => {
  it('sends the bind with our credentials and moves open -> binding -> bound on status 0', async () => {
    const h = open();
    let sent: Pdu | undefined;
    const resp = await bindWith(h, (req) => {
      sent = req;
      return createPdu('bind_transceiver_resp', {
        sequence_number: req.sequence_number,
        system_id: 'SMSC-1',
        tlvs: [{ tag: TlvTag.sc_interface_version, value: 0x34 }],
      });
    });
    expect(sent).toMatchObject({
      command: 'bind_transceiver',
      sequence_number: 1,
      system_id: 'esme',
      password: 'secret',
      system_type: '',
      interface_version: 0x34,
    });
    expect(resp).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0 });
    expect(h.states).toEqual(['open->binding', 'binding->bound_trx']);
    expect(h.session.bound).toBe(true);
    expect(h.session.peerSystemId).toBe('SMSC-1');
    expect(h.session.peerInterfaceVersion).toBe(0x34);
  });

  it('takes a peer without sc_interface_version for a 3.3 SMSC', async () => {
    const h = await boundEsme();
    expect(h.session.peerInterfaceVersion).toBe(0x33);
  });

  it('rejects with a non-retriable SmppBindError on ESME_RINVPASWD and goes back to open', async () => {
    const h = open();
    const error = await bindWith(h, (req) =>
      createPdu('bind_transceiver_resp', {
        sequence_number: req.sequence_number,
        command_status: CommandStatus.ESME_RINVPASWD,
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmppBindError);
    expect(error).toMatchObject({
      code: 'SMPP_ERR_BIND',
      commandStatus: CommandStatus.ESME_RINVPASWD,
      statusName: 'ESME_RINVPASWD',
      retriable: false,
    });
    expect((error as Error).message).toMatch(/ESME_RINVPASWD \(0x0000000e\)/);
    expect(h.states).toEqual(['open->binding', 'binding->open']);
    expect(h.session.closed).toBe(false);
  });

  it('a throttled bind is retriable', async () => {
    const h = open();
    const error = await bindWith(h, (req) =>
      createPdu('bind_transceiver_resp', {
        sequence_number: req.sequence_number,
        command_status: CommandStatus.ESME_RTHROTTLED,
      }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusName: 'ESME_RTHROTTLED', retriable: true });
  });

  it('a generic_nack to the bind is a refusal too', async () => {
    const h = open();
    const error = await bindWith(h, (req) =>
      createPdu('generic_nack', {
        sequence_number: req.sequence_number,
        command_status: CommandStatus.ESME_RINVCMDID,
      }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusName: 'ESME_RINVCMDID' });
  });

  it('an undecodable bind_resp rejects the bind and goes back to open (not left binding)', async () => {
    const h = open();
    const bind = h.session.bind('bind_transceiver', { system_id: 'esme', password: 'secret' });
    await settle();
    const [req] = h.socket.takePdus();
    // bind_transceiver_resp OK whose system_id has no NUL before the end of the PDU.
    const broken = Buffer.from('0000001480000009000000000000000041424344', 'hex');
    broken.writeUInt32BE(req!.sequence_number, 12);
    h.socket.inject(broken);
    const error = await bind.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMPP_ERR_DECODE_BODY', recoverable: true });
    expect(h.session.state).toBe('open');
    expect(h.states).toEqual(['open->binding', 'binding->open']);
  });

  it('no bind_resp within bindTimeoutMs: rejects with a timeout and closes with bind_timeout', async () => {
    const h = open({ bindTimeoutMs: 4 * S });
    const bind = bindWith(h, () => undefined).catch((e: unknown) => e);
    await settle();
    h.clock.advance(4 * S - 1);
    await settle();
    expect(h.session.state).toBe('binding');
    h.clock.advance(1);
    const error = await bind;
    expect(error).toBeInstanceOf(SmppResponseTimeoutError);
    expect(error).toMatchObject({ command: 'bind_transceiver', timeoutMs: 4 * S });
    expect(h.closes.map((c) => c.reason)).toEqual(['bind_timeout']);
    expect(h.socket.destroyed).toBe(true);
  });

  it('refuses to bind twice, or to bind from the SMSC role', async () => {
    const h = await boundEsme();
    await expect(
      h.session.bind('bind_transmitter', { system_id: 'a', password: 'b' }),
    ).rejects.toBeInstanceOf(SmppNotBoundError);
    const smsc = new SmppSession(new MemorySocket(), { role: 'smsc', clock: new FakeClock() });
    await expect(smsc.bind('bind_transceiver', { system_id: 'a', password: 'b' })).rejects.toBeInstanceOf(
      SmppNotBoundError,
    );
    smsc.destroy();
  });

  it('a connection lost while binding rejects the bind with the close reason', async () => {
    const h = open();
    const bind = bindWith(h, () => undefined).catch((e: unknown) => e);
    await settle();
    h.socket.injectEnd();
    const error = await bind;
    expect(error).toBeInstanceOf(SmppConnectionClosedError);
    expect(error).toMatchObject({ reason: 'peer_closed' });
  });
});

describe('SMSC role', () => {
  it('closes a connection that does not bind within sessionInitTimeoutMs', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = new SmppSession(socket, { role: 'smsc', clock, sessionInitTimeoutMs: 10 * S });
    const closes: CloseReason[] = [];
    session.on('close', ({ reason }) => closes.push(reason));
    clock.advance(10 * S - 1);
    expect(session.closed).toBe(false);
    clock.advance(1);
    expect(closes).toEqual(['session_init_timeout']);
    expect(socket.destroyed).toBe(true);
  });

  it('a bind accepted in time stops the session-init timer', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = new SmppSession(socket, {
      role: 'smsc',
      clock,
      sessionInitTimeoutMs: 10 * S,
      enquireLinkIntervalMs: 0,
      onRequest: (pdu, s) => s.acceptBind(pdu, 'SIM'),
    });
    clock.advance(5 * S);
    socket.inject(
      encodePdu(createPdu('bind_transmitter', { sequence_number: 1, system_id: 'esme', password: 'x' })),
    );
    await settle();
    expect(session.state).toBe('bound_tx');
    expect(session.peerSystemId).toBe('esme');
    clock.advance(60 * S);
    expect(session.closed).toBe(false);
  });

  it('a refused bind keeps the connection open, and the timer still runs', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = new SmppSession(socket, {
      role: 'smsc',
      clock,
      sessionInitTimeoutMs: 10 * S,
      onRequest: (pdu, s) => s.rejectBind(pdu, CommandStatus.ESME_RINVPASWD),
    });
    socket.inject(
      encodePdu(createPdu('bind_transceiver', { sequence_number: 1, system_id: 'e', password: 'x' })),
    );
    await settle();
    expect(socket.takePdus()).toMatchObject([
      { command: 'bind_transceiver_resp', sequence_number: 1, command_status: CommandStatus.ESME_RINVPASWD },
    ]);
    expect(session.state).toBe('open');
    clock.advance(10 * S);
    expect(session.closeReason).toBe('session_init_timeout');
  });

  it('two binds accepted late (after an async check): the second gets ESME_RALYBND, state unchanged', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const held: Pdu[] = [];
    const session = new SmppSession(socket, {
      role: 'smsc',
      clock,
      enquireLinkIntervalMs: 0,
      onRequest: (pdu) => held.push(pdu),
    });
    const states: string[] = [];
    session.on('state', ({ from, to }) => states.push(`${from}->${to}`));
    socket.inject(
      encodePdu(createPdu('bind_transceiver', { sequence_number: 1, system_id: 'a', password: 'x' })),
    );
    socket.inject(
      encodePdu(createPdu('bind_transmitter', { sequence_number: 2, system_id: 'b', password: 'x' })),
    );
    await settle();
    expect(held.map((p) => p.command)).toEqual(['bind_transceiver', 'bind_transmitter']);
    for (const pdu of held) session.acceptBind(pdu, 'SIM');
    await settle();
    expect(socket.takePdus()).toMatchObject([
      { command: 'bind_transceiver_resp', sequence_number: 1, command_status: 0, system_id: 'SIM' },
      { command: 'bind_transmitter_resp', sequence_number: 2, command_status: CommandStatus.ESME_RALYBND },
    ]);
    expect(states).toEqual(['open->bound_trx']);
    expect(session.peerSystemId).toBe('a');
    session.destroy();
  });

  it('announces sc_interface_version only to a 3.4 peer (reference §4.11)', async () => {
    for (const [version, expected] of [
      [0x34, [{ tag: TlvTag.sc_interface_version, value: 0x34 }]],
      [0x33, []],
    ] as const) {
      const socket = new MemorySocket();
      const session = new SmppSession(socket, {
        role: 'smsc',
        clock: new FakeClock(),
        onRequest: (pdu, s) => s.acceptBind(pdu, 'SIM'),
      });
      socket.inject(
        encodePdu(
          createPdu('bind_receiver', {
            sequence_number: 3,
            system_id: 'e',
            password: 'x',
            interface_version: version,
          }),
        ),
      );
      await settle();
      const [resp] = socket.takePdus();
      expect(resp).toMatchObject({ command: 'bind_receiver_resp', system_id: 'SIM', tlvs: expected });
      session.destroy();
    }
  });
});

describe('closing', () => {
  it('close() unbinds, waits for unbind_resp, then ends the connection: local_close', async () => {
    const h = await boundEsme();
    const closing = h.session.close();
    await settle();
    const [unbind] = h.socket.takePdus();
    expect(unbind).toMatchObject({ command: 'unbind' });
    expect(h.session.state).toBe('unbinding');
    h.inject(createPdu('unbind_resp', { sequence_number: unbind!.sequence_number }));
    await closing;
    expect(h.states).toEqual(['bound_trx->unbinding', 'unbinding->closed']);
    expect(h.closes.map((c) => c.reason)).toEqual(['local_close']);
    expect(h.socket.finished).toBe(true);
    // A peer that never closes its side does not hold the socket: it is destroyed after a linger.
    h.clock.advance(1 * S);
    expect(h.socket.destroyed).toBe(true);
  });

  it('EOF instead of unbind_resp counts as a completed unbind', async () => {
    const h = await boundEsme();
    const closing = h.session.close();
    await settle();
    h.socket.injectEnd();
    await closing;
    expect(h.closes.map((c) => c.reason)).toEqual(['local_close']);
  });

  it('an unanswered unbind closes after unbindTimeoutMs', async () => {
    const h = await boundEsme({ unbindTimeoutMs: 5 * S, responseTimeoutMs: 60 * S });
    let done = false;
    const closing = h.session.close().then(() => {
      done = true;
    });
    await settle();
    h.clock.advance(5 * S - 1);
    await settle();
    expect(done).toBe(false);
    h.clock.advance(1);
    await closing;
    expect(h.closes.map((c) => c.reason)).toEqual(['local_close']);
  });

  it('requests pending at close are rejected with local_close; new ones are refused', async () => {
    const h = await boundEsme();
    const pending = h.session.request('submit_sm', { destination_addr: '1' }).catch((e: unknown) => e);
    const closing = h.session.close();
    await expect(h.session.request('submit_sm', {})).rejects.toBeInstanceOf(SmppNotBoundError);
    await settle();
    h.socket.injectEnd();
    await closing;
    expect(await pending).toMatchObject({ code: 'SMPP_ERR_SESSION_CLOSED', reason: 'local_close' });
  });

  it('close() is idempotent: one unbind for any number of calls', async () => {
    const h = await boundEsme();
    const a = h.session.close();
    const b = h.session.close();
    await settle();
    expect(h.socket.takePdus().filter((p) => p.command === 'unbind')).toHaveLength(1);
    h.socket.injectEnd();
    await Promise.all([a, b, h.session.close(), h.session.whenClosed()]);
    expect(h.closes).toHaveLength(1);
  });

  it('close() before binding closes at once without unbind', async () => {
    const h = open();
    await h.session.close();
    expect(h.socket.takePdus()).toEqual([]);
    expect(h.closes.map((c) => c.reason)).toEqual(['local_close']);
  });

  it('destroy() is idempotent and the first reason wins', async () => {
    const h = await boundEsme();
    h.session.destroy('keepalive_timeout');
    h.session.destroy('local_close');
    expect(h.closes.map((c) => c.reason)).toEqual(['keepalive_timeout']);
    expect(h.session.closeReason).toBe('keepalive_timeout');
    expect(() => h.session.send(createPdu('enquire_link', {}))).toThrow(SmppConnectionClosedError);
  });

  it('leaves no timer behind once closed', async () => {
    const h = await boundEsme({ enquireLinkIntervalMs: 30 * S, inactivityTimeoutMs: 90 * S });
    const pending = h.session.request('submit_sm', {}).catch(() => undefined);
    h.session.destroy();
    await pending;
    expect(h.clock.pending).toBe(0);
  });
});

describe('socket failures become close reasons, never exceptions', () => {
  const uncaught: unknown[] = [];
  const spy = (error: unknown): void => {
    uncaught.push(error);
  };
  beforeEach(() => {
    uncaught.length = 0;
    process.on('uncaughtException', spy);
  });
  afterEach(async () => {
    await settle();
    process.off('uncaughtException', spy);
    expect(uncaught).toEqual([]);
  });

  it('ECONNRESET while reading: socket_error carrying the cause', async () => {
    const h = await boundEsme();
    const pending = h.session.request('submit_sm', {}).catch((e: unknown) => e);
    h.socket.injectError('ECONNRESET');
    await settle();
    expect(h.closes).toHaveLength(1);
    expect(h.closes[0]!.reason).toBe('socket_error');
    expect(h.closes[0]!.error).toMatchObject({ code: 'ECONNRESET' });
    expect(await pending).toMatchObject({ reason: 'socket_error' });
  });

  it('EPIPE on a write: socket_error', async () => {
    const h = await boundEsme();
    h.socket.failNextWrite('EPIPE');
    const pending = h.session.request('submit_sm', {}).catch((e: unknown) => e);
    await settle();
    expect(h.closes.map((c) => c.reason)).toEqual(['socket_error']);
    expect(h.closes[0]!.error).toMatchObject({ code: 'EPIPE', syscall: 'write' });
    expect(await pending).toMatchObject({ code: 'SMPP_ERR_SESSION_CLOSED', reason: 'socket_error' });
  });

  it("'end' from the peer: peer_closed", async () => {
    const h = await boundEsme();
    h.socket.injectEnd();
    await settle();
    expect(h.closes.map((c) => c.reason)).toEqual(['peer_closed']);
    expect(h.states).toEqual(['bound_trx->closed']);
  });

  it('an error emitted after the session closed is absorbed', async () => {
    const h = await boundEsme();
    h.session.destroy();
    h.socket.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await settle();
    expect(h.closes.map((c) => c.reason)).toEqual(['local_close']);
  });

  it('writing to a session whose peer reset mid-batch never throws', async () => {
    const h = await boundEsme();
    const all = Array.from({ length: 20 }, (_, i) =>
      h.session.request('submit_sm', { destination_addr: String(i) }).catch((e: unknown) => e),
    );
    h.socket.failNextWrite('ECONNRESET');
    const results = await Promise.all(all);
    for (const r of results) expect(r).toBeInstanceOf(SmppConnectionClosedError);
  });
});

describe('an ESME session and an SMSC session on a socket pair', () => {
  it('bind, submit, deliver, unbind: both sides see the same story', async () => {
    const [esmeSocket, smscSocket] = memorySocketPair();
    const clock = new FakeClock();
    const delivered: string[] = [];
    const smsc = new SmppSession(smscSocket, {
      role: 'smsc',
      clock,
      onRequest: (pdu, s) => {
        if (pdu.command === 'bind_transceiver') s.acceptBind(pdu, 'SIM');
        else if (pdu.command === 'submit_sm') s.respond(pdu, { message_id: `m${pdu.sequence_number}` });
      },
    });
    const esme = new SmppSession(esmeSocket, {
      role: 'esme',
      clock,
      onRequest: (pdu, s) => {
        if (pdu.command === 'deliver_sm') {
          delivered.push(pdu.short_message.toString());
          s.respond(pdu);
        }
      },
    });
    await esme.bind('bind_transceiver', { system_id: 'esme', password: 'pw' });
    expect(smsc.state).toBe('bound_trx');
    const resp = await esme.request('submit_sm', { destination_addr: '447700900123' });
    expect(resp).toMatchObject({ command: 'submit_sm_resp', message_id: 'm2' });
    const dlr = await smsc.request('deliver_sm', { short_message: Buffer.from('id:m2 stat:DELIVRD') });
    expect(dlr).toMatchObject({ command: 'deliver_sm_resp', command_status: 0 });
    expect(delivered).toEqual(['id:m2 stat:DELIVRD']);
    const probe = await smsc.probe();
    expect(probe.ok).toBe(true);

    await esme.close();
    await smsc.whenClosed();
    expect(esme.closeReason).toBe('local_close');
    expect(smsc.closeReason).toBe('peer_unbind');
    expect(esme.pdusOut).toMatchObject({ bind_transceiver: 1, submit_sm: 1, deliver_sm_resp: 1, unbind: 1 });
    expect(smsc.pdusIn).toMatchObject({ bind_transceiver: 1, submit_sm: 1, deliver_sm_resp: 1, unbind: 1 });
  });
});
