import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmppError } from '../../src/errors.js';
import { decodePdu } from '../../src/protocol/codec.js';
import { TlvTag } from '../../src/protocol/constants.js';
import {
  formatReceiptText,
  messageIdsMatch,
  messageStateFromStat,
  normaliseMessageId,
  parseReceipt,
  type Receipt,
  type ReceiptStat,
  receiptTlvs,
  statFromMessageState,
} from '../../src/protocol/receipt.js';

// Reference §13.5: deliver_sm carrying a receipt (SMSC seq 7), 171 octets.
const RECEIPT_PDU = Buffer.from(
  `000000AB 00000005 00000000 00000007 00010134 34373730 30393030 31323300
   05004D79 4272616E 64000400 00000000 00000067 69643A31 41324233 43207375
   623A3030 3120646C 7672643A 30303120 7375626D 69742064 6174653A 32353031
   31353132 33302064 6F6E6520 64617465 3A323530 31313531 32333120 73746174
   3A44454C 49565244 20657272 3A303030 20746578 743A4865 6C6C6F00 1E000731
   41324233 43000427 000102`.replace(/\s/g, ''),
  'hex',
);
const REF_TEXT =
  'id:1A2B3C sub:001 dlvrd:001 submit date:2501151230 done date:2501151231 stat:DELIVRD err:000 text:Hello';

const utc = (iso: string) => new Date(`${iso}Z`);

function mustParse(input: Parameters<typeof parseReceipt>[0]): Receipt {
  const r = parseReceipt(input);
  if (!r) throw new Error('expected a receipt');
  return r;
}

describe('the reference §13.5 receipt', () => {
  // short_message starts after the fixed fields (sm_length 0x67 at offset 51); the TLVs follow it.
  const smStart = 52;
  const smEnd = smStart + 0x67;
  const shortMessage = RECEIPT_PDU.subarray(smStart, smEnd);
  const tlvs = [
    { tag: RECEIPT_PDU.readUInt16BE(smEnd), value: RECEIPT_PDU.subarray(smEnd + 4, smEnd + 4 + 7) },
    { tag: RECEIPT_PDU.readUInt16BE(smEnd + 11), value: RECEIPT_PDU.subarray(smEnd + 15, smEnd + 16) },
  ];

  const expected: Receipt = {
    id: '1A2B3C',
    sub: 1,
    dlvrd: 1,
    submitDate: utc('2025-01-15T12:30:00'),
    doneDate: utc('2025-01-15T12:31:00'),
    stat: 'DELIVRD',
    statRaw: 'DELIVRD',
    messageState: 2,
    final: true,
    success: true,
    err: '000',
    text: 'Hello',
    source: 'both',
  };

  it('is laid out as the reference says', () => {
    expect(RECEIPT_PDU.length).toBe(171);
    expect(RECEIPT_PDU[smStart - 1]).toBe(0x67);
    expect(shortMessage.toString('latin1')).toBe(REF_TEXT);
    expect(RECEIPT_PDU.length).toBe(smEnd + 16);
  });

  it('reads the text and the raw TLVs into one receipt', () => {
    expect(parseReceipt({ short_message: shortMessage, esm_class: 0x04, tlvs })).toEqual(expected);
  });

  it('reads the PDU as the codec decodes it (TLV values typed)', () => {
    const decoded = decodePdu(RECEIPT_PDU);
    if (!decoded.ok || decoded.pdu.command !== 'deliver_sm') throw new Error('codec did not decode §13.5');
    expect(parseReceipt(decoded.pdu)).toEqual(expected);
  });

  it('is what formatReceiptText and receiptTlvs produce', () => {
    expect(
      formatReceiptText({
        id: '1A2B3C',
        submitDate: utc('2025-01-15T12:30:00'),
        doneDate: utc('2025-01-15T12:31:00'),
        stat: 'DELIVRD',
        text: 'Hello',
      }),
    ).toBe(REF_TEXT);
    expect(receiptTlvs({ id: '1A2B3C', stat: 'DELIVRD' })).toEqual(tlvs);
  });
});

