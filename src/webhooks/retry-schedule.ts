/**
 * When to deliver a webhook again, and whether to: pure, from (the attempt's result, the facts so far,
 * now, random) to a decision. The sender owns the queue and the timers; it only asks.
 *
 * Schedule (Standard Webhooks, message-bridge.md): after a failed attempt, wait 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 14 h, 20 h, 24 h (ten attempts over about three days), each ±20 % jitter so endpoints that
 * failed together are not retried together. Junebug never retried, Jasmin gave up after 3 × 30 s and on
 * the first 404 (jasmin#112), Kannel's http-request-retry defaults to 0.
 *
 *   2xx                         success
 *   408, 425, 429, 5xx,         retry on the schedule; a Retry-After header (delay-seconds or an
 *   timeout, network error      HTTP-date) replaces the scheduled delay, clamped to 1 s … 24 h
 *   410 Gone                    the receiver says the endpoint is gone: disable it (and drop this one)
 *   other 4xx, 3xx              the receiver refuses this message: one more try (a deploy may be half
 *                               done), then dead
 *   schedule exhausted          dead
 */

/** Delays after attempt 1, 2, … (ms). */
export const STANDARD_SCHEDULE_MS: readonly number[] = Object.freeze([
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
]);

export interface RetryPolicy {
  readonly scheduleMs: readonly number[];
  /** Each delay is scaled by 1 ± jitterRatio × random. */
  readonly jitterRatio: number;
  readonly minRetryAfterMs: number;
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  scheduleMs: STANDARD_SCHEDULE_MS,
  jitterRatio: 0.2,
  minRetryAfterMs: 1_000,
  maxRetryAfterMs: 24 * 3_600_000,
});

/** How one delivery attempt ended. */
export type DeliveryResult =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfter?: string }
  /** No response within the request timeout. */
  | { readonly kind: 'timeout' }
  /** Connection refused or reset, DNS failure, TLS failure. */
  | { readonly kind: 'network_error' };

export interface DeliveryFacts {
  /** Attempts made, including the one that just ended (1 for the first). */
  readonly attempt: number;
  /** 4xx/3xx answers (other than 408/410/425/429) to earlier attempts of this message. */
  readonly refusals: number;
}

export type DeliveryDecision =
  | { readonly action: 'success' }
  | { readonly action: 'retry'; readonly delayMs: number; readonly reason: string }
  | { readonly action: 'dead'; readonly reason: string }
  /** 410: stop sending anything to this endpoint until an operator re-enables it. */
  | { readonly action: 'disable_endpoint'; readonly reason: string };

const SUCCESS: DeliveryDecision = Object.freeze({ action: 'success' });
const RETRIABLE_4XX: ReadonlySet<number> = new Set([408, 425, 429]);

/**
 * A Retry-After header in ms from `now`: delay-seconds (`120`) or an HTTP-date; a date in the past is 0.
 * Undefined for anything else.
 */
export function parseRetryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-date (RFC 9110 §5.6.7): a day-name first, so numbers and ISO strings do not slip through.
  if (!/^[A-Za-z]{3},? /.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** The scheduled delay after attempt `attempt` (1-based), jittered; undefined when the schedule is done. */
export function scheduledDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number,
): number | undefined {
  const base = policy.scheduleMs[attempt - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + policy.jitterRatio * (2 * random() - 1)));
}

/** The decision after one attempt. `random` returns [0, 1). */
export function decideDelivery(
  result: DeliveryResult,
  facts: DeliveryFacts,
  now: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): DeliveryDecision {
  let reason: string;
  let retryAfterMs: number | undefined;
  if (result.kind === 'response') {
    const { status } = result;
    if (status >= 200 && status <= 299) return SUCCESS;
    if (status === 410) return { action: 'disable_endpoint', reason: 'the endpoint answered 410 Gone' };
    if (status >= 500 || RETRIABLE_4XX.has(status)) {
      reason = `the endpoint answered ${status}`;
      retryAfterMs = parseRetryAfterMs(result.retryAfter, now);
    } else {
      // Refused (other 4xx, a redirect we do not follow, or a nonsense status): one more try, then dead.
      if (facts.refusals >= 1)
        return { action: 'dead', reason: `the endpoint refused the message twice (${status})` };
      reason = `the endpoint refused the message (${status}); one more try`;
    }
  } else {
    reason = result.kind === 'timeout' ? 'no response within the timeout' : 'network error';
  }
  const scheduled = scheduledDelayMs(policy, facts.attempt, random);
  if (scheduled === undefined)
    return { action: 'dead', reason: `${reason}; all ${facts.attempt} attempts failed` };
  const delayMs =
    retryAfterMs === undefined
      ? scheduled
      : Math.min(policy.maxRetryAfterMs, Math.max(policy.minRetryAfterMs, retryAfterMs));
  return { action: 'retry', delayMs, reason };
}
