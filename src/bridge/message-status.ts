/**
 * The status of an outbound message, computed from the facts about its parts: pure, no history, so the
 * order in which submit_sm_resp and receipts arrive does not matter (Jasmin #1190: the parts' responses
 * came back in reverse order and broke its id mapping; vumi #991: receipts repeated and out of order,
 * "delivered" then "pending"). Every part counts: a long message is delivered only when every part is
 * (Jasmin #483, #663: it asked for a receipt on the last part only).
 *
 * Rules, first match wins (message-bridge.md "Conventions"; reference §10.3):
 *   canceled             the message was canceled before it went out                       final
 *   failed               the path gave up: VALIDITY_EXPIRED (while queued), NO_ROUTE,       final
 *                        RETRIES_EXHAUSTED (set by the path)
 *   rejected             a part got a permanent error status (error.smppStatus, permanent)  final
 *   failed               RETRIES_EXHAUSTED: a part's temporary status is settled            final
 *   failed               RESPONSE_TIMEOUT: a part's submit_sm_resp never came (the SMSC      final
 *                        may still have sent it; we do not resend: jsmpp #63)
 *   scheduled / queued   not every part accepted yet (scheduled while sendAt is ahead)
 *   submitted            every part ESME_ROK, no receipt yet                                 final only with receipt policy `none`
 *   delivery_pending     receipts arrived, not every part has a final one
 *   delivered            every part DELIVRD                                                  final
 *   partially_delivered  some parts DELIVRD, the others failed                              final
 *   expired              every failed part EXPIRED, none delivered                           final
 *   unknown              no part delivered, at least one UNKNOWN                             final
 *   undelivered          otherwise (UNDELIV, REJECTD, DELETED, SKIPPED)                      final
 *
 * Receipt words (stat) and message_state TLV values map one to one (src/protocol/receipt.ts); each part's
 * receipt outcome is in PART_OUTCOME_BY_STAT below. ACCEPTD is NOT final here: the reference calls it
 * "accepted manually on the subscriber's behalf", Kannel treats it as buffered, Jasmin as success and vumi
 * as delivered. We do not claim a delivery nobody saw: it reads as `delivery_pending` and the receipt is
 * still passed on as an event, so a user who trusts their SMSC's ACCEPTD can act on it.
 *
 * A final status never changes (keepFinal): later receipts become events only.
 */
import { statusInfo } from '../protocol/command-status.js';
import { RegisteredDelivery } from '../protocol/constants.js';
import type { Receipt, ReceiptStat } from '../protocol/receipt.js';
import { statFromMessageState } from '../protocol/receipt.js';

export type MessageStatus =
  | 'queued'
  | 'scheduled'
  | 'submitted'
  | 'rejected'
  | 'failed'
  | 'delivery_pending'
  | 'delivered'
  | 'partially_delivered'
  | 'undelivered'
  | 'expired'
  | 'unknown'
  | 'canceled';

/** Why the message path gave up on a message. */
export type FailureReason = 'VALIDITY_EXPIRED' | 'NO_ROUTE' | 'RETRIES_EXHAUSTED' | 'RESPONSE_TIMEOUT';

/** What a user sees of an error: a stable code, and the SMPP status when the SMSC gave one. */
export interface StatusError {
  readonly code: FailureReason | 'SMSC_REJECTED';
  readonly reason: string;
  readonly smppStatus?: number;
  readonly statusName?: string;
  /** Sending the same message again unchanged cannot succeed. */
  readonly permanent: boolean;
}

/** What the SMSC answered to one part's submit_sm, as far as it is settled. */
export type PartSubmit =
  /** Not sent yet, in flight, or waiting for a retry. */
  | { readonly kind: 'pending' }
  | { readonly kind: 'accepted'; readonly messageId: string }
  /**
   * A status the path will not retry: permanent, or temporary and out of retries (permanent false);
   * as decided by submit-outcome.ts.
   */
  | { readonly kind: 'rejected'; readonly commandStatus: number; readonly permanent: boolean }
  /** No submit_sm_resp within responseTimeoutMs, and the route does not resubmit. */
  | { readonly kind: 'timeout' };

export interface PartFacts {
  readonly submit: PartSubmit;
  /** Receipt stat words for this part, in arrival order (from the text or the message_state TLV). */
  readonly receipts?: readonly ReceiptStat[];
}

