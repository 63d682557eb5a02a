/**
 * Time as the session sees it. Injected so state machines are tested with a fake clock,
 * without sleeping. `now()` is monotonic milliseconds (not wall time); `hrtime()` is the
 * high-resolution clock used for probe round-trip times.
 */
export interface TimerHandle {
  clear(): void;
  /**
   * Re-arms this timer to fire `ms` from now (default: its last duration), whether it fired,
   * was cleared or is still pending. With the real clock and an unchanged duration this is
   * Node's `timeout.refresh()`: the same timer object, no new one (a session re-arms its timers
   * for every deadline; at 10,000 binds new timers cost RSS).
   */
  refresh(ms?: number): void;
}

export interface Clock {
  now(): number;
  hrtime(): bigint;
  /** Calls `fn` after `ms`. Real timers are unref'ed: a session never keeps the process alive by itself. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

/** Node timers count whole milliseconds; rounding up never fires before the deadline. */
function whole(ms: number): number {
  return Math.max(0, Math.ceil(ms));
}

/** Node's own timer behind a TimerHandle: refresh() reuses it while the duration is unchanged. */
class RealTimer implements TimerHandle {
  private t: NodeJS.Timeout;
  private ms: number;

  constructor(
    private readonly fn: () => void,
    ms: number,
  ) {
    this.ms = whole(ms);
    this.t = setTimeout(fn, this.ms);
    this.t.unref();
  }

  private cleared = false;

  clear(): void {
    this.cleared = true;
    clearTimeout(this.t);
  }

  refresh(ms = this.ms): void {
    const next = whole(ms);
    // Node's refresh() re-arms a timer that fired, but not one cleared with clearTimeout.
    if (next === this.ms && !this.cleared) {
      this.t.refresh();
      return;
    }
    this.cleared = false;
    clearTimeout(this.t);
    this.ms = next;
    this.t = setTimeout(this.fn, next);
    this.t.unref();
  }
}

export const realClock: Clock = {
  now: () => performance.now(),
  hrtime: () => process.hrtime.bigint(),
  setTimer: (fn, ms) => new RealTimer(fn, ms),
};

interface FakeTimer {
  at: number;
  ms: number;
  seq: number;
  fn: () => void;
  /** Fired or cleared: out of the queue until refreshed. */
  cleared: boolean;
  /** Cleared with clear() (a real timer then has to be made anew). */
  killed: boolean;
}

/** A clock that moves only when told to. `advance(ms)` runs due timers in time order. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: FakeTimer[] = [];
  /** Timers created with setTimer (a refresh() is not a creation). */
  created = 0;
  /**
   * refresh() calls that changed a timer's duration: with the real clock each of those replaces
   * Node's timer object (only a refresh with the same duration reuses it).
   */
  resized = 0;

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
    this.created++;
    const d = Math.max(0, ms);
    const timer: FakeTimer = { at: this.t + d, ms: d, seq: this.seq++, fn, cleared: false, killed: false };
    this.timers.push(timer);
    return {
      clear: () => {
        timer.cleared = true;
        timer.killed = true;
      },
      refresh: (refreshMs?: number) => {
        const ms = refreshMs === undefined ? timer.ms : Math.max(0, refreshMs);
        if (Math.ceil(ms) !== Math.ceil(timer.ms) || timer.killed) this.resized++;
        timer.killed = false;
        timer.ms = ms;
        timer.at = this.t + timer.ms;
        timer.seq = this.seq++;
        if (timer.cleared) {
          timer.cleared = false;
          if (!this.timers.includes(timer)) this.timers.push(timer);
        }
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
