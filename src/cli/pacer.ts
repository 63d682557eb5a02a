/**
 * A token bucket for a steady send rate: tokens arrive at `ratePerSecond`, evenly, and at most
 * `burst` of them wait unused — so after a stall (a slow event loop, a full window) the sender
 * catches up by at most `burst` messages instead of firing the whole backlog at once. Pure: the
 * caller passes the time (ms, any monotonic origin) and owns the timer. The refill arithmetic is
 * the message path's (src/bridge/token-bucket.ts); this wrapper adds the pacing a sender needs.
 */
import { refill, type TokenBucketConfig, type TokenBucketState } from '../bridge/token-bucket.js';

export class TokenBucket {
  private readonly config: TokenBucketConfig;
  private state: TokenBucketState;

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
    this.config = { ratePerSecond, burst };
    this.state = { tokens: 1, updatedAt: now };
  }

  /** Takes every whole token available at `now`, at most `max`; returns how many. */
  take(now: number, max = Number.POSITIVE_INFINITY): number {
    const { tokens, updatedAt } = refill(this.state, this.config, now);
    const n = Math.min(Math.floor(tokens), Math.max(0, Math.floor(max)));
    this.state = { tokens: tokens - n, updatedAt };
    return n;
  }

  /** When the next whole token will be there (`now` if one already is). */
  nextAt(now: number): number {
    this.state = refill(this.state, this.config, now);
    if (this.state.tokens >= 1) return now;
    return now + ((1 - this.state.tokens) * 1000) / this.ratePerSecond;
  }
}

/**
 * A burst for a rate: 50 ms worth of tokens, at least one — enough to ride out a busy event loop
 * or timer jitter without losing rate, too little to flood the SMSC after a long stall.
 */
export function defaultBurst(ratePerSecond: number): number {
  return Math.max(1, Math.ceil(ratePerSecond / 20));
}
