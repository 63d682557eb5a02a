import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmppError } from '../../src/errors.js';
import {
  decodePdu,
  decodePduByLayout,
  encodePdu,
  encodePduByLayout,
  MAX_SHORT_MESSAGE_LENGTH,
} from '../../src/protocol/codec.js';
import { CommandId, DEFAULT_MAX_PDU_LENGTH, TlvTag } from '../../src/protocol/constants.js';
import { SmppDecodeError, SmppEncodeError } from '../../src/protocol/errors.js';
import { type FieldSpec, LAYOUTS } from '../../src/protocol/layouts.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';
import { anyPduArb, COMMANDS, pduArb } from './fixtures/arbitraries.js';
import { fuzzInput, seededRng } from './fixtures/fuzz.js';
import { bytes, GOLDEN } from './fixtures/golden.js';

function decodeOk(buf: Buffer): Pdu {
  const r = decodePdu(buf);
  if (!r.ok) throw new Error(`expected a PDU, got: ${r.error.message}`);
  return r.pdu;
}

function decodeErr(buf: Buffer): SmppDecodeError {
  const r = decodePdu(buf);
  if (r.ok) throw new Error(`expected a decode error, got ${r.pdu.command}`);
  expect(r.error).toBeInstanceOf(SmppDecodeError);
  expect(r.error).toBeInstanceOf(SmppError);
  return r.error;
}

function encodeErr(pdu: unknown, options?: { maxPduLength?: number }): SmppEncodeError {
  try {
    encodePdu(pdu as Pdu, options);
  } catch (e) {
    expect(e).toBeInstanceOf(SmppEncodeError);
    expect(e).toBeInstanceOf(SmppError);
    expect((e as SmppEncodeError).code).toBe('SMPP_ERR_ENCODE');
    return e as SmppEncodeError;
  }
  throw new Error('expected encodePdu to throw');
}

/** A frame with a correct command_length built around a header and a body. */
function frame(commandId: number, status: number, seq: number, bodyHex = ''): Buffer {
  const body = bytes(bodyHex);
  const head = Buffer.alloc(16);
  head.writeUInt32BE(16 + body.length, 0);
  head.writeUInt32BE(commandId, 4);
  head.writeUInt32BE(status, 8);
  head.writeUInt32BE(seq, 12);
  return Buffer.concat([head, body]);
}

const submit = (init: Parameters<typeof createPdu<'submit_sm'>>[1]) => createPdu('submit_sm', init);

describe('golden fixtures', () => {
  it('cover every command of LAYOUTS', () => {
    const covered = new Set(GOLDEN.map((f) => f.pdu.command));
    expect([...COMMANDS].filter((c) => !covered.has(c))).toEqual([]);
    expect(COMMANDS).toHaveLength(33);
  });

  it('include every worked example of reference §13', () => {
    const refs = GOLDEN.filter((f) => f.ref.startsWith('§13')).map((f) => f.ref.slice(0, 5));
    for (const section of ['§13.1', '§13.2', '§13.3', '§13.4', '§13.5', '§13.6', '§13.7']) {
      expect(refs).toContain(section);
    }
    // §13.2 gives three answers to the bind.
    expect(
      GOLDEN.filter((f) => f.pdu.command === 'bind_transceiver_resp' && f.ref.startsWith('§13.2')),
    ).toHaveLength(3);
  });

  describe.each(GOLDEN.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    it(`decodes to the expected PDU (${f.ref})`, () => {
      expect(decodeOk(bytes(f.hex))).toEqual(f.pdu);
    });

    it(
      f.encodesTo ? 'encodes to the other legal form, which decodes the same' : 'encodes back byte for byte',
      () => {
        const out = encodePdu(f.pdu);
        const expected = bytes(f.encodesTo ?? f.hex);
        expect(out.toString('hex')).toBe(expected.toString('hex'));
        expect(out.readUInt32BE(0)).toBe(out.length);
        expect(decodeOk(out)).toEqual(f.pdu);
      },
    );
  });

  it('names the §13.5 receipt TLVs the way the reference decodes them', () => {
    const dlr = GOLDEN.find((f) => f.ref === '§13.5' && f.pdu.command === 'deliver_sm')!;
    expect(bytes(dlr.hex)).toHaveLength(171);
    const pdu = decodeOk(bytes(dlr.hex));
    expect(pdu.tlvs).toEqual([
      { tag: 0x001e, value: '1A2B3C' },
      { tag: 0x0427, value: 2 },
    ]);
  });
});

