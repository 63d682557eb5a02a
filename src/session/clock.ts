/**
 * Time as the session sees it. Injected so state machines are tested with a fake clock,
 * without sleeping. `now()` is monotonic milliseconds (not wall time); `hrtime()` is the
 * high-resolution clock used for probe round-trip times.
 */
export interface TimerHandle {
  clear(): void;
}

export interface Clock {
  now(): number;
  hrtime(): bigint;
  /** Calls `fn` after `ms`. Real timers are unref'ed: a session never keeps the process alive by itself. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

export const realClock: Clock = {
  now: () => performance.now(),
  hrtime: () => process.hrtime.bigint(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { clear: () => clearTimeout(t) };
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cleared: boolean;
}

/** A clock that moves only when told to. `advance(ms)` runs due timers in time order. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(startMs = 1_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  hrtime(): bigint {
    return BigInt(Math.round(this.t * 1e6));
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cleared: false };
    this.timers.push(timer);
    return {
      clear: () => {
        timer.cleared = true;
      },
    };
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.filter((t) => !t.cleared).length;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cleared);
      let next: FakeTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.cleared = true;
      next.fn();
    }
    this.t = end;
  }
}
