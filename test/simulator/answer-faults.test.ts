/**
 * The answer rewrites as pure functions over encoded PDUs (read back with our decoder and
 * framer), and the queue that writes answers late or a few octets at a time, in order.
 */
import { describe, expect, it } from 'vitest';
import { decodePdu, encodePdu } from '../../src/protocol/codec.js';
import { MAX_SEQUENCE_NUMBER, TlvTag } from '../../src/protocol/constants.js';
import { Framer } from '../../src/protocol/framer.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import {
  ANSWER_QUEUE_HIGH_WATER_BYTES,
  AnswerQueue,
  malform,
  withLength,
  withSequence,
  wrongSequence,
} from '../../src/simulator/answer-faults.js';
import { TimerSet } from '../../src/simulator/timer-set.js';

const submitResp = createPdu('submit_sm_resp', { sequence_number: 7, message_id: 'abc' }) as Pdu;
const elResp = createPdu('enquire_link_resp', { sequence_number: 9 }) as Pdu;

describe('answer rewrites', () => {
  it('wrongSequence moves 2^28 on and stays within 1..0x7FFFFFFF', () => {
    expect(wrongSequence(1)).toBe(0x10000001);
    expect(wrongSequence(MAX_SEQUENCE_NUMBER)).toBe(0x10000000);
    for (const seq of [1, 2, 0x6fffffff, 0x70000000, MAX_SEQUENCE_NUMBER]) {
      const wrong = wrongSequence(seq);
      expect(wrong).not.toBe(seq);
      expect(wrong).toBeGreaterThanOrEqual(1);
      expect(wrong).toBeLessThanOrEqual(MAX_SEQUENCE_NUMBER);
    }
  });

  it('withSequence changes only the sequence_number, on a copy', () => {
    const buf = encodePdu(submitResp);
    const out = withSequence(buf, 42);
    expect(decodePdu(out)).toMatchObject({
      ok: true,
      pdu: { command: 'submit_sm_resp', sequence_number: 42, message_id: 'abc' },
    });
    expect(buf.readUInt32BE(12)).toBe(7);
  });

  it('malform breaks the TLV area of an answer that takes TLVs: a recoverable decode error', () => {
    const out = malform(encodePdu(submitResp), submitResp);
    expect(out.readUInt32BE(0)).toBe(out.length);
    const decoded = decodePdu(out);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.recoverable).toBe(true);
      expect(decoded.error.header?.sequence_number).toBe(7);
      expect(decoded.error.message).toContain(`TLV 0x${TlvTag.message_state.toString(16).padStart(4, '0')}`);
    }
  });

  it('malform gives a header-only answer a stray octet that a tolerant decoder accepts', () => {
    const out = malform(encodePdu(elResp), elResp);
    expect(out).toHaveLength(17);
    expect(decodePdu(out)).toMatchObject({
      ok: true,
      pdu: { command: 'enquire_link_resp', sequence_number: 9 },
    });
  });

  it.each([
    ['short', 8],
    ['long', 0x7fffffff],
  ] as const)('withLength %s writes command_length %i, which a framer refuses', (mode, length) => {
    const out = withLength(encodePdu(submitResp), mode);
    expect(out.readUInt32BE(0)).toBe(length);
    const framer = new Framer();
    framer.push(out);
    const next = framer.next();
    expect(next?.ok).toBe(false);
  });
});

describe('AnswerQueue', () => {
  function queue(onDrained?: () => void): {
    q: AnswerQueue;
    written: Buffer[];
    timers: TimerSet;
    clock: FakeClock;
  } {
    const written: Buffer[] = [];
    const clock = new FakeClock();
    const timers = new TimerSet(clock);
    const q = new AnswerQueue(
      (c) => written.push(Buffer.from(c)),
      timers,
      () => clock.now(),
      onDrained,
    );
    return { q, written, timers, clock };
  }

  it('writes an answer that is due at once, and holds a delayed one until its time', () => {
    const { q, written, timers, clock } = queue();
    q.push({ buf: Buffer.from('now'), readyAt: 0 });
    expect(written.map(String)).toEqual(['now']);
    q.push({ buf: Buffer.from('later'), readyAt: clock.now() + 40 });
    q.push({ buf: Buffer.from('after'), readyAt: 0 });
    clock.advance(39);
    expect(written.map(String)).toEqual(['now']);
    clock.advance(1);
    expect(written.map(String)).toEqual(['now', 'later', 'after']);
    expect(timers.size).toBe(0);
  });

  it('drips a slow answer chunkBytes at a time, keeping the next one behind it', () => {
    const { q, written, clock } = queue();
    q.push({ buf: Buffer.from('abcdefg'), readyAt: 0, chunkBytes: 3, intervalMs: 10 });
    q.push({ buf: Buffer.from('XY'), readyAt: 0 });
    expect(written.map(String)).toEqual(['abc']);
    clock.advance(10);
    expect(written.map(String)).toEqual(['abc', 'def']);
    clock.advance(10);
    expect(written.map(String)).toEqual(['abc', 'def', 'g', 'XY']);
    expect(q.empty).toBe(true);
    expect(q.bytes).toBe(0);
  });

  it('clear drops what is queued and its timer', () => {
    const { q, written, timers, clock } = queue();
    q.push({ buf: Buffer.from('late'), readyAt: clock.now() + 20 });
    q.clear();
    expect(timers.size).toBe(0);
    expect(q.bytes).toBe(0);
    clock.advance(40);
    expect(written).toEqual([]);
  });

  it('says it is full at the high-water mark and calls back once it is down to half', async () => {
    let drained = 0;
    const { q, clock } = queue(() => drained++);
    const chunk = Buffer.alloc(ANSWER_QUEUE_HIGH_WATER_BYTES / 4);
    // Four answers a second apart fill it; each write takes a quarter off.
    for (let i = 1; i <= 4; i++) q.push({ buf: chunk, readyAt: clock.now() + i * 1000 });
    expect(q.full).toBe(true);
    expect(q.bytes).toBe(ANSWER_QUEUE_HIGH_WATER_BYTES);
    clock.advance(1000);
    await Promise.resolve();
    expect(q.full).toBe(false);
    expect(drained).toBe(0); // three quarters still held
    clock.advance(1000);
    await Promise.resolve();
    expect(drained).toBe(1); // down to half
    clock.advance(2000);
    await Promise.resolve();
    expect(drained).toBe(1);
    expect(q.empty).toBe(true);
  });
});
