/**
 * Inbound reassembly over stored parts: keys from UDH 8/16-bit, SAR TLVs and message_payload; complete,
 * waiting and timed-out sets; duplicates; decoding by data_coding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  decideReassembly,
  isDuplicateMo,
  type MoPart,
  type MoPdu,
  moFingerprint,
  readMoPart,
  singleMoMessage,
} from '../../src/bridge/mo-reassembly.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { splitText } from '../../src/protocol/segments.js';

const base = { source_addr: '447700900123', destination_addr: '12345', esm_class: 0, data_coding: 0 };
function read(pdu: MoPdu, route = 'bind-a'): MoPart {
  const r = readMoPart(pdu, route);
  if (!r.ok) throw r.error;
  return r.part;
}
/** The PDUs of a text split the way a handset's SMSC would send it. */
function mo(
  text: string,
  method: 'udh8' | 'udh16' | 'sar',
  reference = 42,
  encoding: 'auto' | 'ucs2' = 'auto',
): MoPdu[] {
  return splitText(text, { method, reference, encoding }).map((p) => ({
    ...base,
    esm_class: p.esm_class_flags,
    data_coding: p.data_coding,
    short_message: p.short_message,
    tlvs: p.tlvs.map((t) => ({ tag: t.tag, value: t.value })),
  }));
}

describe('readMoPart', () => {
  it('keys a UDH 8-bit set by route, source, destination, method, reference and total', () => {
    const parts = mo('x'.repeat(200), 'udh8').map((p) => read(p));
    expect(parts.map((p) => [p.seq, p.total, p.method, p.reference])).toEqual([
      [1, 2, 'udh8', 42],
      [2, 2, 'udh8', 42],
    ]);
    expect(parts[0]!.key).toBe(parts[1]!.key);
    const otherRoute = readMoPart(mo('x'.repeat(200), 'udh8')[0]!, 'bind-b');
    expect(otherRoute.ok && otherRoute.part.key).not.toBe(parts[0]!.key);
  });

  it('reads 16-bit UDH and SAR TLVs the same way', () => {
    expect(read(mo('y'.repeat(200), 'udh16', 0x1234)[1]!)).toMatchObject({
      method: 'udh16',
      reference: 0x1234,
      seq: 2,
      total: 2,
    });
    expect(read(mo('z'.repeat(200), 'sar', 7)[0]!)).toMatchObject({
      method: 'sar',
      reference: 7,
      seq: 1,
      total: 2,
    });
  });

  it('a UDH inside message_payload counts too; a plain message_payload is a single message', () => {
    const [p1] = mo('w'.repeat(200), 'udh8');
    const viaPayload = read({
      ...p1!,
      short_message: Buffer.alloc(0),
      tlvs: [{ tag: TlvTag.message_payload, value: p1!.short_message }],
    });
    expect(viaPayload).toMatchObject({ method: 'udh8', seq: 1, total: 2 });
    const plain = read({
      ...base,
      short_message: Buffer.alloc(0),
      tlvs: [{ tag: TlvTag.message_payload, value: Buffer.from('hi') }],
    });
    expect(plain.key).toBeUndefined();
    expect(singleMoMessage(plain)).toMatchObject({ text: 'hi', incomplete: false, parts: 1, total: 1 });
  });

  it('a truncated UDH is an error value, not a throw', () => {
    const r = readMoPart({ ...base, esm_class: 0x40, short_message: Buffer.from([0x05, 0x00, 0x03]) }, 'a');
    expect(r.ok).toBe(false);
  });

  it('keeps non-concatenation UDH elements (ports)', () => {
    const udh = Buffer.from([0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0]);
    const p = read({
      ...base,
      esm_class: 0x40,
      data_coding: 4,
      short_message: Buffer.concat([udh, Buffer.from([1, 2])]),
    });
    expect(p.udh).toEqual([{ iei: 5, data: Buffer.from([0x0b, 0x84, 0x23, 0xf0]) }]);
    expect(singleMoMessage(p)).toMatchObject({ hex: '0102', encoding: 'binary' });
  });
});