describe('real-world receipt texts (reference §10.2)', () => {
  it('Appendix B canonical, Nexmo-like decimal id with leading zeros and text "none"', () => {
    const r = mustParse({
      short_message:
        'id:0000000087654321 sub:001 dlvrd:001 submit date:2403051410 done date:2403051411 stat:DELIVRD err:000 text:none',
      esm_class: 0x04,
    });
    expect(r).toMatchObject({
      id: '0000000087654321',
      submitDate: utc('2024-03-05T14:10:00'),
      doneDate: utc('2024-03-05T14:11:00'),
      stat: 'DELIVRD',
      text: 'none',
      source: 'text',
      success: true,
    });
    expect(messageIdsMatch(r.id, '87654321')).toBe(true);
  });

  it('12-digit dates with seconds and text with spaces (smppcenter-like)', () => {
    const r = mustParse({
      short_message:
        'id:73519428640012345678 sub:001 dlvrd:001 submit date:230917081532 done date:230917081547 stat:DELIVRD err:000 text:Good morning all',
    });
    expect(r.submitDate).toEqual(utc('2023-09-17T08:15:32'));
    expect(r.doneDate).toEqual(utc('2023-09-17T08:15:47'));
    expect(r.text).toBe('Good morning all');
  });

  it('OpenMarket-like: submitdate/donedate without a space, 12 digits', () => {
    const r = mustParse({
      short_message:
        'id:3c0a9e11-55d2 sub:001 dlvrd:000 submitdate:240711203005 donedate:240712203010 stat:EXPIRED err:000 text:',
      esm_class: 0x04,
    });
    expect(r).toMatchObject({
      id: '3c0a9e11-55d2',
      dlvrd: 0,
      submitDate: utc('2024-07-11T20:30:05'),
      doneDate: utc('2024-07-12T20:30:10'),
      stat: 'EXPIRED',
      messageState: 3,
      final: true,
      success: false,
      text: '',
    });
  });

  it('upper-case keys and a lower-case stat word', () => {
    const r = mustParse({
      short_message:
        'ID:998877 SUB:001 DLVRD:000 SUBMIT DATE:2502281159 DONE DATE:2503010001 STAT:undeliv ERR:001 TEXT:Pay now',
    });
    expect(r).toMatchObject({
      id: '998877',
      stat: 'UNDELIV',
      statRaw: 'undeliv',
      messageState: 5,
      err: '001',
      text: 'Pay now',
      doneDate: utc('2025-03-01T00:01:00'),
    });
  });

  it('CardBoardFish-like: Text: capitalised, hex id, "done date" broken over a line', () => {
    const r = mustParse({
      short_message: Buffer.from(
        'id:0A1B2C3D sub:001 dlvrd:001 submit date:2211301745 done\ndate:2211301746 stat:DELIVRD err:000 Text:Your code: 7781',
        'latin1',
      ),
      esm_class: 0x04,
    });
    expect(r).toMatchObject({
      id: '0A1B2C3D',
      doneDate: utc('2022-11-30T17:46:00'),
      text: 'Your code: 7781',
    });
    // An SMPP 3.3 account gets hex ids, a 3.4 one decimal: the same message either way.
    expect(messageIdsMatch(r.id, String(0x0a1b2c3d))).toBe(true);
  });

  it('text missing altogether', () => {
    const r = mustParse({
      short_message:
        'id:40072910491427628 sub:001 dlvrd:001 submit date:1007291049 done date:1007291049 stat:DELIVRD err:000',
    });
    expect(r.text).toBeUndefined();
    expect(r).toMatchObject({ id: '40072910491427628', err: '000', submitDate: utc('2010-07-29T10:49:00') });
  });

  it('hex id in the text, decimal id in receipted_message_id: the TLV wins, both match', () => {
    const r = mustParse({
      short_message:
        'id:1F4A3B sub:001 dlvrd:001 submit date:2501151230 done date:2501151231 stat:DELIVRD err:000 text:Hi',
      esm_class: 0x04,
      tlvs: [
        { tag: TlvTag.receipted_message_id, value: Buffer.from('2050619\0', 'latin1') },
        { tag: TlvTag.message_state, value: Buffer.from([2]) },
      ],
    });
    expect(r.id).toBe('2050619');
    expect(r.source).toBe('both');
    expect(messageIdsMatch('1F4A3B', r.id)).toBe(true);
  });

  it('vendor extra fields are skipped, spaces in the text kept', () => {
    const r = mustParse({
      short_message:
        'id:55501 sub:001 dlvrd:000 submit date:2406010900 done date:2406010905 stat:REJECTD mccmnc:23410 err:0B1 price:0.0310 text:  Meet at 10:30 by the gate  ',
      esm_class: 0x04,
    });
    expect(r).toMatchObject({
      stat: 'REJECTD',
      statRaw: 'REJECTD',
      err: '0B1',
      text: 'Meet at 10:30 by the gate',
      success: false,
      final: true,
    });
  });

  it('fields in another order, an underscore key and a full message_state name', () => {
    const r = mustParse({
      short_message: 'stat:DELIVERED err:0 done_date:2501021300 id:ab12 submit_date:2501021259 dlvrd:1 sub:1',
    });
    expect(r).toMatchObject({
      id: 'ab12',
      stat: 'DELIVRD',
      statRaw: 'DELIVERED',
      sub: 1,
      dlvrd: 1,
      submitDate: utc('2025-01-02T12:59:00'),
      doneDate: utc('2025-01-02T13:00:00'),
    });
  });

  it('unknown stat words become UNKNOWN with the raw word kept', () => {
    const r = mustParse({
      short_message: 'id:7 sub:001 dlvrd:000 stat:FAILED err:069 text:x',
      esm_class: 0x04,
    });
    expect(r).toMatchObject({
      stat: 'UNKNOWN',
      statRaw: 'FAILED',
      messageState: 7,
      final: true,
      success: false,
    });
  });

  it('keeps keys written inside the text as text', () => {
    const r = mustParse({
      short_message:
        'id:42 sub:001 dlvrd:001 submit date:2501151230 done date:2501151231 stat:DELIVRD err:000 text:your id:99 stat:ok',
    });
    expect(r).toMatchObject({ id: '42', stat: 'DELIVRD', text: 'your id:99 stat:ok' });
  });

  it('ignores NUL padding and ignores keys glued to other words', () => {
    const r = mustParse({
      short_message: Buffer.from('msgid:1 id:31 stat:ACCEPTD text:ok\0\0', 'latin1'),
    });
    expect(r).toMatchObject({ id: '31', stat: 'ACCEPTD', text: 'ok', final: true, success: false });
  });

  it('reads the text from message_payload when short_message is empty', () => {
    const r = mustParse({
      short_message: Buffer.alloc(0),
      esm_class: 0x04,
      tlvs: [{ tag: TlvTag.message_payload, value: Buffer.from('id:9001 stat:DELETED err:000', 'latin1') }],
    });
    expect(r).toMatchObject({ id: '9001', stat: 'DELETED', source: 'text' });
  });

  it('leaves out dates that are not 10 or 12 valid digits', () => {
    const r = mustParse({ short_message: 'id:1 stat:DELIVRD submit date:25011512 done date:2513151230' });
    expect(r.submitDate).toBeUndefined();
    expect(r.doneDate).toBeUndefined();
  });

  it('an intermediate notification (esm_class 0x20) is not final', () => {
    const r = mustParse({ short_message: 'id:5 sub:001 dlvrd:000 stat:ENROUTE err:000', esm_class: 0x20 });
    expect(r).toMatchObject({ stat: 'ENROUTE', messageState: 1, final: false });
    const accepted = mustParse({ short_message: 'id:5 stat:ACCEPTD', esm_class: 0x20 });
    expect(accepted.final).toBe(false);
  });
});

