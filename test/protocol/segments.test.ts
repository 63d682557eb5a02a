import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmppError } from '../../src/errors.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { decodeGsm7, encodeGsm7, UnencodableCharError, unpackSeptets } from '../../src/protocol/gsm7.js';
import type { AcceptResult, InboundPart, MessagePart, SplitMethod } from '../../src/protocol/segments.js';
import {
  countSegments,
  MAX_SEGMENTS,
  parseUdh,
  Reassembler,
  SegmentDecodeError,
  splitText,
  TooManySegmentsError,
} from '../../src/protocol/segments.js';
import { decodeUcs2 } from '../../src/protocol/ucs2.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SOURCE = '447700900123';
const DESTINATION = '88000';

/** What the PDU layer would hand the reassembler for a part we sent. */
function inbound(part: MessagePart, source = SOURCE, destination = DESTINATION): InboundPart {
  const result: InboundPart = {
    source,
    destination,
    esm_class: part.esm_class_flags,
    data_coding: part.data_coding,
    short_message: part.short_message,
  };
  if (part.message_payload) result.message_payload = part.message_payload;
  for (const { tag, value } of part.tlvs) {
    if (tag === TlvTag.sar_msg_ref_num) result.sar_msg_ref_num = value;
    if (tag === TlvTag.sar_total_segments) result.sar_total_segments = value;
    if (tag === TlvTag.sar_segment_seqnum) result.sar_segment_seqnum = value;
  }
  return result;
}

