/**
 * What the message routes show: a stored message as its accepted answer, its summary in lists and
 * its detail (parts, receipts, events); the opaque cursor of GET /messages; the request hash of
 * idempotency keys.
 */
import { createHash } from 'node:crypto';
import { statusInfo } from '../protocol/command-status.js';
import type { MessageEvent, MessageRecord, PartRecord } from '../store/store.js';
import type { MessageAccepted, MessageDetail, MessageSummary } from './schemas/messages.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

type WireEncoding = MessageAccepted['encoding'];

export function acceptedView(message: MessageRecord): MessageAccepted {
  return {
    id: message.id,
    status: message.status === 'scheduled' ? 'scheduled' : 'queued',
    encoding: message.encoding as WireEncoding,
    parts: message.partsCount,
    route: message.route,
    clientRef: message.clientRef,
    sendAt: isoOrNull(message.sendAt),
    createdAt: iso(message.createdAt),
  };
}

/**
 * The message's error, with the SMSC's status when a part was refused: `smppStatus`, its name and
 * whether it is permanent (Infobip's `permanent` flag).
 */
function errorView(
  message: MessageRecord,
  parts: readonly PartRecord[] | undefined,
): MessageSummary['error'] {
  if (message.error === null) return null;
  const out: NonNullable<MessageSummary['error']> = {
    code: message.error.code,
    message: message.error.message,
  };
  const refused = parts?.find((p) => p.submitStatus !== null && p.submitStatus !== 0);
  if (refused?.submitStatus != null) {
    const info = statusInfo(refused.submitStatus);
    out.smppStatus = refused.submitStatus;
    out.statusName = info.name;
    out.permanent = info.retryClass === 'permanent';
  }
  return out;
}

export function summaryView(message: MessageRecord, parts?: readonly PartRecord[]): MessageSummary {
  return {
    id: message.id,
    status: message.status,
    clientRef: message.clientRef,
    route: message.route,
    from: message.from,
    to: message.to,
    encoding: message.encoding as WireEncoding,
    partsCount: message.partsCount,
    error: errorView(message, parts),
    sendAt: isoOrNull(message.sendAt),
    createdAt: iso(message.createdAt),
    updatedAt: iso(message.updatedAt),
  };
}

export function detailView(
  message: MessageRecord,
  parts: readonly PartRecord[],
  events: readonly MessageEvent[],
): MessageDetail {
  return {
    ...summaryView(message, parts),
    receipt: message.receiptPolicy,
    validitySeconds: message.validityMs === null ? null : Math.round(message.validityMs / 1000),
    callbackUrl: message.callbackUrl,
    metadata: message.metadata,
    parts: parts.map((p) => ({
      index: p.index,
      state: p.state,
      bindId: p.bindId,
      smscMessageId: p.smscMessageId,
      submitStatus: p.submitStatus,
      submitStatusName: p.submitStatus === null ? null : statusInfo(p.submitStatus).name,
      attempts: p.attempts,
      error: p.error,
      receipt:
        p.receiptStat === null
          ? null
          : { stat: p.receiptStat, err: p.receiptErr, doneDate: isoOrNull(p.receiptDoneAt) },
    })),
    events: events.map((e) => ({ seq: e.seq, type: e.type, data: e.data ?? null, at: iso(e.createdAt) })),
  };
}

// ------------------------------------------------------------------------------------ cursor

const CURSOR_PREFIX = 'm1:';

/** The opaque cursor after `message`: where the page ended (createdAt and id), base64url. */
export function encodeMessageCursor(message: Pick<MessageRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(`${CURSOR_PREFIX}${message.createdAt}:${message.id}`, 'utf8').toString('base64url');
}

/** The position a cursor names, or null when the text is not a cursor of ours. */
export function decodeMessageCursor(cursor: string): { createdAt: number; id: string } | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^m1:(\d{1,16}):(.+)$/s.exec(text);
  if (m === null) return null;
  const position = { createdAt: Number(m[1]), id: m[2]! };
  return encodeMessageCursor(position) === cursor ? position : null;
}

// ------------------------------------------------------------------------------- idempotency

/** JSON with object keys sorted at every level: the same body hashes the same however it is spelled. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** What an idempotency key is bound to: the operation and its canonical body. */
export function requestHash(operation: string, body: unknown): string {
  return createHash('sha256').update(operation).update('\n').update(canonicalJson(body)).digest('hex');
}