describe('encodePdu validation: the encoder never sends a PDU that breaks the spec', () => {
  it('counts the NUL in C-Octet String maxima: system_id of 15 characters fits, 16 do not (§1.1)', () => {
    const ok = createPdu('bind_transmitter', { system_id: 'a'.repeat(15), interface_version: 0x34 });
    expect(encodePdu(ok).length).toBe(16 + 16 + 1 + 1 + 3 + 1);
    const e = encodeErr({ ...ok, system_id: 'a'.repeat(16) });
    expect(e.field).toBe('system_id');
    expect(e.message).toMatch(/bind_transmitter\.system_id/);
    expect(e.message).toMatch(/15/);
  });

  it.each([
    ['password', 9],
    ['system_type', 13],
    ['address_range', 41],
  ] as const)('limits bind %s to %i octets with its NUL', (field, max) => {
    const base = createPdu('bind_receiver', {});
    expect(() => encodePdu({ ...base, [field]: 'x'.repeat(max - 1) })).not.toThrow();
    expect(encodeErr({ ...base, [field]: 'x'.repeat(max) }).field).toBe(field);
  });

  it('limits service_type to 5 characters (jsmpp#64 off-by-one, §1.1)', () => {
    expect(() => encodePdu(submit({ service_type: 'USSD1' }))).not.toThrow();
    expect(encodeErr(submit({ service_type: 'USSD12' })).field).toBe('service_type');
  });

  it('rejects characters outside Latin-1 and NUL inside a C-Octet String', () => {
    expect(encodeErr(submit({ source_addr: 'Caf€' })).field).toBe('source_addr');
    expect(encodeErr(createPdu('bind_transceiver', { system_id: 'a\u0000b' })).field).toBe('system_id');
    // Latin-1 above 0x7F is allowed and sent as one octet.
    const out = encodePdu(submit({ source_addr: 'Café' }));
    expect(out.includes(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x00]))).toBe(true);
  });

  it('rejects a string field that is not a string', () => {
    expect(encodeErr({ ...submit({}), destination_addr: 447700900123 }).field).toBe('destination_addr');
    expect(encodeErr({ ...submit({}), destination_addr: undefined }).field).toBe('destination_addr');
  });

  it.each([256, -1, 1.5, Number.NaN, '1'])('rejects the 1-octet integer %s', (v) => {
    expect(encodeErr({ ...submit({}), esm_class: v }).field).toBe('esm_class');
  });

  it('keeps sequence_number within 1..0x7FFFFFFF range bounds and command_status within 32 bits', () => {
    expect(() => encodePdu(createPdu('enquire_link', { sequence_number: 0x7fffffff }))).not.toThrow();
    expect(encodeErr(createPdu('enquire_link', { sequence_number: 0x80000000 })).field).toBe(
      'sequence_number',
    );
    expect(encodeErr(createPdu('generic_nack', { command_status: 2 ** 32 })).field).toBe('command_status');
  });

  it('refuses a nonzero command_status in a request (§1.2)', () => {
    const e = encodeErr(createPdu('enquire_link', { command_status: 8 }));
    expect(e.field).toBe('command_status');
    expect(e.message).toMatch(/request/);
  });

  it(`sends at most ${MAX_SHORT_MESSAGE_LENGTH} octets of short_message (§8.7)`, () => {
    expect(() => encodePdu(submit({ short_message: Buffer.alloc(254, 0x41) }))).not.toThrow();
    const e = encodeErr(submit({ short_message: Buffer.alloc(255, 0x41) }));
    expect(e.field).toBe('short_message');
    expect(e.message).toMatch(/message_payload/);
    expect(encodeErr({ ...submit({}), short_message: 'Hello' }).field).toBe('short_message');
  });

  it.each(['2501151430000', '250115143000004X', 'abcdefghijklmnop', '25011514300000+'])(
    'rejects the time string %j (§8.5)',
    (t) => {
      expect(encodeErr(submit({ schedule_delivery_time: t })).field).toBe('schedule_delivery_time');
      expect(encodeErr(submit({ validity_period: t })).field).toBe('validity_period');
    },
  );

  it('accepts empty, absolute and relative times', () => {
    for (const t of ['', '250115143000004+', '250115143000012-', '000002120000000R']) {
      expect(() => encodePdu(submit({ validity_period: t }))).not.toThrow();
    }
    expect(encodeErr(createPdu('query_sm_resp', { final_date: '2501151231' })).field).toBe('final_date');
  });

  it('needs 1 to 254 submit_multi destinations', () => {
    const dest = { dest_flag: 1 as const, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '4477' };
    const multi = (n: number) =>
      createPdu('submit_multi', { dest_address: Array.from({ length: n }, () => dest) });
    expect(encodeErr(multi(0)).field).toBe('dest_address');
    expect(encodeErr(multi(255)).field).toBe('dest_address');
    const out = encodePdu(multi(254));
    expect(decodeOk(out)).toMatchObject({ dest_address: expect.arrayContaining([dest]) });
  });

  it('names the bad entry inside submit_multi and submit_multi_resp lists', () => {
    const bad = createPdu('submit_multi', {
      dest_address: [{ dest_flag: 2, dl_name: 'ok' }, { dest_flag: 3, dl_name: 'x' } as never],
    });
    expect(encodeErr(bad).field).toBe('dest_address[1].dest_flag');
    const longDl = createPdu('submit_multi', { dest_address: [{ dest_flag: 2, dl_name: 'd'.repeat(21) }] });
    expect(encodeErr(longDl).field).toBe('dest_address[0].dl_name');
    const resp = createPdu('submit_multi_resp', {
      unsuccess_sme: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '1', error_status_code: -1 }],
    });
    expect(encodeErr(resp).field).toBe('unsuccess_sme[0].error_status_code');
  });

  it('refuses short_message and message_payload both carrying data (§8.7)', () => {
    const both = submit({
      short_message: Buffer.from('Hi'),
      tlvs: [{ tag: TlvTag.message_payload, value: Buffer.from('Hello') }],
    });
    expect(encodeErr(both).field).toBe('message_payload');
    // An empty short_message next to message_payload is the documented way.
    expect(() => encodePdu({ ...both, short_message: Buffer.alloc(0) })).not.toThrow();
  });

  it('refuses a TLV value over 65535 octets and names the TLV', () => {
    const big = submit({ tlvs: [{ tag: TlvTag.message_payload, value: Buffer.alloc(65536) }] });
    const e = encodeErr(big, { maxPduLength: 200_000 });
    expect(e.field).toBe('message_payload');
    expect(e.message).toMatch(/65535/);
    const unknown = submit({ tlvs: [{ tag: 0x1400, value: Buffer.alloc(65536) }] });
    expect(encodeErr(unknown, { maxPduLength: 200_000 }).field).toMatch(/^tlvs\[0\].*0x1400/);
  });

  it('checks TLV values against the tag type', () => {
    expect(encodeErr(submit({ tlvs: [{ tag: TlvTag.user_message_reference, value: 0x10000 }] })).field).toBe(
      'user_message_reference',
    );
    expect(encodeErr(submit({ tlvs: [{ tag: TlvTag.message_state, value: 256 }] })).field).toBe(
      'message_state',
    );
    expect(encodeErr(submit({ tlvs: [{ tag: TlvTag.message_payload, value: 5 }] })).field).toBe(
      'message_payload',
    );
    expect(encodeErr(submit({ tlvs: [{ tag: TlvTag.message_state, value: 'x' }] })).field).toBe(
      'message_state',
    );
    expect(encodeErr(submit({ tlvs: [{ tag: 0x1400, value: 1 }] })).field).toMatch(/^tlvs\[0\]/);
    expect(encodeErr(submit({ tlvs: [{ tag: 0x10000, value: Buffer.alloc(1) }] })).field).toBe('tlvs[0].tag');
    expect(encodeErr(submit({ tlvs: [{ tag: TlvTag.receipted_message_id, value: 'a\u0000' }] })).field).toBe(
      'receipted_message_id',
    );
  });

  it('refuses TLVs on a PDU that carries none', () => {
    const e = encodeErr({
      ...createPdu('enquire_link', {}),
      tlvs: [{ tag: TlvTag.message_state, value: 1 }],
    });
    expect(e.field).toBe('tlvs');
  });

  it('refuses an unknown command', () => {
    expect(encodeErr({ command: 'submit_sm_v9', command_status: 0, sequence_number: 1 }).field).toBe(
      'command',
    );
  });

  it(`caps command_length at maxPduLength (default ${DEFAULT_MAX_PDU_LENGTH})`, () => {
    // 16 header + 17 empty mandatory octets + 4 TLV header = 37 octets around the payload.
    const fits = submit({
      tlvs: [{ tag: TlvTag.message_payload, value: Buffer.alloc(DEFAULT_MAX_PDU_LENGTH - 37) }],
    });
    expect(encodePdu(fits).length).toBe(DEFAULT_MAX_PDU_LENGTH);
    const over = submit({
      tlvs: [{ tag: TlvTag.message_payload, value: Buffer.alloc(DEFAULT_MAX_PDU_LENGTH - 36) }],
    });
    const e = encodeErr(over);
    expect(e.field).toBe('command_length');
    expect(e.message).toMatch(String(DEFAULT_MAX_PDU_LENGTH));
    const small = submit({ tlvs: [{ tag: TlvTag.message_payload, value: Buffer.alloc(2000) }] });
    expect(encodeErr(small, { maxPduLength: 1000 }).field).toBe('command_length');
    expect(encodePdu(small, { maxPduLength: 2037 }).length).toBe(2037);
  });

  it('sends a failed response header-only when it has nothing to say, its body otherwise (§1.4)', () => {
    expect(encodePdu(createPdu('submit_sm_resp', { command_status: 0x58, sequence_number: 4 }))).toHaveLength(
      16,
    );
    const withId = encodePdu(
      createPdu('submit_sm_resp', { command_status: 0x0b, message_id: 'X', sequence_number: 4 }),
    );
    expect(withId.toString('hex')).toBe('00000012800000040000000b000000045800');
    const withTlv = encodePdu(
      createPdu('data_sm_resp', {
        command_status: 0xfe,
        tlvs: [{ tag: TlvTag.delivery_failure_reason, value: 1 }],
      }),
    );
    expect(withTlv).toHaveLength(16 + 1 + 5);
  });
});

