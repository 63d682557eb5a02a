/**
 * Rate-limited warnings: a peer must not be able to make us write more log than it sends. Each
 * kind of warning (a key such as 'unexpected_response') logs its first occurrence, then at most
 * one line per interval carrying how many were suppressed since the last line; flush() writes
 * the count still held (on close). The decision is a pure function of (state, now); the clock
 * is injected, so tests drive it with plain numbers or a FakeClock.
 */
import type { Logger } from '../logger.js';

/** One kind's bookkeeping: when its last line was written, and how many were dropped since. */
export interface RateLimitSlot {
  lastAt: number;
  suppressed: number;
}

/**
 * Whether an occurrence at `now` is logged. Returns the suppressed count to report with it
 * (0 for the first), or -1 when it is suppressed (and counted in `slot`).
 */
export function admitOccurrence(slot: RateLimitSlot | undefined, intervalMs: number, now: number): number {
  if (slot === undefined) return 0;
  if (now - slot.lastAt >= intervalMs) {
    const suppressed = slot.suppressed;
    slot.lastAt = now;
    slot.suppressed = 0;
    return suppressed;
  }
  slot.suppressed++;
  return -1;
}

export class LogRateLimiter {
  private readonly slots = new Map<string, RateLimitSlot>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    /** At most one line per kind per this long after the first (default 10 s). */
    readonly intervalMs = 10_000,
  ) {}

  /** Logs a warning of this kind unless one was logged within the interval. */
  warn(kind: string, obj: Record<string, unknown>, msg: string): void {
    const now = this.now();
    const slot = this.slots.get(kind);
    const suppressed = admitOccurrence(slot, this.intervalMs, now);
    if (suppressed < 0) return;
    if (slot === undefined) this.slots.set(kind, { lastAt: now, suppressed: 0 });
    if (suppressed > 0)
      this.log.warn({ ...obj, kind, suppressed }, `${msg} (and ${suppressed} more suppressed)`);
    else this.log.warn({ ...obj, kind }, msg);
  }

  /** Writes one line per kind with occurrences still suppressed, and forgets them. */
  flush(): void {
    for (const [kind, slot] of this.slots) {
      if (slot.suppressed > 0) {
        this.log.warn(
          { kind, suppressed: slot.suppressed },
          `${slot.suppressed} more ${kind} warnings suppressed`,
        );
      }
    }
    this.slots.clear();
  }
}
