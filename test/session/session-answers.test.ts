/**
 * What the session answers by itself (reference §3.3, §11.1, §11.3): enquire_link, unbind,
 * requests in the wrong state, unknown commands and PDUs it cannot read.
 */
import { describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { CommandId } from '../../src/protocol/constants.js';
import { SmppDecodeError } from '../../src/protocol/errors.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import { type SessionOptions, SmppSession } from '../../src/session/session.js';
import type { CloseReason } from '../../src/session/state.js';
import { MemorySocket, settle } from '../helpers/memory-duplex.js';

function header(length: number, id: number, status: number, seq: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(id, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

function open(options: Partial<SessionOptions> & Pick<SessionOptions, 'role'>) {
  const clock = new FakeClock();
  const socket = new MemorySocket();
  const session = new SmppSession(socket, { clock, enquireLinkIntervalMs: 0, ...options });
  const closes: CloseReason[] = [];
  const decodeErrors: SmppDecodeError[] = [];
  session.on('close', ({ reason }) => closes.push(reason));
  session.on('decodeError', (e) => decodeErrors.push(e));
  return {
    clock,
    socket,
    session,
    closes,
    decodeErrors,
    inject: (pdu: Pdu) => socket.inject(encodePdu(pdu)),
  };
}

async function boundEsme(
  command: 'bind_transceiver' | 'bind_transmitter' | 'bind_receiver' = 'bind_transceiver',
) {
  const h = open({ role: 'esme' });
  const bind = h.session.bind(command, { system_id: 'esme', password: 'secret' });
  await settle();
  const [req] = h.socket.takePdus();
  h.inject(createPdu(`${command}_resp`, { sequence_number: req!.sequence_number, system_id: 'SMSC' }));
  await bind;
  return h;
}

async function boundSmsc(options: Partial<SessionOptions> = {}) {
  const h = open({
    role: 'smsc',
    onRequest: (pdu, session) => {
      if (pdu.command === 'bind_transceiver') session.acceptBind(pdu, 'SIM');
    },
    ...options,
  });
  h.inject(
    createPdu('bind_transceiver', {
      sequence_number: 1,
      system_id: 'esme',
      password: 'pw',
      interface_version: 0x34,
    }),
  );
  await settle();
  expect(h.socket.takePdus()).toMatchObject([{ command: 'bind_transceiver_resp', command_status: 0 }]);
  expect(h.session.state).toBe('bound_trx');
  return h;
}

describe('enquire_link from the peer', () => {
  it('is answered with a 16-octet, body-less enquire_link_resp echoing the sequence number', async () => {
    const h = await boundEsme();
    h.socket.inject(header(16, CommandId.enquire_link, 0, 0x1625d269));
    await settle();
    expect(h.socket.takeWritten().toString('hex')).toBe('00000010800000150000000016' + '25d269');
    expect(h.session.pdusIn.enquire_link).toBe(1);
    expect(h.session.pdusOut.enquire_link_resp).toBe(1);
  });

  it('an ESME answers it before binding too (never let the SMSC think we are dead)', async () => {
    const h = open({ role: 'esme' });
    h.inject(createPdu('enquire_link', { sequence_number: 3 }));
    await settle();
    expect(h.socket.takePdus()).toMatchObject([{ command: 'enquire_link_resp', sequence_number: 3 }]);
  });

  it('an SMSC answers it before bind by default, and ignores it when answerEnquireLinkUnbound is off', async () => {
    const on = open({ role: 'smsc' });
    on.inject(createPdu('enquire_link', { sequence_number: 8 }));
    await settle();
    expect(on.socket.takePdus()).toMatchObject([{ command: 'enquire_link_resp', sequence_number: 8 }]);

    const off = open({ role: 'smsc', answerEnquireLinkUnbound: false });
    off.inject(createPdu('enquire_link', { sequence_number: 8 }));
    await settle();
    expect(off.socket.takePdus()).toEqual([]);
    expect(off.session.closed).toBe(false);
  });
});

describe('unbind from the peer', () => {
  it('is answered with unbind_resp, then the session closes with peer_unbind', async () => {
    const h = await boundEsme();
    const states: string[] = [];
    h.session.on('state', ({ from, to }) => states.push(`${from}->${to}`));
    h.inject(createPdu('unbind', { sequence_number: 41 }));
    await settle();
    expect(h.socket.takePdus()).toEqual([
      { command: 'unbind_resp', command_status: 0, sequence_number: 41, tlvs: [] },
    ]);
    expect(h.closes).toEqual(['peer_unbind']);
    expect(states).toEqual(['bound_trx->closed']);
    // The resp was flushed before our side of the connection was closed.
    expect(h.socket.finished).toBe(true);
  });

  it('before bind it is a wrong-state request: unbind_resp ESME_RINVBNDSTS, session kept', async () => {
    const h = open({ role: 'esme' });
    h.inject(createPdu('unbind', { sequence_number: 2 }));
    await settle();
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'unbind_resp', sequence_number: 2, command_status: CommandStatus.ESME_RINVBNDSTS },
    ]);
    expect(h.session.closed).toBe(false);
  });
});

