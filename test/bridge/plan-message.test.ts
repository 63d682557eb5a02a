/**
 * A send request becomes submit_sm inits (encoding, UDH, receipts on every part, relative validity)
 * or a typed 422 error; never a truncated message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type MessagePlan,
  PlanError,
  parseDestination,
  parseSource,
  planMessage,
  type SendRequest,
} from '../../src/bridge/plan-message.js';
import { decodePdu, encodePdu } from '../../src/protocol/codec.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { parseUdh, Reassembler } from '../../src/protocol/segments.js';

const NOW = Date.parse('2026-12-07T00:00:00Z');
const base: SendRequest = { to: '+447700900123', from: 'MyBrand', text: 'Hello' };

function ok(req: SendRequest, reference = 7, method?: 'udh8' | 'udh16' | 'sar'): MessagePlan {
  const r = planMessage(req, method ? { reference, method } : { reference }, NOW);
  if (!r.ok) throw new Error(`expected a plan, got ${r.error.httpCode}: ${r.error.message}`);
  return r.plan;
}
function err(req: SendRequest): PlanError {
  const r = planMessage(req, { reference: 7 }, NOW);
  if (r.ok) throw new Error('expected an error');
  expect(r.error).toBeInstanceOf(PlanError);
  expect(r.error.httpStatus).toBe(422);
  return r.error;
}

describe('planMessage', () => {
  it('a short GSM text is one plain part with addresses, receipt and data_coding 0', () => {
    const p = ok(base);
    expect(p.encoding).toBe('gsm7');
    expect(p.parts).toHaveLength(1);
    expect(p.parts[0]).toMatchObject({
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'MyBrand',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      esm_class: 0,
      registered_delivery: 0x01,
      data_coding: 0,
      validity_period: '',
    });
    expect(p.parts[0]!.short_message).toEqual(Buffer.from('Hello'));
  });

  it('a long text: every part has the UDH and registered_delivery, and the parts encode as valid PDUs', () => {
    const p = ok({ ...base, text: 'x'.repeat(400), receipt: 'all' });
    expect(p.parts).toHaveLength(3);
    p.parts.forEach((part, i) => {
      expect(part.esm_class).toBe(0x40);
      expect(part.registered_delivery).toBe(0x11);
      const udh = parseUdh(part.short_message!);
      if (udh instanceof Error) throw udh;
      expect(udh.concat).toEqual({ reference: 7, total: 3, seq: i + 1, referenceBits: 8 });
      const decoded = decodePdu(encodePdu(createPdu('submit_sm', { ...part, sequence_number: i + 1 })));
      expect(decoded.ok).toBe(true);
    });
  });

  it('non-GSM text goes as UCS-2; an explicit encoding that cannot carry it is UNENCODABLE_TEXT', () => {
    expect(ok({ ...base, text: 'Привет' })).toMatchObject({ encoding: 'ucs2', dataCoding: 8 });
    expect(ok({ ...base, text: 'café', encoding: 'latin1' })).toMatchObject({
      encoding: 'latin1',
      dataCoding: 3,
    });
    expect(err({ ...base, text: 'Привет', encoding: 'gsm7' })).toMatchObject({
      httpCode: 'UNENCODABLE_TEXT',
      field: 'text',
    });
    expect(err({ ...base, text: 'Привет', encoding: 'latin1' }).httpCode).toBe('UNENCODABLE_TEXT');
  });

  it('too many parts is TOO_MANY_PARTS with the count: never truncated', () => {
    const e = err({ ...base, text: 'x'.repeat(153 * 6 + 1) });
    expect(e).toMatchObject({
      httpCode: 'TOO_MANY_PARTS',
      parts: 7,
      maxParts: 6,
      code: 'SMPP_ERR_BRIDGE_TOO_MANY_PARTS',
    });
    expect(ok({ ...base, text: 'x'.repeat(153 * 6 + 1), maxParts: 7 }).parts).toHaveLength(7);
    expect(err({ ...base, maxParts: 256 }).field).toBe('maxParts');
    expect(err({ ...base, text: 'a'.repeat(161), maxParts: 1 }).httpCode).toBe('TOO_MANY_PARTS');
  });

  it('validitySeconds becomes a relative validity_period on every part', () => {
    const p = ok({ ...base, text: 'x'.repeat(200), validitySeconds: 2 * 86_400 + 12 * 3_600 });
    expect(p.parts.map((x) => x.validity_period)).toEqual(['000002120000000R', '000002120000000R']);
    expect(ok({ ...base, validitySeconds: 600 }).parts[0]!.validity_period).toBe('000000001000000R');
    expect(err({ ...base, validitySeconds: 0 }).field).toBe('validitySeconds');
    expect(err({ ...base, validitySeconds: 100 * 86_400 }).field).toBe('validitySeconds');
  });

  it('sendAt: a future time is kept (the bridge schedules it); a past one means now; junk is refused', () => {
    expect(ok({ ...base, sendAt: '2026-12-07T01:00:00Z' }).sendAt).toBe(NOW + 3_600_000);
    expect(ok({ ...base, sendAt: '2020-01-01T00:00:00Z' }).sendAt).toBeUndefined();
    expect(err({ ...base, sendAt: 'tomorrow' }).field).toBe('sendAt');
    expect(err({ ...base, sendAt: 'Dec 7 2026 10:00' }).field).toBe('sendAt');
    expect(err({ ...base, sendAt: '2026-12-07T01:00:00' }).field).toBe('sendAt');
    expect(ok({ ...base, sendAt: '2026-12-07T02:00:00+01:00' }).sendAt).toBe(NOW + 3_600_000);
  });

  it('receipt: boolean or policy; none sets registered_delivery 0', () => {
    expect(ok({ ...base, receipt: false }).parts[0]!.registered_delivery).toBe(0);
    expect(ok({ ...base, receipt: true }).parts[0]!.registered_delivery).toBe(1);
    expect(ok({ ...base, receipt: 'failure' }).parts[0]!.registered_delivery).toBe(2);
    expect(err({ ...base, receipt: 'sometimes' as never }).field).toBe('receipt');
  });

  it('exactly one of text and binary; empty text refused', () => {
    expect(err({ to: '+1555', from: '12345' }).httpCode).toBe('INVALID_MESSAGE');
    expect(err({ ...base, binary: { hex: '00' } }).httpCode).toBe('INVALID_MESSAGE');
    expect(err({ ...base, text: '' }).httpCode).toBe('INVALID_MESSAGE');
  });

  it('binary: hex as data_coding 4; a user UDH sets UDHI; bad hex is INVALID_HEX', () => {
    const { text: _t, ...noText } = base;
    const p = ok({ ...noText, binary: { hex: 'DEADbeef', udhHex: '0605040B8423F0' } });
    expect(p).toMatchObject({ encoding: 'binary', dataCoding: 4 });
    expect(p.parts[0]).toMatchObject({
      esm_class: 0x40,
      short_message: Buffer.from('0605040b8423f0deadbeef', 'hex'),
    });
    expect(err({ ...noText, binary: { hex: 'abc' } })).toMatchObject({
      httpCode: 'INVALID_HEX',
      field: 'binary.hex',
    });
    expect(err({ ...noText, binary: { hex: 'zz' } }).httpCode).toBe('INVALID_HEX');
    expect(err({ ...noText, binary: { hex: '00', udhHex: '0700' } }).field).toBe('binary.udhHex');
  });

  it('long binary with a user UDH: each part keeps the user elements and gets a concat element', () => {
    const { text: _t, ...noText } = base;
    const data = Buffer.alloc(300, 0xab);
    const p = ok({ ...noText, binary: { hex: data.toString('hex'), udhHex: '0605040B8423F0' } });
    expect(p.parts.length).toBe(3);
    const joined: Buffer[] = [];
    p.parts.forEach((part, i) => {
      expect(part.short_message!.length).toBeLessThanOrEqual(140);
      const udh = parseUdh(part.short_message!);
      if (udh instanceof Error) throw udh;
      expect(udh.elements[0]).toMatchObject({ iei: 0x05 });
      expect(udh.concat).toMatchObject({ total: 3, seq: i + 1, reference: 7 });
      joined.push(part.short_message!.subarray(udh.payloadOffset));
    });
    expect(Buffer.concat(joined)).toEqual(data);
  });

  it('property: any text within maxParts round-trips through the protocol reassembler, with any method', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 500 }).filter((t) => t.length > 0),
        fc.constantFrom('udh8' as const, 'udh16' as const, 'sar' as const),
        fc.integer({ min: 0, max: 255 }),
        (text, method, reference) => {
          const r = planMessage({ ...base, text, maxParts: 255 }, { reference, method }, NOW);
          if (!r.ok) throw r.error;
          const re = new Reassembler({ timeoutMs: 1_000, now: () => 0 });
          let out: string | undefined;
          for (const part of r.plan.parts) {
            expect(part.registered_delivery).toBe(1);
            const sar = new Map((part.tlvs ?? []).map((t) => [t.tag, t.value as number]));
            const res = re.accept({
              source: 'a',
              destination: 'b',
              esm_class: part.esm_class!,
              data_coding: part.data_coding!,
              short_message: part.short_message!,
              sar_msg_ref_num: sar.get(0x020c),
              sar_total_segments: sar.get(0x020e),
              sar_segment_seqnum: sar.get(0x020f),
            });
            if (res.status === 'complete') out = res.message.text;
          }
          expect(out).toBe(text);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('addresses', () => {
  it('destinations: +MSISDN, bare MSISDN, short code; junk refused', () => {
    expect(parseDestination('+447700900123')).toEqual({ addr: '447700900123', ton: 1, npi: 1 });
    expect(parseDestination('447700900123')).toEqual({ addr: '447700900123', ton: 1, npi: 1 });
    expect(parseDestination('12345')).toEqual({ addr: '12345', ton: 3, npi: 0 });
    for (const bad of ['', '+', '+1234567890123456', '44 77', 'abc', '0'.repeat(21)]) {
      expect(parseDestination(bad)).toBeUndefined();
    }
  });

  it('sources may be alphanumeric up to 11 GSM characters', () => {
    expect(parseSource('MyBrand')).toEqual({ addr: 'MyBrand', ton: 5, npi: 0 });
    expect(parseSource('ABCDEFGHIJKL')).toBeUndefined();
    expect(parseSource('Пример')).toBeUndefined();
    expect(parseSource(' x')).toBeUndefined();
  });

  it('a bad address is INVALID_ADDRESS naming the field', () => {
    expect(err({ ...base, to: 'nobody' })).toMatchObject({ httpCode: 'INVALID_ADDRESS', field: 'to' });
    expect(err({ ...base, from: 'WayTooLongSender' })).toMatchObject({
      httpCode: 'INVALID_ADDRESS',
      field: 'from',
    });
  });
});
