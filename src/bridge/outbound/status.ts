/**
 * The one place a message's status is recomputed and recorded: inside the caller's transaction,
 * from the message's parts (computeMessageStatus + keepFinal in message-status.ts), so the order
 * in which responses and receipts arrive does not matter. When the status changed: the message is
 * updated, a `status` event appended, and the StatusEventSink told (same transaction: the webhook
 * outbox row commits with the change). Changes are published to in-process listeners (SSE,
 * metrics) only after the commit returned.
 */
import { statusInfo } from '../../protocol/command-status.js';
import type { ReceiptStat } from '../../protocol/receipt.js';
import {
  FINAL_MESSAGE_STATUSES,
  type MessageRecord,
  type PartRecord,
  type Store,
  type StoredError,
  type StoreTx,
} from '../../store/store.js';
import {
  computeMessageStatus,
  type FailureReason,
  keepFinal,
  type MessageFacts,
  type PartFacts,
  type StatusVerdict,
} from '../message-status.js';
import type { MessageStatusChange, StatusEventSink } from '../ports.js';

/** Why the path itself gave up on a message (not an SMSC status). */
export type PathFailure = Exclude<FailureReason, 'RESPONSE_TIMEOUT'>;

const PENDING: PartFacts = Object.freeze({ submit: Object.freeze({ kind: 'pending' as const }) });

/** What the store knows of a part, as message-status.ts reads it. */
export function partFacts(part: PartRecord): PartFacts {
  const receipts = part.receiptStat === null ? undefined : [part.receiptStat as ReceiptStat];
  switch (part.state) {
    case 'submitted':
      return { submit: { kind: 'accepted', messageId: part.smscMessageId ?? '' }, receipts };
    case 'rejected': {
      const commandStatus = part.submitStatus ?? 0;
      return {
        submit: {
          kind: 'rejected',
          commandStatus,
          permanent: statusInfo(commandStatus).retryClass === 'permanent',
        },
        receipts,
      };
    }
    case 'unknown':
      return { submit: { kind: 'timeout' }, receipts };
    default:
      return receipts === undefined ? PENDING : { submit: { kind: 'pending' }, receipts };
  }
}

/** The verdict a stored message stands at (final or not), for keepFinal. */
export function storedVerdict(message: MessageRecord): StatusVerdict {
  const final =
    FINAL_MESSAGE_STATUSES.has(message.status) ||
    (message.status === 'submitted' && message.receiptPolicy === 'none');
  return { status: message.status, final };
}

const PATH_FAILURES: ReadonlySet<string> = new Set(['VALIDITY_EXPIRED', 'NO_ROUTE', 'RETRIES_EXHAUSTED']);

/** The message's verdict from its parts (and a failure the path recorded on it). */
export function verdictOf(
  message: MessageRecord,
  parts: readonly PartRecord[],
  now: number,
  failure?: PathFailure,
): StatusVerdict {
  const recorded =
    message.status === 'failed' && message.error !== null && PATH_FAILURES.has(message.error.code)
      ? (message.error.code as PathFailure)
      : undefined;
  const facts: MessageFacts = {
    parts: parts.map(partFacts),
    canceled: message.status === 'canceled',
    receiptPolicy: message.receiptPolicy,
    ...((failure ?? recorded) ? { failure: failure ?? recorded } : {}),
    ...(message.sendAt === null ? {} : { sendAt: message.sendAt }),
  };
  return keepFinal(storedVerdict(message), computeMessageStatus(facts, now));
}

/** The error stored on the message for a verdict (null: none). A crash mid-send says so. */
function storedErrorOf(verdict: StatusVerdict, parts: readonly PartRecord[]): StoredError | null {
  const error = verdict.error;
  if (!error) return null;
  if (error.code === 'RESPONSE_TIMEOUT') {
    const interrupted = parts.find((p) => p.state === 'unknown' && p.error !== null);
    if (interrupted?.error) return { code: 'RESPONSE_TIMEOUT', message: interrupted.error.message };
  }
  return { code: error.code, message: error.reason };
}

export interface RecomputeOptions {
  /** The path gives up on the message (VALIDITY_EXPIRED, NO_ROUTE, RETRIES_EXHAUSTED). */
  failure?: PathFailure;
  /** An event to append first (a receipt after the status went final is recorded this way only). */
  event?: { type: string; data: unknown };
  /**
   * The part this transaction just wrote, as the store returned it: a message of one part needs no
   * other, so its parts are not read again.
   */
  part?: PartRecord;
}

export type StatusListener = (change: MessageStatusChange) => void;

export const NO_SINK: StatusEventSink = { onStatusChanged: async () => {} };

/** Records status changes; one per engine. */
export class StatusRecorder {
  private readonly listeners = new Set<StatusListener>();

  constructor(
    private readonly store: Store,
    private readonly sink: StatusEventSink = NO_SINK,
    /** Wall-clock ms. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Told of every committed change (after the commit). Returns the unsubscribe. */
  onChange(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` in one transaction; `recompute` inside it recomputes a message and collects the change,
   * which is published once the transaction committed.
   */
  async transaction<T>(
    fn: (
      tx: StoreTx,
      recompute: (messageId: string, options?: RecomputeOptions) => Promise<MessageStatusChange | undefined>,
    ) => Promise<T>,
  ): Promise<T> {
    const changes: MessageStatusChange[] = [];
    const result = await this.store.transaction((tx) =>
      fn(tx, async (messageId, options) => {
        const change = await this.recomputeIn(tx, messageId, options);
        if (change) changes.push(change);
        return change;
      }),
    );
    this.publish(changes);
    return result;
  }

  publish(changes: readonly MessageStatusChange[]): void {
    if (this.listeners.size === 0) return;
    for (const change of changes) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch {
          // A listener's failure is its own; the change is committed.
        }
      }
    }
  }

  /** Recomputes one message inside `tx`; the change when the status moved, else undefined. */
  async recomputeIn(
    tx: StoreTx,
    messageId: string,
    options: RecomputeOptions = {},
  ): Promise<MessageStatusChange | undefined> {
    const message = await tx.getMessage(messageId);
    if (message === undefined) return undefined;
    if (options.event) await tx.appendMessageEvent(messageId, options.event.type, options.event.data);
    const known = options.part;
    const parts =
      known !== undefined && known.messageId === messageId && message.partsCount === 1
        ? [known]
        : await tx.listParts(messageId);
    const at = this.now();
    const verdict = verdictOf(message, parts, at, options.failure);
    if (verdict.status === message.status) return undefined;
    const error = storedErrorOf(verdict, parts);
    const updated = await tx.updateMessage(messageId, { status: verdict.status, error }, message);
    const event = await tx.appendMessageEvent(messageId, 'status', {
      status: verdict.status,
      previous: message.status,
      ...(verdict.error ? { error: verdict.error } : {}),
      ...(verdict.partsDelivered === undefined ? {} : { partsDelivered: verdict.partsDelivered }),
    });
    const change: MessageStatusChange = {
      message: updated,
      previous: message.status,
      status: verdict.status,
      parts,
      sequence: event.seq,
      at,
    };
    await this.sink.onStatusChanged(tx, change);
    return change;
  }
}