describe('encodePdu on malformed objects (untyped callers)', { timeout: 300_000 }, () => {
  const junk = fc.anything({
    withNullPrototype: true,
    withBoxedValues: true,
    withTypedArray: true,
    withMap: true,
  });

  function encodesOrRefuses(value: unknown): void {
    try {
      encodePdu(value as Pdu);
    } catch (e) {
      if (!(e instanceof SmppEncodeError)) throw e;
    }
  }

  it('throws only SmppEncodeError when any field holds any value', () => {
    fc.assert(
      fc.property(anyPduArb(), junk, fc.nat(), (p, value, k) => {
        const keys = Object.keys(p);
        encodesOrRefuses({ ...p, [keys[k % keys.length]!]: value });
      }),
      { numRuns: 5000 },
    );
  });

  it('throws only SmppEncodeError when a list entry or one of its fields holds any value', () => {
    const lists = {
      submit_multi: 'dest_address',
      submit_sm: 'tlvs',
      submit_multi_resp: 'unsuccess_sme',
    } as const;
    const cmd = fc.constantFrom(...(Object.keys(lists) as (keyof typeof lists)[]));
    fc.assert(
      fc.property(cmd.chain(pduArb), junk, fc.nat(), fc.boolean(), (p, value, k, inner) => {
        const key = lists[p.command as keyof typeof lists];
        const list = [...((p as unknown as Record<string, object[]>)[key] ?? [])];
        const at = k % (list.length + 1);
        const entry = list[at];
        if (inner && entry) {
          const fields = Object.keys(entry);
          list[at] = { ...entry, [fields[k % fields.length]!]: value };
        } else list[at] = value as object;
        encodesOrRefuses({ ...p, [key]: list });
      }),
      { numRuns: 5000 },
    );
  });

  it('throws only SmppEncodeError for values that are not PDUs at all', () => {
    fc.assert(fc.property(junk, encodesOrRefuses), { numRuns: 2000 });
    const e = encodeErr(null);
    expect(e.field).toBe('command');
    expect(encodeErr({ ...createPdu('submit_sm', {}), tlvs: [null] }).field).toBe('tlvs[0]');
    expect(encodeErr({ ...createPdu('submit_sm', {}), tlvs: {} }).field).toBe('tlvs');
    expect(encodeErr({ ...createPdu('submit_multi', {}), dest_address: [7] }).field).toBe('dest_address[0]');
  });
});