describe('requests right behind the bind_resp', () => {
  it('a deliver_sm in the same segment as the bind_resp reaches the handler, not ESME_RINVBNDSTS', async () => {
    // An SMSC with MO queued for the account sends them as soon as it has answered the bind.
    const seen: string[] = [];
    const h = open({
      role: 'esme',
      onRequest: (pdu, session) => {
        seen.push(`${pdu.command} in ${session.state}`);
        session.respond(pdu, {});
      },
    });
    const bind = h.session.bind('bind_receiver', { system_id: 'esme', password: 'secret' });
    await settle();
    const [req] = h.socket.takePdus();
    h.socket.inject(
      Buffer.concat([
        encodePdu(
          createPdu('bind_receiver_resp', { sequence_number: req!.sequence_number, system_id: 'SMSC' }),
        ),
        encodePdu(
          createPdu('deliver_sm', {
            sequence_number: 7,
            source_addr: '447700900001',
            destination_addr: '12345',
            short_message: Buffer.from('queued MO'),
          }),
        ),
      ]),
    );
    await bind;
    await settle();
    expect(seen).toEqual(['deliver_sm in bound_rx']);
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'deliver_sm_resp', sequence_number: 7, command_status: CommandStatus.ESME_ROK },
    ]);
    expect(h.session.peerSystemId).toBe('SMSC');
  });

  it('a refused bind leaves the session unbound: a deliver_sm behind it is refused ESME_RINVBNDSTS', async () => {
    const seen: string[] = [];
    const h = open({ role: 'esme', onRequest: (pdu) => seen.push(pdu.command) });
    const bind = h.session.bind('bind_receiver', { system_id: 'esme', password: 'wrong' });
    await settle();
    const [req] = h.socket.takePdus();
    h.socket.inject(
      Buffer.concat([
        encodePdu(
          createPdu('bind_receiver_resp', {
            sequence_number: req!.sequence_number,
            command_status: CommandStatus.ESME_RINVPASWD,
          }),
        ),
        encodePdu(createPdu('deliver_sm', { sequence_number: 8, short_message: Buffer.from('x') })),
      ]),
    );
    await expect(bind).rejects.toThrow();
    await settle();
    expect(seen).toEqual([]);
    expect(h.session.bound).toBe(false);
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'deliver_sm_resp', sequence_number: 8, command_status: CommandStatus.ESME_RINVBNDSTS },
    ]);
  });
});

