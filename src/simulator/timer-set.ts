/**
 * The timers one owner (the simulator, one of its sessions, the message store) has running,
 * so that closing the owner clears every one of them. They run on an injected Clock (the
 * session's: real timers are unref'ed, so the listening server, not a pending receipt, is what
 * keeps a process alive; tests pass a FakeClock and move time themselves).
 */
import { type Clock, realClock, type TimerHandle } from '../session/clock.js';

export interface TimerSetHandle {
  clear(): void;
}

export class TimerSet {
  private readonly live = new Set<TimerHandle>();
  private closed = false;

  constructor(private readonly clock: Clock = realClock) {}

  /** Runs `fn` once after `ms` (clamped to setTimeout's range); a no-op handle once the set is closed. */
  set(fn: () => void, ms: number): TimerSetHandle {
    if (this.closed) return { clear: () => {} };
    const timer = this.clock.setTimer(
      () => {
        this.live.delete(timer);
        fn();
      },
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
    this.live.add(timer);
    return {
      clear: () => {
        timer.clear();
        this.live.delete(timer);
      },
    };
  }

  /** The clock's time (ms). */
  now(): number {
    return this.clock.now();
  }

  /** Timers set and not yet fired or cleared. */
  get size(): number {
    return this.live.size;
  }

  /** Clears every timer; with `close`, later `set` calls do nothing. */
  clearAll(close = false): void {
    for (const timer of this.live) timer.clear();
    this.live.clear();
    if (close) this.closed = true;
  }
}

/** setTimeout's upper bound: a longer delay would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;
