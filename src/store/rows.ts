/**
 * Rows to records, shared by every Store implementation: SQLite and PostgreSQL name their
 * columns alike (src/store/schema.ts); int64 columns may come back as numbers (SQLite) or
 * strings (PostgreSQL BIGINT), JSON as text, bytes as Buffers.
 */
import type {
  BindLeaseState,
  InboundMessageRecord,
  InboundPartRecord,
  MessageRecord,
  MessageStatus,
  ParkedReceipt,
  PartRecord,
  PartState,
  ReceiptPolicy,
  StoredError,
  WebhookEvent,
  WebhookState,
} from './store.js';

export type Row = Record<string, unknown>;

export const bytes = (value: Uint8Array | null | undefined): Buffer | null =>
  value == null
    ? null
    : Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
export const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
export const parseJson = <T>(text: unknown): T => (text == null ? null : JSON.parse(text as string)) as T;
export const num = (value: unknown): number | null => (value == null ? null : Number(value));
export const str = (value: unknown): string | null => (value == null ? null : String(value));
export const storedError = (code: unknown, message: unknown): StoredError | null =>
  code == null ? null : { code: String(code), message: String(message ?? '') };

// ---------------------------------------------------------------------------- row mapping

export function toMessage(row: Row): MessageRecord {
  return {
    id: String(row.id),
    clientRef: str(row.client_ref),
    route: String(row.route),
    from: String(row.source_addr),
    to: String(row.dest_addr),
    encoding: String(row.encoding),
    body: row.body as Buffer,
    udh: (row.udh as Buffer | null) ?? null,
    partsCount: Number(row.parts_count),
    status: row.status as MessageStatus,
    error: storedError(row.error_code, row.error_message),
    metadata: parseJson(row.metadata),
    callbackUrl: str(row.callback_url),
    receiptPolicy: row.receipt_policy as ReceiptPolicy,
    validityMs: num(row.validity_ms),
    sendAt: num(row.send_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toPart(row: Row): PartRecord {
  return {
    id: Number(row.id),
    messageId: String(row.message_id),
    index: Number(row.part_index),
    queue: String(row.queue),
    state: row.state as PartState,
    payload: row.payload as Buffer,
    bindId: str(row.bind_id),
    epoch: num(row.epoch),
    sequenceNumber: num(row.sequence_number),
    smscMessageId: str(row.smsc_message_id),
    submitStatus: num(row.submit_status),
    attempts: Number(row.attempts),
    notBefore: Number(row.not_before),
    claimedUntil: num(row.claimed_until),
    error: storedError(row.error_code, row.error_message),
    receiptStat: str(row.receipt_stat),
    receiptErr: str(row.receipt_err),
    receiptDoneAt: num(row.receipt_done_at),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * A part as createMessageSending writes it (state `sending` on the fence, one attempt, sequence
 * number 0): the record without reading the row back.
 */
export function sendingPart(
  id: number,
  message: MessageRecord,
  part: { index: number; payload: Uint8Array },
  fence: { bindId: string; epoch: number },
  now: number,
): PartRecord {
  return {
    id,
    messageId: message.id,
    index: part.index,
    queue: message.route,
    state: 'sending',
    payload: bytes(part.payload) as Buffer,
    bindId: fence.bindId,
    epoch: fence.epoch,
    sequenceNumber: 0,
    smscMessageId: null,
    submitStatus: null,
    attempts: 1,
    notBefore: now,
    claimedUntil: null,
    error: null,
    receiptStat: null,
    receiptErr: null,
    receiptDoneAt: null,
    updatedAt: now,
  };
}

export function toParked(row: Row): ParkedReceipt {
  return {
    id: Number(row.id),
    smscMessageId: String(row.smsc_message_id),
    bindId: String(row.bind_id),
    stat: String(row.stat),
    err: str(row.err),
    doneAt: num(row.done_at),
    receivedAt: Number(row.received_at),
    expiresAt: Number(row.expires_at),
  };
}

/** An event's columns but its payload (toWebhook, toClaimedWebhook). */
function webhookFields(row: Row): Omit<WebhookEvent, 'payload' | 'body'> {
  return {
    eventId: String(row.event_id),
    messageId: str(row.message_id),
    endpoint: String(row.endpoint),
    type: String(row.type),
    state: row.state as WebhookState,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    claimedUntil: num(row.claimed_until),
    lastError: str(row.last_error),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toWebhook(row: Row): WebhookEvent {
  return { ...webhookFields(row), payload: parseJson(row.payload) };
}

/**
 * A claimed event for the sender: its stored JSON text as `body` (posted as it is), `payload`
 * parsed only when read (the sender does not).
 */
export function toClaimedWebhook(row: Row): WebhookEvent {
  const body = String(row.payload);
  let payload: unknown;
  let parsed = false;
  return {
    ...webhookFields(row),
    get payload(): unknown {
      if (!parsed) {
        payload = JSON.parse(body);
        parsed = true;
      }
      return payload;
    },
    body,
  };
}

export function toInboundPart(row: Row): InboundPartRecord {
  return {
    groupKey: String(row.group_key),
    index: Number(row.part_index),
    total: Number(row.total_parts),
    bindId: String(row.bind_id),
    payload: row.payload as Buffer,
    dataCoding: Number(row.data_coding),
    receivedAt: Number(row.received_at),
  };
}

export function toInboundMessage(row: Row): InboundMessageRecord {
  return {
    id: String(row.id),
    bindId: String(row.bind_id),
    from: String(row.source_addr),
    to: String(row.dest_addr),
    encoding: String(row.encoding),
    body: row.body as Buffer,
    partsCount: Number(row.parts_count),
    metadata: parseJson(row.metadata),
    route: str(row.route),
    dataCoding: Number(row.data_coding),
    incomplete: Number(row.incomplete) !== 0,
    receivedAt: Number(row.received_at),
  };
}

/** A bind_leases row as every replica sees it; `held` while it expires after `now`. */
export function toLeaseState(row: Row, now: number): BindLeaseState {
  return {
    bindId: String(row.bind_id),
    owner: String(row.owner),
    epoch: Number(row.epoch),
    expiresAt: Number(row.expires_at),
    held: Number(row.expires_at) > now,
  };
}
