/**
 * The faults that act on an answer after it is made (see faults.ts): byte rewrites
 * (wrong_sequence, malformed, bad_length) as pure functions over the encoded PDU, and the
 * per-session queue that writes answers late (delay) or a few bytes at a time (slow_loris),
 * in the order they were made.
 */
import { MAX_SEQUENCE_NUMBER, TlvTag } from '../protocol/constants.js';
import { TAKES_TLVS } from '../protocol/layouts.js';
import type { Pdu } from '../protocol/pdu.js';
import type { TimerSet, TimerSetHandle } from './timer-set.js';

/** The wrong sequence_number for an answer: 2^28 further on, within 1..0x7FFFFFFF. */
export function wrongSequence(seq: number): number {
  return ((seq - 1 + 0x10000000) % MAX_SEQUENCE_NUMBER) + 1;
}

/** A copy of an encoded PDU with another sequence_number. */
export function withSequence(buf: Buffer, seq: number): Buffer {
  const out = Buffer.from(buf);
  out.writeUInt32BE(seq >>> 0, 12);
  return out;
}

/** command_length written by bad_length: below the 16-octet header, or far above any cap. */
export const BAD_LENGTHS = { short: 8, long: 0x7fffffff } as const;

/** A copy of an encoded PDU whose command_length lies. */
export function withLength(buf: Buffer, mode: keyof typeof BAD_LENGTHS): Buffer {
  const out = Buffer.from(buf);
  out.writeUInt32BE(BAD_LENGTHS[mode], 0);
  return out;
}

/**
 * A copy of an encoded answer whose body breaks its layout. Answers that may carry TLVs get a
 * message_state TLV claiming 5 octets of value but carrying 1 (a truncated TLV area, reference
 * §11.3); header-only answers get a stray 1-octet body, which tolerant peers accept (§11.4).
 */
export function malform(buf: Buffer, pdu: Pdu): Buffer {
  const tail = TAKES_TLVS.has(pdu.command)
    ? Buffer.from([TlvTag.message_state >> 8, TlvTag.message_state & 0xff, 0x00, 0x05, 0x02])
    : Buffer.from([0x00]);
  const out = Buffer.concat([buf, tail]);
  out.writeUInt32BE(out.length, 0);
  return out;
}

export interface QueuedAnswer {
  buf: Buffer;
  /** performance.now() at which writing may start. */
  readyAt: number;
  /** slow_loris: write this many octets per tick. */
  chunkBytes?: number;
  intervalMs?: number;
}

/** Writes queued answers in order, each no earlier than its readyAt, dripping slow ones. One timer at most. */
export class AnswerQueue {
  private readonly items: (QueuedAnswer & { offset: number })[] = [];
  private timer: TimerSetHandle | null = null;

  constructor(
    private readonly write: (chunk: Buffer) => void,
    private readonly timers: TimerSet,
  ) {}

  get empty(): boolean {
    return this.items.length === 0;
  }

  get length(): number {
    return this.items.length;
  }

  push(item: QueuedAnswer): void {
    this.items.push({ ...item, offset: 0 });
    if (this.timer === null) this.pump();
  }

  /** Drops everything queued (the session closed). */
  clear(): void {
    this.items.length = 0;
    this.timer?.clear();
    this.timer = null;
  }

  private readonly pump = (): void => {
    this.timer = null;
    for (;;) {
      const head = this.items[0];
      if (head === undefined) return;
      const wait = head.readyAt - performance.now();
      if (wait > 0) {
        this.timer = this.timers.set(this.pump, Math.ceil(wait));
        return;
      }
      if (head.chunkBytes !== undefined) {
        const end = Math.min(head.buf.length, head.offset + head.chunkBytes);
        this.write(head.buf.subarray(head.offset, end));
        head.offset = end;
        if (head.offset < head.buf.length) {
          this.timer = this.timers.set(this.pump, head.intervalMs ?? 0);
          return;
        }
      } else {
        this.write(head.buf);
      }
      this.items.shift();
    }
  };
}
