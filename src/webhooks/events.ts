/**
 * The events the bridge publishes and the body of each, pure: from what the message path reports
 * (a status change, a received message, a bind's health transition) to `{ type, timestamp, data }`
 * (the Standard Webhooks payload shape). The fan-out decides who gets them; the sender sends them.
 */
import type { MessageStatusChange, ReceivedMessage } from '../bridge/ports.js';
import type { MessageStatus } from '../store/store.js';

/** A status event per message status that is worth telling (queued, scheduled and canceled are not). */
export const STATUS_EVENT_TYPES = [
  'message.submitted',
  'message.rejected',
  'message.failed',
  'message.delivery_pending',
  'message.delivered',
  'message.partially_delivered',
  'message.undelivered',
  'message.expired',
  'message.unknown',
] as const;
export type StatusEventType = (typeof STATUS_EVENT_TYPES)[number];

export const WEBHOOK_EVENT_TYPES = [
  'message.received',
  ...STATUS_EVENT_TYPES,
  'bind.health_changed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const STATUS_TYPES: ReadonlySet<string> = new Set(STATUS_EVENT_TYPES);

/** The event type of a status, or undefined when that status is not published. */
export function statusEventType(status: MessageStatus): StatusEventType | undefined {
  const type = `message.${status}`;
  return STATUS_TYPES.has(type) ? (type as StatusEventType) : undefined;
}

export interface WebhookPayload {
  type: WebhookEventType;
  /** When the event happened (ISO 8601), not when this attempt was made. */
  timestamp: string;
  data: Record<string, unknown>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The body of a status event. */
export function statusPayload(type: StatusEventType, change: MessageStatusChange): WebhookPayload {
  const { message } = change;
  return {
    type,
    timestamp: new Date(change.at).toISOString(),
    data: {
      id: message.id,
      clientRef: message.clientRef,
      status: change.status,
      previousStatus: change.previous,
      sequence: change.sequence,
      route: message.route,
      from: message.from,
      to: message.to,
      error: message.error,
      parts: change.parts.map((part) => ({
        index: part.index,
        bindId: part.bindId,
        smscMessageId: part.smscMessageId,
        state: part.state,
        submitStatus: part.submitStatus,
        receipt:
          part.receiptStat === null
            ? null
            : { stat: part.receiptStat, err: part.receiptErr, doneAt: iso(part.receiptDoneAt) },
      })),
      metadata: message.metadata,
    },
  };
}

/** The body of a `message.received` event (a mobile-originated message). */
export function receivedPayload(received: ReceivedMessage): WebhookPayload {
  const { message } = received;
  const binary = received.text === null;
  const receivedAt = new Date(message.receivedAt).toISOString();
  return {
    type: 'message.received',
    timestamp: receivedAt,
    data: {
      id: message.id,
      route: received.route,
      bind: message.bindId,
      from: message.from,
      to: message.to,
      ...(binary ? { binaryHex: message.body.toString('hex') } : { text: received.text }),
      encoding: message.encoding,
      dataCoding: received.dataCoding,
      parts: message.partsCount,
      incomplete: received.incomplete,
      receivedAt,
      metadata: message.metadata,
    },
  };
}

/** A bind's health transition, as the registry's SSE stream reports it. */
export interface BindHealthChange {
  bindId: string;
  from: string;
  to: string;
  /** The health code, when the bind is not healthy. */
  code?: string | null;
  /** Wall-clock ms. */
  at: number;
}

export function bindHealthPayload(change: BindHealthChange): WebhookPayload {
  return {
    type: 'bind.health_changed',
    timestamp: new Date(change.at).toISOString(),
    data: { bind: change.bindId, from: change.from, to: change.to, code: change.code ?? null },
  };
}