describe('requests the session cannot serve', () => {
  it('an unknown command id gets generic_nack ESME_RINVCMDID with its sequence number; the session stays', async () => {
    const h = await boundEsme();
    h.socket.inject(Buffer.concat([header(20, 0x00000099, 0, 1234), Buffer.from('abcd')]));
    await settle();
    expect(h.socket.takePdus()).toEqual([
      {
        command: 'generic_nack',
        command_status: CommandStatus.ESME_RINVCMDID,
        sequence_number: 1234,
        tlvs: [],
      },
    ]);
    expect(h.decodeErrors).toHaveLength(1);
    expect(h.session.state).toBe('bound_trx');
  });

  it('a known request in the wrong state gets its own _resp with ESME_RINVBNDSTS', async () => {
    const tx = await boundEsme('bind_transmitter');
    tx.inject(createPdu('deliver_sm', { sequence_number: 9, short_message: Buffer.from('hi') }));
    await settle();
    expect(tx.socket.takePdus()).toMatchObject([
      { command: 'deliver_sm_resp', sequence_number: 9, command_status: CommandStatus.ESME_RINVBNDSTS },
    ]);

    const smsc = open({ role: 'smsc' });
    smsc.inject(createPdu('submit_sm', { sequence_number: 5, destination_addr: '1' }));
    await settle();
    const [resp] = smsc.socket.takePdus();
    expect(resp).toMatchObject({
      command: 'submit_sm_resp',
      sequence_number: 5,
      command_status: CommandStatus.ESME_RINVBNDSTS,
    });
    expect(smsc.session.state).toBe('open');
  });

  it('a second bind on a bound session gets ESME_RALYBND and does not reach the application', async () => {
    const seen: string[] = [];
    const h = await boundSmsc({
      onRequest: (pdu, session) => {
        seen.push(pdu.command);
        if (pdu.command === 'bind_transceiver') session.acceptBind(pdu, 'SIM');
      },
    });
    h.inject(createPdu('bind_transmitter', { sequence_number: 2, system_id: 'esme', password: 'pw' }));
    await settle();
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'bind_transmitter_resp', sequence_number: 2, command_status: CommandStatus.ESME_RALYBND },
    ]);
    expect(seen).toEqual(['bind_transceiver']);
    expect(h.session.state).toBe('bound_trx');
  });

  it('with no request handler, deliver_sm is answered ESME_RX_T_APPN so the SMSC retries later', async () => {
    const h = await boundEsme();
    h.inject(createPdu('deliver_sm', { sequence_number: 70, short_message: Buffer.from('mo') }));
    await settle();
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'deliver_sm_resp', sequence_number: 70, command_status: CommandStatus.ESME_RX_T_APPN },
    ]);
  });

  it('hands allowed requests to the request handler, which answers with respond()', async () => {
    const h = await boundEsme();
    h.session.setRequestHandler((pdu, session) => session.respond(pdu, { message_id: '' }));
    h.inject(createPdu('deliver_sm', { sequence_number: 71, short_message: Buffer.from('mo') }));
    await settle();
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'deliver_sm_resp', sequence_number: 71, command_status: 0 },
    ]);
  });

  it('an outbind moves an open ESME session to outbound and is reported', async () => {
    const h = open({ role: 'esme' });
    const outbinds: string[] = [];
    h.session.on('outbind', (pdu) => outbinds.push(pdu.system_id));
    h.inject(createPdu('outbind', { sequence_number: 1, system_id: 'SMSC', password: 'pw' }));
    await settle();
    expect(outbinds).toEqual(['SMSC']);
    expect(h.session.state).toBe('outbound');
    expect(h.socket.takePdus()).toEqual([]);
  });
});