describe('receipt TLVs', () => {
  it('reads a TLV-only receipt with a network error code', () => {
    const r = mustParse({
      esm_class: 0x04,
      tlvs: [
        { tag: TlvTag.receipted_message_id, value: Buffer.from('msg-77\0', 'latin1') },
        { tag: TlvTag.message_state, value: Buffer.from([5]) },
        { tag: TlvTag.network_error_code, value: Buffer.from([3, 0x00, 0x22]) },
      ],
    });
    expect(r).toEqual({
      id: 'msg-77',
      stat: 'UNDELIV',
      statRaw: 'UNDELIV',
      messageState: 5,
      final: true,
      success: false,
      networkErrorCode: { type: 3, code: 34 },
      source: 'tlv',
    });
  });

  it('prefers message_state over the stat word when they disagree', () => {
    const r = mustParse({
      short_message: 'id:1 stat:DELIVRD',
      tlvs: [{ tag: TlvTag.message_state, value: 8 }],
    });
    expect(r).toMatchObject({ stat: 'REJECTD', statRaw: 'DELIVRD', messageState: 8, source: 'both' });
  });

  it('falls back to the text for a message_state outside the table, and keeps its value', () => {
    const r = mustParse({
      short_message: 'id:1 stat:EXPIRED',
      tlvs: [{ tag: TlvTag.message_state, value: 42 }],
    });
    expect(r).toMatchObject({ stat: 'EXPIRED', messageState: 42 });
  });

  it('ignores a malformed network_error_code and a receipted_message_id that is only a NUL', () => {
    const r = mustParse({
      short_message: 'id:abc stat:UNDELIV',
      tlvs: [
        { tag: TlvTag.receipted_message_id, value: Buffer.from([0]) },
        { tag: TlvTag.network_error_code, value: Buffer.from([3]) },
      ],
    });
    expect(r.id).toBe('abc');
    expect(r.networkErrorCode).toBeUndefined();
  });

  it('writes receipted_message_id with its NUL, message_state, then network_error_code', () => {
    expect(receiptTlvs({ id: '0A1B', stat: 'UNDELIV', networkErrorCode: { type: 3, code: 0x0102 } })).toEqual(
      [
        { tag: 0x001e, value: Buffer.from('0A1B\0', 'latin1') },
        { tag: 0x0427, value: Buffer.from([5]) },
        { tag: 0x0423, value: Buffer.from([3, 1, 2]) },
      ],
    );
    expect(receiptTlvs({ id: 'x', stat: 'UNKNOWN', messageState: 9 })[1]?.value).toEqual(Buffer.from([9]));
  });

  it('refuses TLVs that cannot be sent', () => {
    const fails = (fn: () => unknown) => expect(fn).toThrow(SmppError);
    fails(() => receiptTlvs({ id: '', stat: 'DELIVRD' }));
    fails(() => receiptTlvs({ id: 'a'.repeat(65), stat: 'DELIVRD' }));
    fails(() => receiptTlvs({ id: 'a b', stat: 'DELIVRD' }));
    fails(() => receiptTlvs({ id: 'a€', stat: 'DELIVRD' }));
    fails(() => receiptTlvs({ id: 'a', stat: 'DELIVRD', messageState: 256 }));
    fails(() => receiptTlvs({ id: 'a', stat: 'DELIVRD', networkErrorCode: { type: 3, code: 0x10000 } }));
    expect(receiptTlvs({ id: 'a'.repeat(64), stat: 'DELIVRD' })[0]?.value.length).toBe(65);
  });
});