describe('decodePdu tolerance: what real peers send is read, what cannot be read is a typed value', () => {
  const responses = COMMANDS.filter((c) => (CommandId[c] & 0x80000000) !== 0);

  it.each(responses)('reads a failed %s as header only and as header + lone NUL (§1.4)', (command) => {
    const id = CommandId[command];
    for (const body of ['', '00']) {
      const pdu = decodeOk(frame(id, 0x08, 77, body));
      expect(pdu).toEqual({ ...createPdu(command, { command_status: 0x08, sequence_number: 77 }), tlvs: [] });
    }
  });

  it('reads a failed response whose body is broken as far as it goes', () => {
    // message_id without its NUL: fine for an error response, whose body the spec does not require.
    const pdu = decodeOk(frame(CommandId.submit_sm_resp, 0x45, 3, '616263'));
    expect(pdu).toMatchObject({ command: 'submit_sm_resp', command_status: 0x45, message_id: '' });
    // A failed response with a truncated TLV keeps the fields before it.
    const resp = decodeOk(frame(CommandId.data_sm_resp, 0xfe, 3, '4100 0425 0005 01'));
    expect(resp).toMatchObject({ message_id: 'A', tlvs: [] });
  });

  it('ignores stray octets after a header-only request or response (§11.4)', () => {
    expect(decodeOk(frame(CommandId.enquire_link, 0, 9, '00'))).toEqual(
      createPdu('enquire_link', { sequence_number: 9, tlvs: [] }),
    );
    expect(decodeOk(frame(CommandId.unbind_resp, 0, 9, '000000'))).toMatchObject({ command: 'unbind_resp' });
  });

  it('accepts over-long strings on decode; the encoder then names the field', () => {
    const longId = 'S'.repeat(20);
    const resp = decodeOk(
      frame(CommandId.bind_transmitter_resp, 0, 1, `${Buffer.from(longId).toString('hex')}00`),
    );
    expect(resp).toMatchObject({ system_id: longId });
    expect(encodeErr(resp).field).toBe('system_id');
  });

  it('accepts sm_length 255 on decode (§15 #9)', () => {
    const body = `00 0000 00 0000 00 000000 00 00 00000000 FF ${'41'.repeat(255)}`;
    const pdu = decodeOk(frame(CommandId.submit_sm, 0, 1, body));
    expect(pdu).toMatchObject({ short_message: Buffer.alloc(255, 0x41) });
    expect(encodeErr(pdu).field).toBe('short_message');
  });

  it('keeps a nonzero command_status of a request as received (§1.4: ignore it)', () => {
    expect(decodeOk(frame(CommandId.enquire_link, 5, 1))).toMatchObject({
      command: 'enquire_link',
      command_status: 5,
    });
  });

  it('copies short_message and raw TLV values out of the frame', () => {
    const f = GOLDEN.find((g) => g.name.startsWith('deliver_sm with repeated'))!;
    const buf = bytes(f.hex);
    const pdu = decodeOk(buf);
    buf.fill(0xee, 16);
    expect(pdu).toEqual(f.pdu);
  });

  it('answers a missing NUL with a recoverable ESME_RINVCMDLEN carrying the header', () => {
    const e = decodeErr(frame(CommandId.bind_transmitter, 0, 42, '74657374'));
    expect(e.recoverable).toBe(true);
    expect(e.code).toBe('SMPP_ERR_DECODE_BODY');
    expect(e.commandStatus).toBe(0x02);
    expect(e.header).toEqual({ command_length: 20, command_id: 2, command_status: 0, sequence_number: 42 });
    expect(e.message).toMatch(/bind_transmitter seq 42: system_id/);
  });

  it('answers a body that ends early with ESME_RINVCMDLEN', () => {
    // bind_transmitter whose strings are there but the three integers are not.
    const e = decodeErr(frame(CommandId.bind_transmitter, 0, 1, '61 00 62 00 63 00 34'));
    expect(e).toMatchObject({ recoverable: true, commandStatus: 0x02 });
    expect(e.message).toMatch(/addr_ton/);
  });

  it('answers sm_length past the end with ESME_RINVMSGLEN (0x01, §11.3)', () => {
    const body = '00 0000 00 0000 00 000000 00 00 00000000 10 4142';
    const e = decodeErr(frame(CommandId.submit_sm, 0, 6, body));
    expect(e).toMatchObject({ recoverable: true, commandStatus: 0x01 });
    expect(e.header?.sequence_number).toBe(6);
    expect(e.message).toMatch(/sm_length 16/);
  });

  it.each([
    ['a TLV length past the end', '0424 0010 4142'],
    ['a TLV header cut short', '04'],
    ['three stray octets', '042400'],
  ])('answers %s with ESME_RINVTLVSTREAM (0xC0, §7.1)', (_what, tlvHex) => {
    const body = `00 0000 00 0000 00 000000 00 00 00000000 00 ${tlvHex}`;
    const e = decodeErr(frame(CommandId.submit_sm, 0, 7, body));
    expect(e).toMatchObject({ recoverable: true, commandStatus: 0xc0 });
  });

  it('answers an invalid dest_flag with ESME_RINVDESTFLAG (0x40)', () => {
    const e = decodeErr(frame(CommandId.submit_multi, 0, 7, '00 0000 00 01 03 00'));
    expect(e).toMatchObject({ recoverable: true, commandStatus: 0x40 });
  });

  it('answers an unknown command_id with a recoverable ESME_RINVCMDID and the header (§13.3)', () => {
    const e = decodeErr(bytes('00000010 00000099 00000000 00000005'));
    expect(e.recoverable).toBe(true);
    expect(e.commandStatus).toBe(0x03);
    expect(e.header).toEqual({ command_length: 16, command_id: 0x99, command_status: 0, sequence_number: 5 });
    expect(e.message).toMatch(/0x00000099 seq 5/);
  });

  it.each([
    ['shorter than its command_length', bytes('00000011 00000015 00000000 00000001')],
    ['longer than its command_length', bytes('00000010 00000015 00000000 00000001 00')],
    ['shorter than a header', bytes('00000008 00000015')],
    ['empty', Buffer.alloc(0)],
  ])('reports a frame %s as unrecoverable', (_what, buf) => {
    const e = decodeErr(buf);
    expect(e.recoverable).toBe(false);
    expect(e.code).toBe('SMPP_ERR_DECODE_FRAMING');
    expect(e.header).toBeUndefined();
    expect(e.commandStatus).toBe(0x02);
  });
});