/** Deterministic shuffle (mulberry32) so a failing case can be replayed from its seed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function completed(result: AcceptResult | undefined) {
  if (result?.status !== 'complete') throw new Error(`expected a complete message, got ${result?.status}`);
  return result.message;
}

const fixedClock = () => 0;

describe('countSegments at the GSM 7-bit boundaries (§9.4)', () => {
  it.each([
    [160, 1, 160],
    [161, 2, 153],
    [306, 2, 153],
    [307, 3, 153],
  ])('%i septets with udh8 take %i segments of %i', (length, segments, perSegment) => {
    expect(countSegments('a'.repeat(length))).toEqual({
      encoding: 'gsm7',
      dataCoding: 0,
      units: length,
      segments,
      perSegment,
    });
    expect(splitText('a'.repeat(length), { method: 'udh8', reference: 1 })).toHaveLength(segments);
  });

  it('sizes SAR parts like 8-bit-reference UDH parts and 16-bit-reference parts at 152', () => {
    expect(splitText('a'.repeat(306), { method: 'sar', reference: 1 })).toHaveLength(2);
    expect(countSegments('a'.repeat(304), { method: 'udh16' })).toMatchObject({
      segments: 2,
      perSegment: 152,
    });
    expect(countSegments('a'.repeat(305), { method: 'udh16' })).toMatchObject({
      segments: 3,
      perSegment: 152,
    });
  });

  it('counts extension characters as two septets', () => {
    expect(countSegments('€'.repeat(80))).toMatchObject({ units: 160, segments: 1 });
    expect(countSegments(`${'€'.repeat(80)}a`)).toMatchObject({ units: 161, segments: 2 });
  });
});

describe('countSegments at the UCS-2 and 8-bit boundaries (§9.4)', () => {
  it.each([
    [70, 1, 70],
    [71, 2, 67],
    [134, 2, 67],
    [135, 3, 67],
  ])('%i UCS-2 units take %i segments of %i', (length, segments, perSegment) => {
    const text = 'ж'.repeat(length);
    expect(countSegments(text)).toEqual({
      encoding: 'ucs2',
      dataCoding: 8,
      units: length,
      segments,
      perSegment,
    });
    expect(splitText(text, { method: 'udh8', reference: 1 })).toHaveLength(segments);
  });

  it('uses 66 units per part with a 16-bit reference', () => {
    expect(countSegments('ж'.repeat(132), { method: 'udh16' })).toMatchObject({
      segments: 2,
      perSegment: 66,
    });
    expect(countSegments('ж'.repeat(133), { method: 'udh16' })).toMatchObject({
      segments: 3,
      perSegment: 66,
    });
  });

  it('counts an emoji as two UTF-16 units', () => {
    expect(countSegments('😀'.repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(countSegments('😀'.repeat(36))).toMatchObject({ units: 72, segments: 2 });
  });

  it('uses 140 / 134 / 133 octets for Latin-1', () => {
    const options = { encoding: 'latin1' } as const;
    expect(countSegments('é'.repeat(140), options)).toMatchObject({
      segments: 1,
      perSegment: 140,
      dataCoding: 3,
    });
    expect(countSegments('é'.repeat(141), options)).toMatchObject({ segments: 2, perSegment: 134 });
    expect(countSegments('é'.repeat(268), options)).toMatchObject({ segments: 2 });
    expect(countSegments('é'.repeat(269), options)).toMatchObject({ segments: 3 });
    expect(countSegments('é'.repeat(267), { ...options, method: 'udh16' })).toMatchObject({ segments: 3 });
  });

  it('picks Latin-1 under auto only when allowed', () => {
    expect(countSegments('façade').encoding).toBe('ucs2');
    expect(countSegments('façade', { allowLatin1: true }).encoding).toBe('latin1');
  });
});

describe('splitText', () => {
  it('sends a text that fits as one plain part, without UDH or SAR', () => {
    expect(splitText('Hello', { method: 'udh8', reference: 9 })).toEqual([
      { short_message: encodeGsm7('Hello'), esm_class_flags: 0, data_coding: 0, tlvs: [] },
    ]);
    expect(splitText('Hello', { method: 'sar', reference: 9 })[0]!.tlvs).toEqual([]);
  });

  it('prefixes each part with the 8-bit concatenation UDH of §9.5 and sets UDHI', () => {
    const parts = splitText('x'.repeat(400), { method: 'udh8', reference: 0xa7 });
    expect(parts).toHaveLength(3);
    expect(parts[0]!.short_message.subarray(0, 6)).toEqual(hex('05 00 03 A7 03 01'));
    expect(parts[1]!.short_message.subarray(0, 6)).toEqual(hex('05 00 03 A7 03 02'));
    expect(parts[2]!.short_message.subarray(0, 6)).toEqual(hex('05 00 03 A7 03 03'));
    expect(parts[0]!.short_message).toHaveLength(6 + 153);
    expect(parts[2]!.short_message).toHaveLength(6 + 400 - 306);
    for (const part of parts) expect(part).toMatchObject({ esm_class_flags: 0x40, data_coding: 0, tlvs: [] });
  });

  it('writes a 16-bit reference high octet first', () => {
    const parts = splitText('x'.repeat(200), { method: 'udh16', reference: 0x1234 });
    expect(parts[1]!.short_message.subarray(0, 7)).toEqual(hex('06 08 04 12 34 02 02'));
    expect(parts[0]!.short_message).toHaveLength(7 + 152);
  });

  it('puts SAR TLVs on each part and no UDH (§9.6)', () => {
    const parts = splitText('ж'.repeat(100), { method: 'sar', reference: 0xbeef });
    expect(parts.map((p) => p.tlvs)).toEqual([
      [
        { tag: 0x020c, value: 0xbeef },
        { tag: 0x020e, value: 2 },
        { tag: 0x020f, value: 1 },
      ],
      [
        { tag: 0x020c, value: 0xbeef },
        { tag: 0x020e, value: 2 },
        { tag: 0x020f, value: 2 },
      ],
    ]);
    expect(parts[0]).toMatchObject({ esm_class_flags: 0, data_coding: 8 });
    expect(parts[0]!.short_message).toHaveLength(134);
  });

  it('returns one part with the whole text in message_payload for the payload method', () => {
    const text = 'y'.repeat(1000);
    const parts = splitText(text, { method: 'payload', reference: 0 });
    expect(parts).toHaveLength(1);
    expect(parts[0]!.short_message).toHaveLength(0);
    expect(parts[0]!.message_payload).toEqual(encodeGsm7(text));
    expect(parts[0]).toMatchObject({ esm_class_flags: 0, data_coding: 0, tlvs: [] });
  });

  it('moves an extension character that would straddle a boundary to the next part', () => {
    const text = `${'a'.repeat(152)}€${'b'.repeat(10)}`;
    const parts = splitText(text, { method: 'udh8', reference: 1 });
    expect(parts).toHaveLength(2);
    expect(parts[0]!.short_message.subarray(6)).toEqual(Buffer.alloc(152, 0x61));
    expect(parts[1]!.short_message.subarray(6, 8)).toEqual(hex('1B 65'));
    expect(countSegments(text).segments).toBe(2);
  });

  it('needs a third part when straddling characters push the text past two parts', () => {
    // 306 septets would fill two parts exactly, but the € cannot start at septet 153: it opens part 2.
    const text = `${'a'.repeat(152)}€${'b'.repeat(152)}`;
    expect(countSegments(text)).toMatchObject({ units: 306, segments: 3 });
    expect(splitText(text, { method: 'udh8', reference: 1 })).toHaveLength(3);
  });

  it('moves an emoji that would straddle a boundary to the next part', () => {
    const text = `${'ж'.repeat(66)}😀${'ж'.repeat(10)}`;
    const parts = splitText(text, { method: 'udh8', reference: 1 });
    expect(parts).toHaveLength(2);
    expect(parts[0]!.short_message).toHaveLength(6 + 132);
    expect(decodeUcs2(parts[0]!.short_message.subarray(6))).toBe('ж'.repeat(66));
    expect(parts[1]!.short_message.subarray(6, 10)).toEqual(hex('D83D DE00'));
  });

  it('allows 255 parts and refuses the 256th with TooManySegmentsError', () => {
    expect(splitText('a'.repeat(153 * MAX_SEGMENTS), { method: 'udh8', reference: 1 })).toHaveLength(255);
    expect(() => splitText('a'.repeat(153 * MAX_SEGMENTS + 1), { method: 'udh8', reference: 1 })).toThrow(
      TooManySegmentsError,
    );
    expect(countSegments('a'.repeat(153 * MAX_SEGMENTS + 1)).segments).toBe(256);
  });

  it('rejects a reference out of range for its method', () => {
    expect(() => splitText('a', { method: 'udh8', reference: 256 })).toThrow(SmppError);
    expect(() => splitText('a', { method: 'udh16', reference: 0x10000 })).toThrow(SmppError);
    expect(() => splitText('a', { method: 'sar', reference: -1 })).toThrow(SmppError);
    expect(() => splitText('a', { method: 'udh8', reference: 1.5 })).toThrow(SmppError);
    expect(splitText('a', { method: 'udh16', reference: 0xffff })).toHaveLength(1);
  });

  it('refuses an explicit alphabet that cannot carry the text', () => {
    expect(() => splitText('😀', { method: 'udh8', reference: 1, encoding: 'gsm7' })).toThrow(
      UnencodableCharError,
    );
    expect(() => splitText('€', { method: 'udh8', reference: 1, encoding: 'latin1' })).toThrow(
      UnencodableCharError,
    );
    expect(splitText('abc', { method: 'udh8', reference: 1, encoding: 'ucs2' })[0]!.data_coding).toBe(8);
  });

  it('packs GSM after the UDH with fill bits when asked', () => {
    const text = 'z'.repeat(200);
    const parts = splitText(text, { method: 'udh8', reference: 7, gsm7Packed: true });
    expect(parts[0]!.short_message).toHaveLength(140);
    const septets = unpackSeptets(parts[0]!.short_message.subarray(6), 153, 1);
    expect(decodeGsm7(septets)).toBe('z'.repeat(153));
    const udh16 = splitText(text, { method: 'udh16', reference: 7, gsm7Packed: true });
    expect(decodeGsm7(unpackSeptets(udh16[0]!.short_message.subarray(7), 152, 0))).toBe('z'.repeat(152));
    expect(
      splitText('hellohello', { method: 'udh8', reference: 1, gsm7Packed: true })[0]!.short_message,
    ).toEqual(hex('E8329BFD4697D9EC37'));
  });
});

describe('parseUdh', () => {
  it('reads the 8-bit concatenation example of §9.5', () => {
    expect(parseUdh(Buffer.concat([hex('05 00 03 A7 03 01'), Buffer.from('hi')]))).toEqual({
      elements: [{ iei: 0x00, data: hex('A7 03 01') }],
      concat: { reference: 0xa7, total: 3, seq: 1, referenceBits: 8 },
      payloadOffset: 6,
    });
  });

  it('reads a 16-bit reference and keeps other elements such as port addressing', () => {
    const parsed = parseUdh(hex('0C 05 04 0B 84 23 F0 08 04 01 02 05 04 AA'));
    expect(parsed).toEqual({
      elements: [
        { iei: 0x05, data: hex('0B 84 23 F0') },
        { iei: 0x08, data: hex('01 02 05 04') },
      ],
      concat: { reference: 0x0102, total: 5, seq: 4, referenceBits: 16 },
      payloadOffset: 13,
    });
  });

  it('ignores a concatenation element with seq 0, seq above total or total 0', () => {
    for (const udh of ['05 00 03 01 03 00', '05 00 03 01 03 04', '05 00 03 01 00 00']) {
      const parsed = parseUdh(hex(udh));
      expect(parsed).not.toBeInstanceOf(SegmentDecodeError);
      expect(parsed).not.toHaveProperty('concat');
    }
  });

  it('returns SegmentDecodeError for an empty message, a UDHL past the end or an element overrun', () => {
    for (const bad of ['', '05 00 03 A7 03', '04 00 03 A7 03 01', '01 00']) {
      const parsed = parseUdh(hex(bad));
      expect(parsed).toBeInstanceOf(SegmentDecodeError);
      expect(parsed).toMatchObject({ code: 'SMPP_ERR_DECODE_BODY' });
    }
  });
});

describe('Reassembler', () => {
  const methods: SplitMethod[] = ['udh8', 'udh16', 'sar'];

  it.each(methods)('joins %s parts that arrive in shuffled order', (method) => {
    const text = `${'Dear customer, '.repeat(30)}€ end`;
    const parts = splitText(text, { method, reference: 200 });
    expect(parts.length).toBeGreaterThan(2);
    const reassembler = new Reassembler({ timeoutMs: 60_000, now: fixedClock });
    const results = shuffled(parts, 42).map((part) => reassembler.accept(inbound(part)));
    expect(results.slice(0, -1).map((r) => r.status)).toEqual(Array(parts.length - 1).fill('pending'));
    const message = completed(results.at(-1));
    expect(message).toMatchObject({
      text,
      encoding: 'gsm7',
      source: SOURCE,
      destination: DESTINATION,
      dataCoding: 0,
      concat: { method, reference: 200, total: parts.length },
    });
    expect(reassembler.pendingCount).toBe(0);
  });

  it('ignores duplicate parts', () => {
    const parts = splitText('ж'.repeat(150), { method: 'udh8', reference: 3 });
    const reassembler = new Reassembler({ timeoutMs: 60_000, now: fixedClock });
    expect(reassembler.accept(inbound(parts[1]!))).toMatchObject({
      status: 'pending',
      received: 1,
      total: 3,
    });
    expect(reassembler.accept(inbound(parts[1]!))).toEqual({ status: 'duplicate', received: 1, total: 3 });
    expect(reassembler.accept(inbound(parts[0]!))).toMatchObject({ status: 'pending', received: 2 });
    expect(reassembler.accept(inbound(parts[0]!))).toMatchObject({ status: 'duplicate', received: 2 });
    expect(completed(reassembler.accept(inbound(parts[2]!))).text).toBe('ж'.repeat(150));
  });

  it('passes a message that is not concatenated straight through', () => {
    const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock });
    const [part] = splitText('Hi there', { method: 'udh8', reference: 1 });
    const message = completed(reassembler.accept(inbound(part!)));
    expect(message).toMatchObject({ text: 'Hi there', encoding: 'gsm7', payload: encodeGsm7('Hi there') });
    expect(message).not.toHaveProperty('concat');
    expect(reassembler.pendingCount).toBe(0);
  });

  it('reads a single message with a non-concatenation UDH and keeps its elements', () => {
    const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock });
    const message = completed(
      reassembler.accept({
        source: SOURCE,
        destination: DESTINATION,
        esm_class: 0x40,
        data_coding: 4,
        short_message: hex('06 05 04 0B 84 23 F0 CA FE'),
      }),
    );
    expect(message.payload).toEqual(hex('CA FE'));
    expect(message.binary).toEqual(hex('CA FE'));
    expect(message.udh).toEqual([{ iei: 0x05, data: hex('0B 84 23 F0') }]);
  });

  it('reads the UDH from message_payload when short_message is empty', () => {
    const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock });
    const parts = splitText('q'.repeat(200), { method: 'udh8', reference: 5 });
    for (const part of parts) {
      const result = reassembler.accept({
        ...inbound(part),
        short_message: Buffer.alloc(0),
        message_payload: part.short_message,
      });
      if (result.status === 'complete') expect(result.message.text).toBe('q'.repeat(200));
    }
  });

  it('reports a malformed UDH as invalid without keeping state', () => {
    const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock });
    const result = reassembler.accept({
      source: SOURCE,
      destination: DESTINATION,
      esm_class: 0x40,
      data_coding: 0,
      short_message: hex('09 00 03 01'),
    });
    expect(result.status).toBe('invalid');
    expect(result.status === 'invalid' && result.error).toBeInstanceOf(SegmentDecodeError);
    expect(reassembler.pendingCount).toBe(0);
  });

  it('ignores SAR TLVs unless all three are present and consistent', () => {
    const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock });
    const base = { source: SOURCE, destination: DESTINATION, esm_class: 0, data_coding: 0 };
    const short_message = encodeGsm7('part');
    expect(
      reassembler.accept({ ...base, short_message, sar_msg_ref_num: 1, sar_total_segments: 2 }).status,
    ).toBe('complete');
    expect(
      reassembler.accept({
        ...base,
        short_message,
        sar_msg_ref_num: 1,
        sar_total_segments: 2,
        sar_segment_seqnum: 3,
      }).status,
    ).toBe('complete');
    expect(reassembler.pendingCount).toBe(0);
  });

  it('keeps sets apart by source, destination and reference', () => {
    const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock });
    const a = splitText('A'.repeat(200), { method: 'udh8', reference: 1 });
    const b = splitText('B'.repeat(200), { method: 'udh8', reference: 1 });
    const c = splitText('C'.repeat(200), { method: 'udh8', reference: 2 });
    reassembler.accept(inbound(a[0]!));
    reassembler.accept(inbound(b[0]!, 'other-sender'));
    reassembler.accept(inbound(c[0]!));
    expect(reassembler.pendingCount).toBe(3);
    expect(completed(reassembler.accept(inbound(b[1]!, 'other-sender'))).text).toBe('B'.repeat(200));
    expect(completed(reassembler.accept(inbound(c[1]!))).text).toBe('C'.repeat(200));
    expect(completed(reassembler.accept(inbound(a[1]!))).text).toBe('A'.repeat(200));
  });

  it('expires incomplete sets timeoutMs after their first part, on sweep', () => {
    let now = 1_000;
    const reassembler = new Reassembler({ timeoutMs: 5_000, now: () => now });
    const parts = splitText('w'.repeat(400), { method: 'udh8', reference: 9 });
    reassembler.accept(inbound(parts[2]!));
    now = 3_000;
    reassembler.accept(inbound(parts[0]!));
    expect(reassembler.sweep(5_999)).toEqual([]);
    const expired = reassembler.sweep(6_000);
    expect(expired).toEqual([
      {
        method: 'udh8',
        reference: 9,
        total: 3,
        source: SOURCE,
        destination: DESTINATION,
        dataCoding: 0,
        reason: 'expired',
        firstSeenMs: 1_000,
        parts: [
          { seq: 1, payload: encodeGsm7('w'.repeat(153)) },
          { seq: 3, payload: encodeGsm7('w'.repeat(94)) },
        ],
      },
    ]);
    expect(reassembler.pendingCount).toBe(0);
    expect(reassembler.accept(inbound(parts[1]!))).toMatchObject({ status: 'pending', received: 1 });
  });

  it('sweeps with its own clock when no time is given', () => {
    let now = 0;
    const reassembler = new Reassembler({ timeoutMs: 100, now: () => now });
    reassembler.accept(inbound(splitText('v'.repeat(200), { method: 'sar', reference: 1 })[0]!));
    expect(reassembler.sweep()).toHaveLength(0);
    now = 100;
    expect(reassembler.sweep()).toHaveLength(1);
  });

  it('starts a fresh set when a part arrives for a set that has timed out but was not swept', () => {
    let now = 0;
    const reassembler = new Reassembler({ timeoutMs: 100, now: () => now });
    const parts = splitText('u'.repeat(200), { method: 'udh8', reference: 4 });
    reassembler.accept(inbound(parts[0]!));
    now = 150;
    const result = reassembler.accept(inbound(parts[1]!));
    expect(result).toMatchObject({ status: 'pending', received: 1 });
    expect(result.status === 'pending' && result.dropped).toMatchObject([
      { reason: 'expired', firstSeenMs: 0, parts: [{ seq: 1 }] },
    ]);
  });

  it('evicts the oldest incomplete set beyond maxPending', () => {
    const reassembler = new Reassembler({ timeoutMs: 60_000, maxPending: 2, now: fixedClock });
    const sets = [1, 2, 3].map((reference) => splitText('t'.repeat(200), { method: 'udh8', reference }));
    expect(reassembler.accept(inbound(sets[0]![0]!))).toMatchObject({ dropped: [] });
    expect(reassembler.accept(inbound(sets[1]![0]!))).toMatchObject({ dropped: [] });
    const third = reassembler.accept(inbound(sets[2]![0]!));
    expect(third).toMatchObject({ status: 'pending', dropped: [{ reason: 'evicted', reference: 1 }] });
    expect(reassembler.pendingCount).toBe(2);
    // The evicted set starts over; the two kept sets still complete.
    expect(reassembler.accept(inbound(sets[1]![1]!)).status).toBe('complete');
    expect(reassembler.accept(inbound(sets[2]![1]!)).status).toBe('complete');
  });

  it('rejects nonsensical options', () => {
    expect(() => new Reassembler({ timeoutMs: 0, now: fixedClock })).toThrow(SmppError);
    expect(() => new Reassembler({ timeoutMs: 10, maxPending: 0, now: fixedClock })).toThrow(SmppError);
  });

  it('unpacks packed GSM parts with the fill bits that follow each UDH', () => {
    const text = `${'packed '.repeat(60)}{done}`;
    for (const method of methods) {
      const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock, gsm7Packed: true });
      const parts = splitText(text, { method, reference: 77, gsm7Packed: true });
      const results = shuffled(parts, 7).map((part) => reassembler.accept(inbound(part)));
      expect(completed(results.at(-1)).text).toBe(text);
    }
  });
});

describe('split then reassemble (property)', () => {
  const gsmChars = [
    ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà',
    ...'^{}\\[~]|€\f',
  ];
  const gsmText = fc.string({ unit: fc.constantFrom(...gsmChars), maxLength: 1200, size: 'max' });
  const unicodeText = fc.string({
    unit: fc.oneof(fc.constantFrom('a', '€', '😀', 'ж'), fc.constant('x')),
    maxLength: 800,
    size: 'max',
  });
  const anyText = fc.string({ unit: 'binary', maxLength: 600, size: 'max' });
  const method = fc.constantFrom<SplitMethod>('udh8', 'udh16', 'sar', 'payload');

  function roundTrip(text: string, m: SplitMethod, reference: number, seed: number, packed = false): string {
    const parts = splitText(text, { method: m, reference, gsm7Packed: packed });
    const reassembler = new Reassembler({ timeoutMs: 1000, now: fixedClock, gsm7Packed: packed });
    const results = shuffled(parts, seed).map((part) => reassembler.accept(inbound(part)));
    expect(reassembler.pendingCount).toBe(0);
    return completed(results.at(-1)).text;
  }

  it('gives back GSM-only text', () => {
    fc.assert(
      fc.property(gsmText, method, fc.integer({ min: 0, max: 255 }), fc.integer(), (text, m, ref, seed) => {
        expect(roundTrip(text, m, ref, seed)).toBe(text);
      }),
    );
  });

  // Packed octets do not say how many septets they hold: a CR ending a full part, or a CR or @ ending the
  // text, can be taken for padding. Those texts are left out here.
  const packableText = fc.string({
    unit: fc.constantFrom(...gsmChars.filter((c) => c !== '\r')),
    maxLength: 1200,
    size: 'max',
  });

  it('gives back GSM-only text sent packed', () => {
    fc.assert(
      fc.property(
        packableText,
        method,
        fc.integer({ min: 0, max: 255 }),
        fc.integer(),
        (text, m, ref, seed) => {
          fc.pre(!text.endsWith('@'));
          expect(roundTrip(text, m, ref, seed, true)).toBe(text);
        },
      ),
    );
  });

  it('gives back Unicode text, emoji included', () => {
    fc.assert(
      fc.property(
        fc.oneof(unicodeText, anyText),
        method,
        fc.integer({ min: 0, max: 255 }),
        fc.integer(),
        (text, m, ref, seed) => {
          expect(roundTrip(text, m, ref, seed)).toBe(text);
        },
      ),
    );
  });

  it('agrees with countSegments on the number of parts', () => {
    fc.assert(
      fc.property(
        fc.oneof(gsmText, unicodeText),
        fc.constantFrom<SplitMethod>('udh8', 'udh16', 'sar'),
        (text, m) => {
          expect(splitText(text, { method: m, reference: 1 })).toHaveLength(
            countSegments(text, { method: m }).segments,
          );
        },
      ),
    );
  });
});