export interface MessageFacts {
  readonly parts: readonly PartFacts[];
  readonly canceled?: boolean;
  /** Set by the message path when it gives up before or while sending (not for SMSC statuses). */
  readonly failure?: Exclude<FailureReason, 'RESPONSE_TIMEOUT'>;
  /** When the message may go out (epoch ms); scheduled until then. */
  readonly sendAt?: number;
  readonly receiptPolicy: ReceiptPolicy;
}

export interface StatusVerdict {
  readonly status: MessageStatus;
  /** No later fact changes the status. */
  readonly final: boolean;
  readonly error?: StatusError;
  /** Parts whose receipt outcome is known to be delivered, for partially_delivered. */
  readonly partsDelivered?: number;
}

// ---------------------------------------------------------------------------------------------
// Receipts

/** What one part's receipt says. */
export type PartOutcome = 'pending' | 'delivered' | 'expired' | 'undelivered' | 'unknown';

/** Every stat word, mapped explicitly (reference §10.3). */
export const PART_OUTCOME_BY_STAT: Readonly<Record<ReceiptStat, PartOutcome>> = Object.freeze({
  SCHEDLD: 'pending', // 5.0 message_state 0: held by the SMSC for later delivery
  ENROUTE: 'pending', // 1: on its way
  ACCEPTD: 'pending', // 6: see the header: not claimed as delivered
  DELIVRD: 'delivered', // 2
  EXPIRED: 'expired', // 3: validity period passed in the SMSC
  DELETED: 'undelivered', // 4: deleted in the SMSC (cancel_sm or operator)
  UNDELIV: 'undelivered', // 5
  REJECTD: 'undelivered', // 8: the network refused it after the SMSC accepted it
  SKIPPED: 'undelivered', // 9 (5.0)
  UNKNOWN: 'unknown', // 7: final, outcome unknown; also any vendor word we cannot read
});

/** The outcome of a message_state TLV value; values outside 0–9 read as unknown. */
export function partOutcomeOfMessageState(state: number): PartOutcome {
  const stat = statFromMessageState(state);
  return stat === undefined ? 'unknown' : PART_OUTCOME_BY_STAT[stat];
}

/**
 * The stat word a parsed receipt contributes to its part (src/protocol/receipt.ts parseReceipt: the
 * message_state TLV wins over the text). An intermediate notification (esm_class 0x20, `final` false)
 * never settles a part, whatever its stat says: it counts as ENROUTE.
 */
export function receiptStat(receipt: Pick<Receipt, 'stat' | 'final'>): ReceiptStat {
  if (receipt.final || PART_OUTCOME_BY_STAT[receipt.stat] === 'pending') return receipt.stat;
  return 'ENROUTE';
}

/**
 * One part's outcome from its receipts in arrival order: the first final receipt wins whatever came
 * after it (a late ENROUTE does not reopen a delivered part); before any final one, the latest counts.
 */
export function partOutcome(receipts: readonly ReceiptStat[] | undefined): PartOutcome {
  if (!receipts) return 'pending';
  for (const stat of receipts) {
    const outcome = PART_OUTCOME_BY_STAT[stat] ?? 'unknown';
    if (outcome !== 'pending') return outcome;
  }
  return 'pending';
}

// ---------------------------------------------------------------------------------------------
// Receipt policy

/** Which receipts a message asks for: final outcome, failures only, all (with intermediate), none. */
export type ReceiptPolicy = 'final' | 'failure' | 'all' | 'none';

/** registered_delivery for a receipt policy (reference §8.3); set on EVERY part. */
export function registeredDeliveryFor(policy: ReceiptPolicy): number {
  switch (policy) {
    case 'final':
      return RegisteredDelivery.FINAL;
    case 'failure':
      return RegisteredDelivery.FAILURE;
    case 'all':
      return RegisteredDelivery.FINAL | RegisteredDelivery.INTERMEDIATE;
    case 'none':
      return RegisteredDelivery.NONE;
  }
}

// ---------------------------------------------------------------------------------------------
// The rules

const FAILURE_WORDS: Readonly<Record<FailureReason, string>> = {
  VALIDITY_EXPIRED: 'the validity period ended before the message could be sent',
  NO_ROUTE: 'no route can carry the message',
  RETRIES_EXHAUSTED: 'the SMSC kept answering with a temporary error; retries exhausted',
  RESPONSE_TIMEOUT: 'no submit_sm_resp within the response timeout; the SMSC may still have sent it',
};

