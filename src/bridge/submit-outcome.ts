/**
 * What the outbound path does with one part's submit_sm result: pure, from (result, attempt facts,
 * policy, random) to a decision. The caller owns the queue, the bind and the timers; it only asks.
 *
 *   ESME_ROK                          accept: record the message_id
 *   ESME_RTHROTTLED, ESME_RMSGQFUL    pause the bind, requeue the SAME PDU at the head of the queue
 *                                     (same sequence of parts, same UDH reference), no attempt spent.
 *                                     Jasmin #425/#796/#925 requeued throttled messages with a delay at the
 *                                     tail (order 1,2,4,3,5) and deleted its receipt map on retry.
 *   other temporary statuses          retry the same PDU after a jittered backoff, at most maxAttempts
 *   (retry class `retry`:             sends in all; then reject, not permanent (RETRIES_EXHAUSTED)
 *   ESME_RSYSERR, ESME_RSUBMITFAIL…)
 *   session/bind faults (class        the bind is in the wrong state or mode: retry like a temporary
 *   `session` or `bind`)              status, and ask for a rebind
 *   permanent statuses                reject: the message must change before it can succeed
 *   response timeout, or the          unknown: the SMSC may have sent the SMS; resending duplicates it
 *   connection closed in flight       (jsmpp #63, Kannel). Only a route that opts in (resubmitOnTimeout)
 *                                     resends, within maxAttempts.
 *   never sent (window wait timed     requeue at the head: nothing reached the SMSC, no attempt spent
 *   out, not bound)
 *
 * The classes come from src/protocol/command-status.ts (reference §6); message-bridge.md "SMPP facts".
 * A settled decision is the part's PartSubmit in message-status.ts: accept → accepted, reject → rejected
 * (permanent as decided here), unknown → timeout.
 * A throttle pause is not bounded by a count: a message held by throttling ends by its validity period
 * (message-status: failed VALIDITY_EXPIRED), never by dropping it.
 */
import { backoffDelayMs } from '../binds/backoff.js';
import { CommandStatus, statusInfo } from '../protocol/command-status.js';

/** What came back for one submit_sm. */
export type SubmitResult =
  | { readonly kind: 'response'; readonly commandStatus: number; readonly messageId?: string }
  /** No submit_sm_resp within responseTimeoutMs. */
  | { readonly kind: 'timeout' }
  /** The connection closed after the PDU was written and before its response. */
  | { readonly kind: 'closed' }
  /** The PDU never left: no window slot in time, or no bound session. */
  | { readonly kind: 'not_sent' };

export interface SubmitPolicy {
  /** Sends of one PDU at most, counting the first (throttle requeues and unsent tries do not count). */
  readonly maxAttempts: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly throttleInitialPauseMs: number;
  readonly throttleMaxPauseMs: number;
  /** Resend after a response timeout or a close in flight (may duplicate the SMS). Default off. */
  readonly resubmitOnTimeout: boolean;
}

export const DEFAULT_SUBMIT_POLICY: SubmitPolicy = Object.freeze({
  maxAttempts: 3,
  retryInitialDelayMs: 1_000,
  retryMaxDelayMs: 60_000,
  throttleInitialPauseMs: 1_000,
  throttleMaxPauseMs: 30_000,
  resubmitOnTimeout: false,
});

export interface AttemptFacts {
  /** Sends of this PDU so far, including the one this result is for (≥ 1 unless not_sent). */
  readonly attempts: number;
  /** Throttle answers in a row on this bind before this one (0 for the first). */
  readonly throttleStreak: number;
}

export type SubmitDecision =
  | { readonly action: 'accept'; readonly messageId: string }
  /** Pause the whole bind for pauseMs and put the same PDU back at the head of its queue. */
  | { readonly action: 'pause_and_requeue'; readonly pauseMs: number; readonly commandStatus: number }
  /** Send the same PDU again after delayMs; rebind first when the SMSC said the session is wrong. */
  | {
      readonly action: 'retry';
      readonly delayMs: number;
      readonly commandStatus?: number;
      readonly rebind: boolean;
    }
  /** Settled with an error status: permanent, or temporary with no attempt left. */
  | { readonly action: 'reject'; readonly commandStatus: number; readonly permanent: boolean }
  /** Settled without an answer: the SMS may or may not have gone. */
  | { readonly action: 'unknown'; readonly reason: 'RESPONSE_TIMEOUT' | 'CONNECTION_CLOSED' }
  /** Nothing was sent: put it back at the head, no attempt spent. */
  | { readonly action: 'requeue' };

const REQUEUE: SubmitDecision = Object.freeze({ action: 'requeue' });

/** The statuses that mean "slow down" for the whole bind, not "this message is wrong". */
export function isThrottleStatus(commandStatus: number): boolean {
  return commandStatus === CommandStatus.ESME_RTHROTTLED || commandStatus === CommandStatus.ESME_RMSGQFUL;
}

/**
 * The pause after a throttle answer: doubles with the streak up to the cap, with "equal jitter" (half
 * fixed, half random) so a pause is never near zero and many binds do not resume in step.
 */
export function throttlePauseMs(policy: SubmitPolicy, streak: number, random: () => number): number {
  const bound = Math.min(
    policy.throttleMaxPauseMs,
    policy.throttleInitialPauseMs * 2 ** Math.min(streak, 30),
  );
  return Math.floor(bound / 2 + (random() * bound) / 2);
}

/** The decision for one submit result. `random` returns [0, 1). */
export function decideSubmitOutcome(
  result: SubmitResult,
  facts: AttemptFacts,
  policy: SubmitPolicy = DEFAULT_SUBMIT_POLICY,
  random: () => number = Math.random,
): SubmitDecision {
  const attemptsLeft = facts.attempts < policy.maxAttempts;
  const retryDelay = (): number =>
    backoffDelayMs(
      { initialDelayMs: policy.retryInitialDelayMs, maxDelayMs: policy.retryMaxDelayMs },
      Math.max(0, facts.attempts - 1),
      random,
    );
  switch (result.kind) {
    case 'not_sent':
      return REQUEUE;
    case 'timeout':
    case 'closed':
      if (policy.resubmitOnTimeout && attemptsLeft)
        return { action: 'retry', delayMs: retryDelay(), rebind: false };
      return {
        action: 'unknown',
        reason: result.kind === 'timeout' ? 'RESPONSE_TIMEOUT' : 'CONNECTION_CLOSED',
      };
    case 'response':
      break;
  }
  const { commandStatus } = result;
  const info = statusInfo(commandStatus);
  switch (info.retryClass) {
    case 'ok':
      return { action: 'accept', messageId: result.messageId ?? '' };
    case 'permanent':
      return { action: 'reject', commandStatus: info.code, permanent: true };
    case 'retry':
      if (isThrottleStatus(info.code)) {
        return {
          action: 'pause_and_requeue',
          pauseMs: throttlePauseMs(policy, facts.throttleStreak, random),
          commandStatus: info.code,
        };
      }
      return attemptsLeft
        ? { action: 'retry', delayMs: retryDelay(), commandStatus: info.code, rebind: false }
        : { action: 'reject', commandStatus: info.code, permanent: false };
    case 'session':
    case 'bind':
      return attemptsLeft
        ? { action: 'retry', delayMs: retryDelay(), commandStatus: info.code, rebind: true }
        : { action: 'reject', commandStatus: info.code, permanent: false };
  }
}