describe('what is not a receipt', () => {
  it('returns null when there is no id anywhere', () => {
    expect(parseReceipt({})).toBeNull();
    expect(parseReceipt({ short_message: 'Hello there', esm_class: 0x04 })).toBeNull();
    expect(
      parseReceipt({ short_message: 'sub:001 dlvrd:001 stat:DELIVRD err:000', esm_class: 0x04 }),
    ).toBeNull();
    expect(parseReceipt({ tlvs: [{ tag: TlvTag.message_state, value: Buffer.from([2]) }] })).toBeNull();
  });

  it('does not take a user message that merely contains "id:" for a receipt', () => {
    expect(parseReceipt({ short_message: 'my id: 1234', esm_class: 0 })).toBeNull();
    // ...unless esm_class says it is one.
    expect(parseReceipt({ short_message: 'id:1234', esm_class: 0x04 })).toMatchObject({
      id: '1234',
      stat: 'UNKNOWN',
      statRaw: '',
      final: true,
    });
  });

  it('accepts a receipt an SMSC sent with esm_class 0', () => {
    expect(parseReceipt({ short_message: 'id:12 stat:DELIVRD', esm_class: 0 })?.stat).toBe('DELIVRD');
  });
});

describe('formatReceiptText', () => {
  const base = {
    id: 'F00D',
    submitDate: utc('2025-01-15T12:30:45'),
    doneDate: utc('2025-01-15T12:31:59'),
  };

  it('truncates the text to 20 characters and fills in defaults from stat', () => {
    expect(
      formatReceiptText({ ...base, stat: 'UNDELIV', err: '034', text: 'This text is longer than twenty' }),
    ).toBe(
      'id:F00D sub:001 dlvrd:000 submit date:2501151230 done date:2501151231 stat:UNDELIV err:034 text:This text is longer ',
    );
  });

  it('writes seconds when asked for 12-digit dates', () => {
    expect(formatReceiptText({ ...base, stat: 'DELIVRD', sub: 2, dlvrd: 2 }, { dateDigits: 12 })).toBe(
      'id:F00D sub:002 dlvrd:002 submit date:250115123045 done date:250115123159 stat:DELIVRD err:000 text:',
    );
  });

  it('refuses fields that would make an unreadable receipt', () => {
    const fails = (fn: () => unknown) => expect(fn).toThrow(SmppError);
    fails(() => formatReceiptText({ ...base, id: 'two words', stat: 'DELIVRD' }));
    fails(() => formatReceiptText({ ...base, stat: 'DELIVRD', sub: 1000 }));
    fails(() => formatReceiptText({ ...base, stat: 'DELIVRD', err: '' }));
    fails(() => formatReceiptText({ ...base, stat: 'DELIVRD', doneDate: new Date(Number.NaN) }));
  });
});

