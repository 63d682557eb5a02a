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

/**
 * Octets of answers a session may hold back (delay, slow_loris) before the simulator stops
 * reading that client's requests; it reads again once the queue is down to half.
 */
export const ANSWER_QUEUE_HIGH_WATER_BYTES = 256 * 1024;

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
  /** Time on the queue's clock (now()) at which writing may start. */
  readyAt: number;
  /** slow_loris: write this many octets per tick. */
  chunkBytes?: number;
  intervalMs?: number;
}

/**
 * Writes queued answers in order, each no earlier than its readyAt, dripping slow ones. One timer
 * at most. It counts the octets it holds (`bytes`) so that its owner can stop reading requests
 * while it is full (`full`), and calls `onDrained` when it is back to half.
 */
export class AnswerQueue {
  private readonly items: (QueuedAnswer & { offset: number })[] = [];
  private timer: TimerSetHandle | null = null;
  private held = 0;
  private wasFull = false;

  constructor(
    private readonly write: (chunk: Buffer) => void,
    private readonly timers: TimerSet,
    private readonly now: () => number,
    private readonly onDrained: () => void = () => {},
    private readonly highWaterBytes = ANSWER_QUEUE_HIGH_WATER_BYTES,
  ) {}

  get empty(): boolean {
    return this.items.length === 0;
  }

  get length(): number {
    return this.items.length;
  }

  /** Octets queued and not yet written. */
  get bytes(): number {
    return this.held;
  }

  /** At or above the high-water mark: the owner should stop reading requests. */
  get full(): boolean {
    return this.held >= this.highWaterBytes;
  }

  push(item: QueuedAnswer): void {
    this.items.push({ ...item, offset: 0 });
    this.held += item.buf.length;
    if (this.full) this.wasFull = true;
    if (this.timer === null) this.pump();
  }

  /** Drops everything queued (the session closed). */
  clear(): void {
    this.items.length = 0;
    this.held = 0;
    this.wasFull = false;
    this.timer?.clear();
    this.timer = null;
  }

  private wrote(n: number): void {
    this.held -= n;
    if (this.wasFull && this.held <= this.highWaterBytes / 2) {
      this.wasFull = false;
      // Not from inside pump(): resuming may bring new answers, and they must queue behind this one.
      queueMicrotask(this.onDrained);
    }
  }

  private readonly pump = (): void => {
    this.timer = null;
    for (;;) {
      const head = this.items[0];
      if (head === undefined) return;
      const wait = head.readyAt - this.now();
      if (wait > 0) {
        this.timer = this.timers.set(this.pump, Math.ceil(wait));
        return;
      }
      if (head.chunkBytes !== undefined) {
        const end = Math.min(head.buf.length, head.offset + head.chunkBytes);
        this.write(head.buf.subarray(head.offset, end));
        this.wrote(end - head.offset);
        head.offset = end;
        if (head.offset < head.buf.length) {
          this.timer = this.timers.set(this.pump, head.intervalMs ?? 0);
          return;
        }
      } else {
        this.write(head.buf);
        this.wrote(head.buf.length);
      }
      this.items.shift();
    }
  };
}