describe('PDUs the session cannot read', () => {
  it('a request with a broken body gets its own _resp carrying the decode error’s status', async () => {
    const h = await boundEsme();
    // deliver_sm whose sm_length (200) runs past the end of the PDU.
    const good = encodePdu(
      createPdu('deliver_sm', { sequence_number: 12, short_message: Buffer.from('hello') }),
    );
    const broken = Buffer.from(good);
    broken[broken.length - 6] = 200;
    h.socket.inject(broken);
    await settle();
    expect(h.decodeErrors).toHaveLength(1);
    expect(h.decodeErrors[0]!.recoverable).toBe(true);
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'deliver_sm_resp', sequence_number: 12, command_status: CommandStatus.ESME_RINVMSGLEN },
    ]);
    expect(h.session.state).toBe('bound_trx');
  });

  it('an unreadable response for a pending request rejects it with the decode error and is not answered', async () => {
    const h = await boundEsme();
    const p = h.session.request('submit_sm', { destination_addr: '1' });
    await settle();
    const [req] = h.socket.takePdus();
    // submit_sm_resp, status 0, message_id without its NUL.
    h.socket.inject(
      Buffer.concat([header(19, CommandId.submit_sm_resp, 0, req!.sequence_number), Buffer.from('abc')]),
    );
    await expect(p).rejects.toBeInstanceOf(SmppDecodeError);
    await settle();
    expect(h.socket.takePdus()).toEqual([]);
    expect(h.session.windowUsage.used).toBe(0);
  });

  it('an unknown response id is dropped without an answer', async () => {
    const h = await boundEsme();
    h.socket.inject(header(16, 0x80000099, 0, 5));
    await settle();
    expect(h.decodeErrors).toHaveLength(1);
    expect(h.socket.takePdus()).toEqual([]);
    expect(h.session.closed).toBe(false);
  });

  it('a bad command_length gets generic_nack ESME_RINVCMDLEN, then the session closes with framing_lost', async () => {
    const h = await boundEsme();
    const pending = h.session.request('submit_sm', { destination_addr: '1' }).catch((e: Error) => e);
    await settle();
    h.socket.takePdus();
    // "HTTP" where a command_length should be.
    h.socket.inject(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await settle();
    // The header is readable (16 octets), so the nack carries octets 12..15 as its sequence number
    // (reference §1.2): " Bad".
    const nack = h.socket.takePdus();
    expect(nack).toEqual([
      {
        command: 'generic_nack',
        command_status: CommandStatus.ESME_RINVCMDLEN,
        sequence_number: Buffer.from(' Bad').readUInt32BE(0),
        tlvs: [],
      },
    ]);
    expect(h.closes).toEqual(['framing_lost']);
    expect(h.socket.finished).toBe(true);
    expect(h.decodeErrors[0]!.message).toMatch(/HTTP/);
    expect(await pending).toMatchObject({ reason: 'framing_lost' });
  });

  it('a command_length below 16 with a readable header is nacked with its sequence number', async () => {
    const h = await boundEsme();
    h.socket.inject(header(8, CommandId.submit_sm, 0, 77));
    await settle();
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'generic_nack', command_status: CommandStatus.ESME_RINVCMDLEN, sequence_number: 77 },
    ]);
    expect(h.closes).toEqual(['framing_lost']);
  });

  it('a shorter-than-a-header bad length is nacked with sequence number 0', async () => {
    const h = await boundEsme();
    h.socket.inject(Buffer.from([0, 0, 0, 3, 1, 2]));
    await settle();
    expect(h.socket.takePdus()).toMatchObject([
      { command: 'generic_nack', command_status: CommandStatus.ESME_RINVCMDLEN, sequence_number: 0 },
    ]);
    expect(h.closes).toEqual(['framing_lost']);
  });

  it('garbage whose sequence number has bit 31 set is nacked and closed, never thrown', async () => {
    const h = await boundEsme();
    h.socket.inject(Buffer.alloc(16, 0xff));
    await settle();
    const written = h.socket.takeWritten();
    expect(written.toString('hex')).toBe('00000010 80000000 00000002 ffffffff'.replace(/ /g, ''));
    expect(h.closes).toEqual(['framing_lost']);
  });

  it('a request whose sequence number breaks §1.3 is still answered, echoing it', async () => {
    const h = await boundEsme();
    h.socket.inject(header(16, CommandId.enquire_link, 0, 0x80000005));
    h.socket.inject(Buffer.concat([header(20, 0x00000099, 0, 0xfffffffe), Buffer.from('abcd')]));
    h.socket.inject(header(16, CommandId.unbind, 0, 0x80000007));
    await settle();
    expect(h.socket.takeWritten().toString('hex')).toBe(
      [
        '00000010 80000015 00000000 80000005',
        '00000010 80000000 00000003 fffffffe',
        '00000010 80000006 00000000 80000007',
      ]
        .join('')
        .replace(/ /g, ''),
    );
    expect(h.closes).toEqual(['peer_unbind']);
  });

  it('reassembles PDUs split across chunks and splits PDUs sharing one chunk', async () => {
    const h = await boundEsme();
    const two = Buffer.concat([
      encodePdu(createPdu('enquire_link', { sequence_number: 100 })),
      encodePdu(createPdu('enquire_link', { sequence_number: 101 })),
    ]);
    for (const byte of two.subarray(0, 20)) h.socket.inject(Buffer.from([byte]));
    h.socket.inject(two.subarray(20));
    await settle();
    expect(h.socket.takePdus().map((p) => p.sequence_number)).toEqual([100, 101]);
  });
});