describe('round trip: decodePdu(encodePdu(p)) equals p for random valid PDUs', { timeout: 300_000 }, () => {
  it.each(COMMANDS)('%s', (command) => {
    fc.assert(
      fc.property(pduArb(command), (p) => {
        const out = encodePdu(p);
        expect(out.readUInt32BE(0)).toBe(out.length);
        expect(out.readUInt32BE(4)).toBe(CommandId[command]);
        expect(decodeOk(out)).toEqual(p);
      }),
      { numRuns: 150 },
    );
  });

  it('carries the largest message_payload a TLV holds (65535 octets) when maxPduLength allows it', () => {
    const payload = Buffer.alloc(65535);
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
    const p = createPdu('data_sm', {
      sequence_number: 1,
      tlvs: [{ tag: TlvTag.message_payload, value: payload }],
    });
    // 16 + 10 mandatory + 4 + 65535 = 65565: a little over the default cap of 65536 + 16 (§1.2).
    expect(encodeErr(p).field).toBe('command_length');
    const out = encodePdu(p, { maxPduLength: 65565 });
    expect(out).toHaveLength(65565);
    expect(decodeOk(out)).toEqual(p);
  });
});

describe('createPdu', () => {
  it.each(COMMANDS)('fills every %s field with its empty value', (command) => {
    const pdu = createPdu(command, { sequence_number: 3 }) as unknown as Record<string, unknown>;
    expect(pdu.command).toBe(command);
    expect(pdu.command_status).toBe(0);
    expect(pdu.sequence_number).toBe(3);
    for (const spec of LAYOUTS[command] as readonly FieldSpec[]) {
      const empty = {
        u8: 0,
        u16: 0,
        u32: 0,
        cstring: '',
        time: '',
        sm: Buffer.alloc(0),
        dests: [],
        unsuccess: [],
      };
      expect(pdu[spec.name]).toEqual(empty[spec.kind]);
    }
  });

  it('keeps the fields given', () => {
    const pdu = createPdu('submit_sm', { destination_addr: '4477', registered_delivery: 1 });
    expect(pdu).toMatchObject({ destination_addr: '4477', registered_delivery: 1, source_addr: '' });
    expect(pdu.tlvs).toBeUndefined();
  });

  it('builds a PDU that encodes for every command whose empty body is legal', () => {
    for (const command of COMMANDS) {
      const pdu = createPdu(command, { sequence_number: 1 }) as Pdu;
      if (command === 'submit_multi') {
        expect(encodeErr(pdu).field).toBe('dest_address');
        continue;
      }
      expect(decodeOk(encodePdu(pdu))).toEqual({ ...pdu, tlvs: [] });
    }
  });
});