describe('normaliseMessageId', () => {
  it('gives trimmed, lower-case, zero-stripped and hex↔decimal candidates', () => {
    expect(normaliseMessageId(' 00001A2B3C ')).toEqual(['00001A2B3C', '00001a2b3c', '1a2b3c', '1715004']);
    expect(normaliseMessageId('0000000012345678')).toEqual([
      '0000000012345678',
      '12345678',
      'bc614e',
      '305419896',
    ]);
    expect(normaliseMessageId('3c0a9e11-55d2')).toEqual(['3c0a9e11-55d2']);
    expect(normaliseMessageId('000')).toEqual(['000', '0']);
    expect(normaliseMessageId('  ')).toEqual([]);
  });

  it('matches ids across case, padding and base, and nothing else', () => {
    expect(messageIdsMatch('1A2B3C', '1a2b3c')).toBe(true);
    expect(messageIdsMatch('1A2B3C', '1715004')).toBe(true);
    expect(messageIdsMatch('0000000012345678', '12345678')).toBe(true);
    expect(messageIdsMatch('ABC-1', 'abc-1')).toBe(true);
    expect(messageIdsMatch('5', '6')).toBe(false);
    expect(messageIdsMatch('abc-1', 'abc-2')).toBe(false);
    expect(messageIdsMatch('', '')).toBe(false);
  });

  it('does not turn very long digit strings into numbers', () => {
    const long = '9'.repeat(200);
    expect(normaliseMessageId(long)).toEqual([long]);
  });
});

describe('state tables', () => {
  it('maps every message_state 0–9 to its stat word and back', () => {
    const words = [
      'SCHEDLD',
      'ENROUTE',
      'DELIVRD',
      'EXPIRED',
      'DELETED',
      'UNDELIV',
      'ACCEPTD',
      'UNKNOWN',
      'REJECTD',
    ];
    [...words, 'SKIPPED'].forEach((w, state) => {
      expect(statFromMessageState(state)).toBe(w);
      expect(messageStateFromStat(w as ReceiptStat)).toBe(state);
    });
    expect(statFromMessageState(10)).toBeUndefined();
    expect(statFromMessageState(-1)).toBeUndefined();
  });
});