function failed(reason: FailureReason, commandStatus?: number): StatusVerdict {
  if (commandStatus === undefined) {
    return {
      status: 'failed',
      final: true,
      error: { code: reason, reason: FAILURE_WORDS[reason], permanent: false },
    };
  }
  const info = statusInfo(commandStatus);
  return {
    status: 'failed',
    final: true,
    error: {
      code: reason,
      reason: `${FAILURE_WORDS[reason]} (last: ${info.name})`,
      smppStatus: info.code,
      statusName: info.name,
      permanent: false,
    },
  };
}

function rejected(commandStatus: number): StatusVerdict {
  const info = statusInfo(commandStatus);
  return {
    status: 'rejected',
    final: true,
    error: {
      code: 'SMSC_REJECTED',
      reason: `the SMSC rejected the message: ${info.name} (${info.description})`,
      smppStatus: info.code,
      statusName: info.name,
      permanent: true,
    },
  };
}

const CANCELED: StatusVerdict = Object.freeze({ status: 'canceled', final: true });
const QUEUED: StatusVerdict = Object.freeze({ status: 'queued', final: false });
const SCHEDULED: StatusVerdict = Object.freeze({ status: 'scheduled', final: false });
const SUBMITTED: StatusVerdict = Object.freeze({ status: 'submitted', final: false });
const SUBMITTED_FINAL: StatusVerdict = Object.freeze({ status: 'submitted', final: true });
const PENDING: StatusVerdict = Object.freeze({ status: 'delivery_pending', final: false });

/** The status of a message from its facts at `now` (epoch ms). Verdicts are read-only (some are shared). */
export function computeMessageStatus(facts: MessageFacts, now: number): StatusVerdict {
  if (facts.canceled) return CANCELED;
  if (facts.failure) return failed(facts.failure);
  let allAccepted = true;
  let anyAccepted = false;
  let timedOut = false;
  // The lowest-numbered part decides among parts of the same kind; a permanent status beats a
  // temporary one that ran out of retries, so the verdict does not depend on which came first.
  let permanent: number | undefined;
  let exhausted: number | undefined;
  for (const part of facts.parts) {
    const { submit } = part;
    if (submit.kind === 'rejected') {
      if (submit.permanent) permanent ??= submit.commandStatus;
      else exhausted ??= submit.commandStatus;
    }
    if (submit.kind === 'timeout') timedOut = true;
    if (submit.kind === 'accepted') anyAccepted = true;
    else allAccepted = false;
  }
  if (permanent !== undefined) return rejected(permanent);
  if (exhausted !== undefined) return failed('RETRIES_EXHAUSTED', exhausted);
  if (timedOut) return failed('RESPONSE_TIMEOUT');
  if (!allAccepted || facts.parts.length === 0) {
    return !anyAccepted && facts.sendAt !== undefined && facts.sendAt > now ? SCHEDULED : QUEUED;
  }
  return receiptStatus(facts);
}

function receiptStatus(facts: MessageFacts): StatusVerdict {
  let delivered = 0;
  let expired = 0;
  let unknown = 0;
  let pending = 0;
  let anyReceipt = false;
  for (const part of facts.parts) {
    if (part.receipts && part.receipts.length > 0) anyReceipt = true;
    switch (partOutcome(part.receipts)) {
      case 'delivered':
        delivered++;
        break;
      case 'expired':
        expired++;
        break;
      case 'unknown':
        unknown++;
        break;
      case 'pending':
        pending++;
        break;
      case 'undelivered':
        break;
    }
  }
  if (!anyReceipt) return facts.receiptPolicy === 'none' ? SUBMITTED_FINAL : SUBMITTED;
  if (pending > 0) return PENDING;
  const total = facts.parts.length;
  if (delivered === total) return { status: 'delivered', final: true, partsDelivered: delivered };
  if (delivered > 0) return { status: 'partially_delivered', final: true, partsDelivered: delivered };
  if (unknown > 0) return { status: 'unknown', final: true, partsDelivered: 0 };
  if (expired === total) return { status: 'expired', final: true, partsDelivered: 0 };
  return { status: 'undelivered', final: true, partsDelivered: 0 };
}

/** The status to store: a final status never changes; otherwise the newly computed one. */
export function keepFinal(previous: StatusVerdict | undefined, next: StatusVerdict): StatusVerdict {
  return previous?.final ? previous : next;
}

/** True when a message still queued at `now` has outlived its validity period (then: failed VALIDITY_EXPIRED). */
export function validityExpired(queuedAt: number, validitySeconds: number | undefined, now: number): boolean {
  return validitySeconds !== undefined && now >= queuedAt + validitySeconds * 1000;
}
