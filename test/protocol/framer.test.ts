import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { decodePdu, encodePdu } from '../../src/protocol/codec.js';
import { DEFAULT_MAX_PDU_LENGTH, TlvTag } from '../../src/protocol/constants.js';
import { SmppDecodeError } from '../../src/protocol/errors.js';
import { type FrameResult, Framer } from '../../src/protocol/framer.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { bytes, GOLDEN } from './fixtures/golden.js';

const FRAMES = GOLDEN.map((f) => bytes(f.hex));
const ALL = Buffer.concat(FRAMES);

/** Feeds chunks and collects every whole frame; fails on an error result. */
function frames(chunks: Buffer[], framer = new Framer()): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let r = framer.next(); r !== undefined; r = framer.next()) {
      if (!r.ok) throw r.error;
      out.push(r.frame);
    }
  }
  return out;
}

function failure(framer: Framer): SmppDecodeError {
  const r = framer.next();
  if (r === undefined || r.ok) throw new Error(`expected a framing error, got ${r ? 'a frame' : 'nothing'}`);
  expect(r.error).toBeInstanceOf(SmppDecodeError);
  return r.error;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

const hex = (bufs: Buffer[]) => bufs.map((b) => b.toString('hex'));

describe('Framer: whole PDUs out of any chunking', () => {
  describe.each(GOLDEN.map((f, i) => [f.name, FRAMES[i]!] as const))('%s', (_name, buf) => {
    it('comes out whole when split in two at every offset', () => {
      for (let cut = 0; cut <= buf.length; cut++) {
        const got = frames([buf.subarray(0, cut), buf.subarray(cut)]);
        expect(hex(got)).toEqual([buf.toString('hex')]);
      }
    });

    it('comes out whole when fed one byte at a time, and not before its last byte', () => {
      const framer = new Framer();
      for (let i = 0; i < buf.length - 1; i++) {
        framer.push(buf.subarray(i, i + 1));
        expect(framer.next()).toBeUndefined();
      }
      expect(framer.buffered).toBe(buf.length - 1);
      framer.push(buf.subarray(buf.length - 1));
      const r = framer.next();
      expect(r?.ok && r.frame.toString('hex')).toBe(buf.toString('hex'));
      expect(framer.next()).toBeUndefined();
      expect(framer.buffered).toBe(0);
    });
  });

  it('splits a chunk holding every golden PDU back into the same frames, which decode', () => {
    const got = frames([ALL]);
    expect(hex(got)).toEqual(hex(FRAMES));
    got.forEach((frame, i) => {
      const r = decodePdu(frame);
      expect(r.ok && r.pdu).toEqual(GOLDEN[i]!.pdu);
    });
  });

  it('splits the concatenation at every offset', () => {
    for (let cut = 0; cut <= ALL.length; cut += 1) {
      expect(frames([ALL.subarray(0, cut), ALL.subarray(cut)])).toHaveLength(FRAMES.length);
    }
  });

  it('yields the same frames for any random chunking of the concatenation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: ALL.length - 1 }), { maxLength: 60 }), (cuts) => {
        expect(hex(frames(splitAt(ALL, cuts)))).toEqual(hex(FRAMES));
      }),
      { numRuns: 300 },
    );
  });

  it('yields the same frames when chunks carry the tail of one PDU and the head of the next', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (size) => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < ALL.length; i += size) chunks.push(ALL.subarray(i, i + size));
        expect(hex(frames(chunks))).toEqual(hex(FRAMES));
      }),
    );
  });

  it('ignores empty chunks', () => {
    const buf = FRAMES[0]!;
    expect(hex(frames([Buffer.alloc(0), buf.subarray(0, 3), Buffer.alloc(0), buf.subarray(3)]))).toEqual(
      hex([buf]),
    );
  });

  it('keeps the frames of a chunk valid after later pushes', () => {
    const framer = new Framer();
    framer.push(Buffer.concat([FRAMES[0]!, FRAMES[1]!.subarray(0, 5)]));
    const first = framer.next();
    framer.push(FRAMES[1]!.subarray(5));
    const second = framer.next();
    expect(first?.ok && first.frame.toString('hex')).toBe(FRAMES[0]!.toString('hex'));
    expect(second?.ok && second.frame.toString('hex')).toBe(FRAMES[1]!.toString('hex'));
  });

  it('accepts a PDU of exactly maxPduLength and refuses one octet more', () => {
    const pdu = createPdu('data_sm', {
      sequence_number: 1,
      tlvs: [{ tag: TlvTag.message_payload, value: Buffer.alloc(DEFAULT_MAX_PDU_LENGTH - 30, 0x61) }],
    });
    const buf = encodePdu(pdu);
    expect(buf).toHaveLength(DEFAULT_MAX_PDU_LENGTH);
    expect(frames([buf])).toHaveLength(1);
    const small = new Framer({ maxPduLength: DEFAULT_MAX_PDU_LENGTH - 1 });
    small.push(buf);
    expect(failure(small).message).toMatch(`outside 16..${DEFAULT_MAX_PDU_LENGTH - 1}`);
  });
});

