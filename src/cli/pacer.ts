/**
 * A token bucket for a steady send rate: tokens arrive at `ratePerSecond`, evenly, and at most
 * `burst` of them wait unused — so after a stall (a slow event loop, a full window) the sender
 * catches up by at most `burst` messages instead of firing the whole backlog at once. Pure: the
 * caller passes the time (ms, any monotonic origin) and owns the timer.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param ratePerSecond tokens per second (> 0)
   * @param burst most tokens that may be stored (>= 1)
   * @param now the start time; one token is there at once so the first message goes now
   */
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    now: number,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0');
    if (!(burst >= 1)) throw new RangeError('burst must be at least 1');
    this.tokens = 1;
    this.last = now;
  }

  private refill(now: number): void {
    if (now <= this.last) return;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
  }

  /** Takes every whole token available at `now`, at most `max`; returns how many. */
  take(now: number, max = Number.POSITIVE_INFINITY): number {
    this.refill(now);
    const n = Math.min(Math.floor(this.tokens), Math.max(0, Math.floor(max)));
    this.tokens -= n;
    return n;
  }

  /** When the next whole token will be there (`now` if one already is). */
  nextAt(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return now;
    return now + ((1 - this.tokens) * 1000) / this.ratePerSecond;
  }
}

/**
 * A burst for a rate: 50 ms worth of tokens, at least one — enough to ride out a busy event loop
 * or timer jitter without losing rate, too little to flood the SMSC after a long stall.
 */
export function defaultBurst(ratePerSecond: number): number {
  return Math.max(1, Math.ceil(ratePerSecond / 20));
}