describe('properties', () => {
  const stats: ReceiptStat[] = [
    'DELIVRD',
    'EXPIRED',
    'DELETED',
    'UNDELIV',
    'ACCEPTD',
    'UNKNOWN',
    'REJECTD',
    'ENROUTE',
    'SCHEDLD',
    'SKIPPED',
  ];
  const idArb = fc.stringMatching(/^[0-9A-Za-z-]{1,64}$/);
  // Whole minutes (10-digit dates) in the two-digit-year range.
  const minuteArb = fc
    .integer({ min: Date.UTC(1938, 0, 1) / 60_000, max: Date.UTC(2037, 11, 31, 23, 59) / 60_000 })
    .map((m) => new Date(m * 60_000));
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  });

  it('formatReceiptText → parseReceipt gives back every field', () => {
    fc.assert(
      fc.property(
        idArb,
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 999 }),
        minuteArb,
        minuteArb,
        fc.constantFrom(...stats),
        fc.stringMatching(/^[0-9A-Za-z]{1,3}$/),
        printable,
        (id, sub, dlvrd, submitDate, doneDate, stat, err, text) => {
          const s = formatReceiptText({ id, sub, dlvrd, submitDate, doneDate, stat, err, text });
          const r = parseReceipt({ short_message: Buffer.from(s, 'latin1'), esm_class: 0x04 });
          expect(r).toEqual({
            id,
            sub,
            dlvrd,
            submitDate,
            doneDate,
            stat,
            statRaw: stat,
            messageState: messageStateFromStat(stat),
            final: stat !== 'ENROUTE' && stat !== 'SCHEDLD',
            success: stat === 'DELIVRD',
            err,
            text: text.slice(0, 20).trim(),
            source: 'text',
          });
        },
      ),
    );
  });

  it('receiptTlvs → parseReceipt gives back id, state and network error', () => {
    fc.assert(
      fc.property(
        idArb,
        fc.constantFrom(...stats),
        fc.option(
          fc.record({ type: fc.integer({ min: 0, max: 255 }), code: fc.integer({ min: 0, max: 0xffff }) }),
          {
            nil: undefined,
          },
        ),
        (id, stat, networkErrorCode) => {
          const r = parseReceipt({ esm_class: 0x04, tlvs: receiptTlvs({ id, stat, networkErrorCode }) });
          expect(r).toMatchObject({ id, stat, messageState: messageStateFromStat(stat), source: 'tlv' });
          expect(r?.networkErrorCode).toEqual(networkErrorCode);
        },
      ),
    );
  });

  it('never throws on random text, bytes or TLVs', () => {
    const keyish = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'id:',
            'sub:',
            'dlvrd:',
            'submit date:',
            'done date:',
            'stat:',
            'err:',
            'text:',
            'Text:',
          ),
          fc.constantFrom(' ', '\n', '\0', ':', '0', 'DELIVRD', '2501151230', 'ÿ'),
          fc.string({ maxLength: 8 }),
        ),
        { maxLength: 20 },
      )
      .map((parts) => parts.join(''));
    const shortMessage = fc.oneof(
      fc.string(),
      keyish,
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.constant(undefined),
    );
    const tlvValue = fc.oneof(
      fc.uint8Array({ maxLength: 70 }).map((a) => Buffer.from(a)),
      fc.string({ maxLength: 70 }),
      fc.integer(),
      fc.double(),
    );
    const tlv = fc.record({
      tag: fc.constantFrom(
        TlvTag.receipted_message_id,
        TlvTag.message_state,
        TlvTag.network_error_code,
        0x0424,
        7,
      ),
      value: tlvValue,
    });
    fc.assert(
      fc.property(
        shortMessage,
        fc.option(fc.integer({ min: -1, max: 0x1ff })),
        fc.option(fc.array(tlv, { maxLength: 4 })),
        (sm, esm, tlvs) => {
          const input = { short_message: sm, esm_class: esm ?? undefined, tlvs: tlvs ?? undefined };
          const r = parseReceipt(input as Parameters<typeof parseReceipt>[0]);
          if (r !== null) {
            expect(typeof r.id).toBe('string');
            expect(r.id.length).toBeGreaterThan(0);
            expect(stats).toContain(r.stat);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws on inputs of the wrong shape', () => {
    const junk = [
      null,
      undefined,
      5,
      'id:1 stat:DELIVRD',
      { tlvs: 'nope' },
      { tlvs: [null, 3, { tag: 0x1e }] },
    ];
    for (const j of junk) expect(() => parseReceipt(j as never)).not.toThrow();
    expect(normaliseMessageId(undefined as never)).toEqual([]);
  });
});