describe('Framer: a command_length that cannot be right loses the stream', () => {
  it.each([
    ['0 (zero)', '00000000 00000015 00000000 00000001', /command_length 0 /],
    ['15 (shorter than a header)', '0000000F 00000015 00000000 00000001', /command_length 15 /],
    ['over the maximum', '00010011 00000004 00000000 00000001', /command_length 65553 /],
  ])('reports a length of %s as unrecoverable ESME_RINVCMDLEN with its header', (_what, h, msg) => {
    const framer = new Framer();
    framer.push(bytes(h));
    const e = failure(framer);
    expect(e.recoverable).toBe(false);
    expect(e.code).toBe('SMPP_ERR_DECODE_FRAMING');
    expect(e.commandStatus).toBe(0x02);
    expect(e.message).toMatch(msg);
    expect(e.header?.sequence_number).toBe(1);
  });

  it('says the peer speaks HTTP and shows the bytes as hex and ASCII', () => {
    const framer = new Framer();
    framer.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n', 'latin1'));
    const e = failure(framer);
    expect(e.recoverable).toBe(false);
    expect(e.message).toMatch(/0x48545450/);
    expect(e.message).toMatch(/HTTP/);
    expect(e.message).toMatch(/48 54 54 50 2f 31 2e 31/);
    expect(e.message).toMatch(/\|HTTP\/1\.1 400 Bad Request\.\.\.\.\|/);
  });

  it('says so for an HTTP request too, as soon as 4 octets are there', () => {
    const framer = new Framer();
    framer.push(Buffer.from('GET ', 'latin1'));
    const e = failure(framer);
    expect(e.message).toMatch(/HTTP/);
    expect(e.message).toMatch(/47 45 54 20 \|GET \|/);
    expect(e.header).toBeUndefined();
  });

  it('says the peer expects TLS when a TLS ClientHello arrives', () => {
    const framer = new Framer();
    framer.push(bytes('16 03 01 02 00 01 00 01 fc 03 03 a1 b2 c3 d4 e5 f6'));
    const e = failure(framer);
    expect(e.recoverable).toBe(false);
    expect(e.message).toMatch(/TLS/);
    expect(e.message).toMatch(/16 03 01 02 00 01/);
  });

  it('names other ASCII it sees (AMQP, node-smpp#168) and a command_id read as a length (#78)', () => {
    const amqp = new Framer();
    amqp.push(Buffer.from('AMQP\u0000\u0000\u0009\u0001', 'latin1'));
    expect(failure(amqp).message).toMatch(/ASCII "AMQP"/);
    const desync = new Framer();
    desync.push(bytes('80000009 00000000 00000001 534D5343'));
    expect(failure(desync).message).toMatch(/command_id/);
  });

  it('stays broken: the same error for every later call and push, and nothing is buffered', () => {
    const framer = new Framer();
    framer.push(FRAMES[0]!);
    framer.push(bytes('00000005 00000015'));
    framer.push(FRAMES[1]!);
    const first = framer.next();
    expect(first?.ok).toBe(true);
    const e = failure(framer);
    expect(framer.broken).toBe(true);
    framer.push(FRAMES[2]!);
    for (let i = 0; i < 3; i++) expect(failure(framer)).toBe(e);
    expect(framer.buffered).toBe(0);
  });

  it('reports the error once the bad length arrives split across chunks', () => {
    const framer = new Framer();
    framer.push(Buffer.from('HT', 'latin1'));
    expect(framer.next()).toBeUndefined();
    framer.push(Buffer.from('TP/1.0', 'latin1'));
    expect(failure(framer).message).toMatch(/HTTP/);
  });
});

describe('Framer: cost', () => {
  /**
   * Feeds `buf` one octet per push and returns how many octets the framer copied to join chunks
   * (Buffer.concat is its only copy): the work, counted exactly, where a stopwatch would flake on
   * a loaded machine. Checks the one frame that comes out.
   */
  function slowWriter(buf: Buffer, framer: Framer): number {
    let copied = 0;
    const concat = Buffer.concat;
    const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list, totalLength) => {
      const out = concat(list, totalLength);
      copied += out.length;
      return out;
    });
    let result: FrameResult | undefined;
    let early = 0;
    try {
      for (let i = 0; i < buf.length; i++) {
        framer.push(buf.subarray(i, i + 1));
        result = framer.next();
        if (result !== undefined && i < buf.length - 1) early++;
      }
    } finally {
      spy.mockRestore();
    }
    expect(early).toBe(0);
    expect(result?.ok && result.frame.equals(buf)).toBe(true);
    return copied;
  }

  const dataSm = (payloadLength: number) =>
    encodePdu(
      createPdu('data_sm', {
        sequence_number: 1,
        tlvs: [{ tag: TlvTag.message_payload, value: Buffer.alloc(payloadLength, 0x5a) }],
      }),
      { maxPduLength: 1 << 20 },
    );

  it('frames a 64 KiB PDU written one byte at a time copying each octet a few times at most', () => {
    const pdu = dataSm(65_000);
    expect(slowWriter(pdu, new Framer())).toBeLessThanOrEqual(4 * pdu.length);
  });

  it('stays linear for a 256 KiB PDU written one byte at a time (joining per push would copy ~34 GB)', () => {
    // The TLV length caps one value at 65535 octets: four message_payload TLVs make the size.
    const big = encodePdu(
      createPdu('data_sm', {
        sequence_number: 1,
        tlvs: Array.from({ length: 4 }, () => ({
          tag: TlvTag.message_payload,
          value: Buffer.alloc(65_535, 1),
        })),
      }),
      { maxPduLength: 1 << 20 },
    );
    expect(big.length).toBeGreaterThan(256 * 1024);
    expect(slowWriter(big, new Framer({ maxPduLength: 1 << 20 }))).toBeLessThanOrEqual(4 * big.length);
  });

  it('hands out whole frames without copying the chunk they arrived in', () => {
    const framer = new Framer();
    framer.push(ALL);
    const r = framer.next();
    expect(r?.ok && r.frame.buffer === ALL.buffer).toBe(true);
  });
});
