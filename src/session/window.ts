/**
 * The in-flight window: requests awaiting a response, keyed by sequence_number, with a
 * capacity and two deadlines — waiting for a slot and waiting for the response (both on by
 * default; reference §5, style habit 6). Every request settles exactly once. No timers live
 * here: the session calls `expire(now)` from its single timer and `nextDeadline()` to re-arm it.
 */
import type { Pdu } from '../protocol/pdu.js';

export interface PendingRequest {
  readonly seq: number;
  readonly command: string;
  /** The response command_id that settles it (generic_nack settles anything). */
  readonly responseId: number;
  /** Counts against the capacity (enquire_link and unbind do not: probes are never blocked by traffic). */
  readonly windowed: boolean;
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Called with the response and the high-resolution time its bytes were read. */
  resolve(pdu: Pdu, rxAt: bigint): void;
  reject(error: Error): void;
}

export interface Waiter {
  deadline: number;
  timeoutMs: number;
  command: string;
  resolve(): void;
  reject(error: Error): void;
}

export class InvariantError extends Error {}

export class InflightWindow {
  private readonly pending = new Map<number, PendingRequest>();
  private readonly waiters: Waiter[] = [];
  private windowedCount = 0;

  constructor(readonly capacity: number) {}

  /** Requests counting against the capacity. */
  get used(): number {
    return this.windowedCount;
  }

  /** Every outstanding request, windowed or not. */
  get size(): number {
    return this.pending.size;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  has(seq: number): boolean {
    return this.pending.has(seq);
  }

  /** Takes a slot if one is free and nobody is queued for one. */
  tryAcquire(): boolean {
    if (this.windowedCount < this.capacity && this.waiters.length === 0) {
      this.windowedCount++;
      return true;
    }
    return false;
  }

  /**
   * Queues for a slot, first come first served; resolves with the slot already taken.
   * The session rejects it once `deadline` passes (see `expire`).
   */
  waitForSlot(command: string, deadline: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ deadline, timeoutMs, command, resolve, reject });
    });
  }

  /** Tracks a sent request. A windowed one must hold a slot from tryAcquire or waitForSlot. */
  add(request: PendingRequest): void {
    if (this.pending.has(request.seq)) {
      throw new InvariantError(`sequence_number ${request.seq} is already in flight`);
    }
    this.pending.set(request.seq, request);
  }

  get(seq: number): PendingRequest | undefined {
    return this.pending.get(seq);
  }

  /** Removes and returns the request for a response, or undefined for an unknown sequence number. */
  take(seq: number): PendingRequest | undefined {
    const request = this.pending.get(seq);
    if (request === undefined) return undefined;
    this.pending.delete(seq);
    if (request.windowed) this.release();
    return request;
  }

  private release(): void {
    this.windowedCount--;
    const waiter = this.waiters.shift();
    if (waiter) {
      // The slot passes straight to the waiter so nobody can overtake it.
      this.windowedCount++;
      waiter.resolve();
    }
  }

  /** Gives back a slot that was taken but not used (e.g. the encode failed). */
  releaseSlot(): void {
    this.release();
  }

  /** Removes and returns requests and waiters whose deadline passed. */
  expire(now: number): { requests: PendingRequest[]; waiters: Waiter[] } {
    const requests: PendingRequest[] = [];
    for (const request of this.pending.values()) {
      if (request.deadline <= now) requests.push(request);
    }
    for (const request of requests) this.take(request.seq);
    const waiters: Waiter[] = [];
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.deadline <= now) {
        waiters.push(w);
        this.waiters.splice(i, 1);
      }
    }
    return { requests, waiters };
  }

  /** The earliest deadline of anything pending, or undefined. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const request of this.pending.values()) {
      if (next === undefined || request.deadline < next) next = request.deadline;
    }
    for (const w of this.waiters) {
      if (next === undefined || w.deadline < next) next = w.deadline;
    }
    return next;
  }

  /** Rejects every request and waiter (the connection closed). Each settles exactly once. */
  rejectAll(error: () => Error): void {
    const requests = [...this.pending.values()];
    const waiters = this.waiters.splice(0);
    this.pending.clear();
    this.windowedCount = 0;
    for (const r of requests) r.reject(error());
    for (const w of waiters) w.reject(error());
  }
}