describe('decideReassembly', () => {
  const text = 'Hello from the handset! '.repeat(12);
  const parts = mo(text, 'udh8').map((p) => read(p));

  it('complete once every part is stored, in any order', () => {
    expect(parts).toHaveLength(2);
    const v = decideReassembly([parts[1]!, parts[0]!], 0, 1);
    expect(v).toMatchObject({ status: 'complete', message: { text, incomplete: false, parts: 2, total: 2 } });
  });

  it('waiting with the missing parts and the deadline, then timed out with incomplete: true', () => {
    expect(decideReassembly([parts[1]!], 1_000, 1_000 + DEFAULT_REASSEMBLY_TIMEOUT_MS - 1)).toEqual({
      status: 'waiting',
      missing: [1],
      deadline: 1_000 + DEFAULT_REASSEMBLY_TIMEOUT_MS,
    });
    const v = decideReassembly([parts[1]!], 1_000, 1_000 + DEFAULT_REASSEMBLY_TIMEOUT_MS);
    expect(v).toMatchObject({
      status: 'timed_out',
      message: { incomplete: true, missing: [1], parts: 1, total: 2 },
    });
  });

  it('a duplicate part counts once', () => {
    expect(decideReassembly([parts[0]!, parts[0]!], 0, 1)).toMatchObject({ status: 'waiting', missing: [2] });
  });

  it('UCS-2 with a surrogate pair across the part boundary decodes whole', () => {
    const emoji = `${'a'.repeat(66)}😀${'b'.repeat(10)}`;
    const ps = mo(emoji, 'udh8', 1, 'ucs2').map((p) => read(p));
    const v = decideReassembly(ps, 0, 0);
    expect(v).toMatchObject({ status: 'complete', message: { text: emoji, encoding: 'ucs2' } });
  });

  it('bit-packed GSM parts unpack with the fill bits after each UDH', () => {
    const t = 'Packed {GSM} text € '.repeat(10);
    const ps = splitText(t, { method: 'udh8', reference: 3, gsm7Packed: true }).map((p) => {
      const r = readMoPart({ ...base, esm_class: p.esm_class_flags, short_message: p.short_message }, 'a', {
        gsm7Packed: true,
      });
      if (!r.ok) throw r.error;
      return r.part;
    });
    expect(decideReassembly(ps, 0, 0)).toMatchObject({ status: 'complete', message: { text: t } });
  });

  it('property: any text split by any method reassembles to itself, whatever the arrival order', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 600 }),
        fc.constantFrom('udh8' as const, 'udh16' as const, 'sar' as const),
        fc.integer({ min: 0, max: 255 }),
        (t, method, reference) => {
          const ps = mo(t, method, reference).map((p) => read(p));
          const shuffled = [...ps].reverse();
          const v =
            ps.length === 1
              ? { status: 'complete', message: singleMoMessage(ps[0]!) }
              : decideReassembly(shuffled, 0, 0);
          expect(v.status).toBe('complete');
          if (v.status === 'complete') expect(v.message.text).toBe(t);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('duplicates', () => {
  it('the same deliver_sm redelivered within the window is a duplicate; after it, not', () => {
    const [pdu] = mo('x'.repeat(200), 'udh8');
    const again = { ...pdu!, short_message: Buffer.from(pdu!.short_message) };
    expect(moFingerprint(again, 'a')).toBe(moFingerprint(pdu!, 'a'));
    expect(moFingerprint(pdu!, 'b')).not.toBe(moFingerprint(pdu!, 'a'));
    expect(moFingerprint({ ...pdu!, source_addr: '1' }, 'a')).not.toBe(moFingerprint(pdu!, 'a'));
    expect(isDuplicateMo(1_000, 1_500, 1_000)).toBe(true);
    expect(isDuplicateMo(1_000, 2_000, 1_000)).toBe(false);
    expect(isDuplicateMo(undefined, 2_000)).toBe(false);
  });
});