describe('compiled fast path and layout interpreter agree', { timeout: 300_000 }, () => {
  type Outcome = { bytes: string } | { field: string; message: string };

  function encodeOutcome(encode: typeof encodePdu, p: unknown): Outcome {
    try {
      return { bytes: encode(p as Pdu).toString('hex') };
    } catch (e) {
      if (!(e instanceof SmppEncodeError)) throw e;
      return { field: e.field, message: e.message };
    }
  }

  const NEAR_MISSES: unknown[] = [
    -1,
    0,
    1,
    255,
    256,
    65535,
    65536,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    1.5,
    -0,
    Number.NaN,
    '',
    'x',
    'x'.repeat(5),
    'x'.repeat(6),
    'x'.repeat(15),
    'x'.repeat(16),
    'x'.repeat(64),
    'x'.repeat(65),
    'a\u0000b',
    'é',
    '€',
    '250115143000004+',
    '000002120000000R',
    '25011514300000',
    Buffer.alloc(0),
    Buffer.alloc(254, 1),
    Buffer.alloc(255, 1),
    [],
    [{ dest_flag: 2, dl_name: 'x' }],
    null,
    undefined,
    {},
  ];

  it('encode: the same octets for random valid PDUs, failed responses included', () => {
    fc.assert(
      fc.property(anyPduArb(), (p) => {
        expect(encodeOutcome(encodePdu, p)).toEqual(encodeOutcome(encodePduByLayout, p));
      }),
      { numRuns: 3000 },
    );
  });

  it('encode: the same octets or the same error when one field or TLV is a near miss', () => {
    fc.assert(
      fc.property(
        anyPduArb(),
        fc.constantFrom(...NEAR_MISSES),
        fc.nat(),
        fc.boolean(),
        (p, value, k, inTlv) => {
          const keys = Object.keys(p).filter((key) => key !== 'command');
          const bad =
            inTlv && p.tlvs && p.tlvs.length > 0
              ? { ...p, tlvs: p.tlvs.map((t, i) => (i === k % p.tlvs!.length ? { ...t, value } : t)) }
              : { ...p, [keys[k % keys.length]!]: value };
          expect(encodeOutcome(encodePdu, bad)).toEqual(encodeOutcome(encodePduByLayout, bad));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('encode: maxPduLength is applied the same way', () => {
    const p = createPdu('submit_sm', { tlvs: [{ tag: TlvTag.message_payload, value: Buffer.alloc(100) }] });
    for (const maxPduLength of [100, 136, 137, 138, 65552]) {
      const run = (encode: typeof encodePdu) => {
        try {
          return encode(p, { maxPduLength }).length;
        } catch (e) {
          return (e as SmppEncodeError).field;
        }
      };
      expect(run(encodePdu)).toEqual(run(encodePduByLayout));
    }
  });

  it('decode: the same PDU or the same error for golden and 50k fuzzed frames', () => {
    const same = (buf: Buffer) => {
      const fast = decodePdu(buf);
      const slow = decodePduByLayout(buf);
      if (fast.ok || slow.ok) expect(fast).toEqual(slow);
      else {
        expect(fast.error.message).toBe(slow.error.message);
        expect([fast.error.recoverable, fast.error.commandStatus, fast.error.header]).toEqual([
          slow.error.recoverable,
          slow.error.commandStatus,
          slow.error.header,
        ]);
      }
    };
    for (const f of GOLDEN) same(bytes(f.hex));
    const rng = seededRng(0xd1ff);
    for (let i = 0; i < 50_000; i++) same(fuzzInput(rng));
  });

  it('decode: the same PDU for random valid PDUs', () => {
    fc.assert(
      fc.property(anyPduArb(), (p) => {
        const buf = encodePdu(p);
        expect(decodePdu(buf)).toEqual(decodePduByLayout(buf));
      }),
      { numRuns: 3000 },
    );
  });
});
