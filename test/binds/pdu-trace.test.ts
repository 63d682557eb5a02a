/**
 * PduTrace: the per-bind ring of raw PDUs — wrap, byte cap, times, the compact keepalive form,
 * passwords masked before they are stored, off at size 0.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PduTrace, type TraceRecord } from '../../src/binds/pdu-trace.js';
import { encodePdu } from '../../src/protocol/codec.js';
import { createPdu } from '../../src/protocol/pdu.js';

function fakeUs(start = 1_800_000_000_000_000, stepUs = 1_000) {
  let t = start;
  return { nowUs: () => (t += stepUs), peek: () => t };
}

function pdus(records: TraceRecord[]) {
  return records.filter((r) => r.kind === 'pdu');
}

const enquire = (seq: number) => encodePdu(createPdu('enquire_link', { sequence_number: seq }));
const enquireResp = (seq: number, status = 0) =>
  encodePdu(createPdu('enquire_link_resp', { sequence_number: seq, command_status: status }));
const submit = (seq: number, text = 'hello') =>
  encodePdu(
    createPdu('submit_sm', {
      sequence_number: seq,
      source_addr: 'src',
      destination_addr: '4915112345678',
      short_message: Buffer.from(text),
    }),
  );

describe('PduTrace', () => {
  it('keeps the last N PDUs in order with their direction, bytes and µs times', () => {
    const clock = fakeUs(1_000_000, 250);
    const trace = new PduTrace({ size: 3, nowUs: clock.nowUs });
    const sent = [enquire(1), enquireResp(1), submit(2), enquireResp(9, 8), submit(3, 'x'.repeat(100))];
    for (const [i, b] of sent.entries()) trace.record(i % 2 === 0, b);
    const held = pdus(trace.read());
    expect(held.map((r) => r.bytes)).toEqual(sent.slice(2));
    expect(held.map((r) => r.out)).toEqual([true, false, true]);
    expect(held.map((r) => r.timeUs)).toEqual([1_000_750, 1_001_000, 1_001_250]);
    expect(trace.count).toBe(3);
    expect(trace.recorded).toBe(5);
  });

  it('wraps around its buffer many times and still returns exactly the newest N', () => {
    const clock = fakeUs();
    const trace = new PduTrace({ size: 200, nowUs: clock.nowUs });
    for (let seq = 1; seq <= 5_000; seq++)
      trace.record(seq % 2 === 0, seq % 7 === 0 ? submit(seq) : enquire(seq));
    const held = pdus(trace.read());
    expect(held).toHaveLength(200);
    expect(held.map((r) => r.bytes.readUInt32BE(12))).toEqual(
      Array.from({ length: 200 }, (_, i) => 4_801 + i),
    );
    // Times stay exact across thousands of evictions (deltas, not absolute stamps).
    expect(held.at(-1)?.timeUs).toBe(clock.peek());
    expect(held[0]?.timeUs).toBe(clock.peek() - 199 * 1_000);
  });

  it('keeps exact times across long silences (hours, days between PDUs)', () => {
    const stamps = [1_000, 1_001, 1_001 + 3_600_000_000, 1_001 + 3_600_000_000 + 9 * 86_400_000_000, 2e15];
    let i = 0;
    const trace = new PduTrace({ size: 3, nowUs: () => stamps[i++] as number });
    for (let seq = 1; seq <= stamps.length; seq++) trace.record(true, enquire(seq));
    expect(pdus(trace.read()).map((r) => r.timeUs)).toEqual(stamps.slice(2));
  });

  it('a keepalive PDU costs 9 bytes or less: 200 of them fit in 2 KiB', () => {
    const trace = new PduTrace({ size: 200, nowUs: fakeUs(0, 30_000_000).nowUs });
    for (let seq = 1; seq <= 1_000; seq++) {
      trace.record(true, enquire(seq));
      trace.record(false, enquireResp(seq));
    }
    expect(trace.count).toBe(200);
    expect(trace.allocatedBytes).toBeLessThanOrEqual(2_048);
  });

  it('the byte cap evicts the oldest PDUs before the count does, and cuts a PDU above a quarter of it', () => {
    const trace = new PduTrace({ size: 200, maxBytes: 4_096, nowUs: fakeUs().nowUs });
    for (let seq = 1; seq <= 100; seq++) trace.record(true, submit(seq, 'y'.repeat(200)));
    expect(trace.count).toBeLessThan(100);
    expect(trace.allocatedBytes).toBeLessThanOrEqual(4_096);
    const held = pdus(trace.read());
    expect(held.at(-1)?.bytes.readUInt32BE(12)).toBe(100);
    const big = submit(101, 'z'.repeat(250));
    const long = Buffer.concat([big, Buffer.alloc(2_000)]);
    long.writeUInt32BE(long.length, 0);
    trace.record(false, long);
    const last = pdus(trace.read()).at(-1);
    expect(last?.length).toBe(long.length);
    expect(last?.bytes).toEqual(long.subarray(0, 1_024));
  });

  it('size 0 is off: records nothing and allocates nothing', () => {
    const trace = new PduTrace({ size: 0 });
    trace.record(true, enquire(1));
    trace.connection({ localAddress: '127.0.0.1', localPort: 1, remoteAddress: '127.0.0.1', remotePort: 2 });
    expect(trace.enabled).toBe(false);
    expect(trace.read()).toEqual([]);
    expect(trace.allocatedBytes).toBe(0);
  });

  it('masks the password of bind_* and outbind with as many "*" (same length on the wire)', () => {
    const trace = new PduTrace({ size: 10 });
    for (const command of ['bind_transceiver', 'bind_transmitter', 'bind_receiver', 'outbind'] as const) {
      const bind = encodePdu(createPdu(command, { system_id: 'acme', password: 's3cret' }));
      trace.record(true, bind);
      const last = pdus(trace.read()).at(-1);
      expect(last?.bytes.length).toBe(bind.length);
      expect(last?.bytes.includes('s3cret')).toBe(false);
      expect(last?.bytes.includes('acme\0******\0')).toBe(true);
      // The caller's buffer (what goes on the wire) is untouched.
      expect(bind.includes('s3cret')).toBe(true);
    }
  });

  it('keeps the connection of the oldest PDUs after its marker is evicted', () => {
    const trace = new PduTrace({ size: 2, nowUs: fakeUs().nowUs });
    const a = { localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.1', remotePort: 2775 };
    const b = { ...a, localPort: 40001 };
    trace.connection(a);
    trace.record(true, enquire(1));
    trace.connection(b);
    for (let seq = 2; seq <= 4; seq++) trace.record(true, enquire(seq));
    const records = trace.read();
    expect(records[0]).toMatchObject({ kind: 'connection', endpoints: b });
    expect(pdus(records)).toHaveLength(2);
  });

  it('resize keeps the newest records that fit, with their times, and the listeners', () => {
    const trace = new PduTrace({ size: 10, nowUs: fakeUs().nowUs });
    const seen: number[] = [];
    trace.subscribe((r) => seen.push(r.bytes.readUInt32BE(12)));
    for (let seq = 1; seq <= 10; seq++) trace.record(true, enquire(seq));
    const before = pdus(trace.read());
    trace.resize(4);
    expect(pdus(trace.read())).toEqual(before.slice(6));
    trace.record(false, enquireResp(11));
    expect(seen).toEqual([...Array.from({ length: 10 }, (_, i) => i + 1), 11]);
  });

  it('holds a suffix of what was recorded, whatever the sizes, count and byte cap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1_024, max: 8_192 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 254 }), fc.boolean()), { maxLength: 300 }),
        (size, maxBytes, steps) => {
          const clock = fakeUs(5, 3);
          const trace = new PduTrace({ size, maxBytes, nowUs: clock.nowUs });
          const all: { bytes: Buffer; out: boolean; timeUs: number }[] = [];
          steps.forEach(([out, textLength, keepalive], i) => {
            const bytes = keepalive ? enquire(i + 1) : submit(i + 1, 'q'.repeat(textLength));
            trace.record(out, bytes);
            all.push({ bytes, out, timeUs: clock.peek() });
          });
          const held = pdus(trace.read());
          expect(held.length).toBe(trace.count);
          expect(held.length).toBeLessThanOrEqual(size);
          if (all.length > 0) expect(held.length).toBeGreaterThan(0);
          expect(trace.allocatedBytes).toBeLessThanOrEqual(maxBytes);
          // A PDU above a quarter of the cap keeps its first maxBytes/4 bytes and its length.
          const expected = all
            .slice(all.length - held.length)
            .map((r) => ({ ...r, bytes: r.bytes.subarray(0, maxBytes >>> 2), length: r.bytes.length }));
          expect(
            held.map((r) => ({ bytes: r.bytes, out: r.out, timeUs: r.timeUs, length: r.length })),
          ).toEqual(expected);
          // Nothing evicted for bytes while the ring is far from its cap.
          const total = all.slice(-size).reduce((n, r) => n + r.bytes.length + 8, 0);
          if (total * 2 < maxBytes) expect(held.length).toBe(Math.min(size, all.length));
        },
      ),
      { numRuns: 200 },
    );
  });
});
