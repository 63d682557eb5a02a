/**
 * The engine's knobs (config `outbound:`), with defaults. Durations in ms.
 */
import { DEFAULT_SUBMIT_POLICY } from '../submit-outcome.js';

export interface OutboundRetryOptions {
  /** Sends of one PDU at most for temporary errors (throttle answers do not count). */
  maxAttempts: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  throttleInitialPauseMs: number;
  throttleMaxPauseMs: number;
}

export interface OutboundOptions {
  /** Parts accepted and not settled, above which POST /messages answers 429. */
  maxQueuedParts: number;
  /** Parts a bind's worker claims at once (whole messages: the last may go past it). */
  claimBatch: number;
  /** A claimed part not sent within this goes back to the queue (a worker that died). */
  visibilityTimeoutMs: number;
  /** The slow poll for scheduled and retried parts when nothing woke the worker. */
  pollIntervalMs: number;
  /** How often queued messages are checked for an ended validity. */
  validitySweepIntervalMs: number;
  /** The bind lease's time to live; renewed every third of it. */
  leaseTtlMs: number;
  retry: OutboundRetryOptions;
}

export const DEFAULT_OUTBOUND: OutboundOptions = {
  maxQueuedParts: 100_000,
  claimBatch: 256,
  visibilityTimeoutMs: 60_000,
  pollIntervalMs: 1_000,
  validitySweepIntervalMs: 5_000,
  leaseTtlMs: 30_000,
  retry: {
    maxAttempts: DEFAULT_SUBMIT_POLICY.maxAttempts,
    retryInitialDelayMs: DEFAULT_SUBMIT_POLICY.retryInitialDelayMs,
    retryMaxDelayMs: DEFAULT_SUBMIT_POLICY.retryMaxDelayMs,
    throttleInitialPauseMs: DEFAULT_SUBMIT_POLICY.throttleInitialPauseMs,
    throttleMaxPauseMs: DEFAULT_SUBMIT_POLICY.throttleMaxPauseMs,
  },
};

/** Defaults overlaid with what is given (retry key by key). */
export function outboundOptions(
  given: Partial<Omit<OutboundOptions, 'retry'>> & { retry?: Partial<OutboundRetryOptions> } = {},
): OutboundOptions {
  return { ...DEFAULT_OUTBOUND, ...given, retry: { ...DEFAULT_OUTBOUND.retry, ...given.retry } };
}
