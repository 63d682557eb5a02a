/**
 * GET /inbound and GET /inbound/:id: poll and replay the mobile-originated messages the bridge
 * stored (the same ones its message.received webhooks carry), oldest first, a page at a time. The
 * cursor is the position after the last message of a page, so messages stored meanwhile are seen
 * on the next poll and none repeats. Without the message path (no store) both answer 503.
 */
import { decodeBody } from '../../bridge/inbound/received-message.js';
import type { MessagePath } from '../../bridge/ports.js';
import type { InboundCursor, InboundMessageRecord } from '../../store/store.js';
import type { App, RouteContext } from '../context.js';
import { HttpApiError } from '../errors.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import {
  INBOUND_LIST_DEFAULT_LIMIT,
  InboundIdParamsSchema,
  InboundListQuerySchema,
  InboundListSchema,
  type InboundMessageBody,
  InboundMessageSchema,
} from '../schemas/inbound.js';

const READ_SECURITY: Record<string, string[]>[] = [{}, { bearerAuth: [] }];

const EXAMPLE_INBOUND: InboundMessageBody = {
  id: '0b9e3c1a-5f0e-4a7b-9a38-2f1d5c7e8a11',
  route: 'eu',
  bindId: 'main',
  from: '447700900123',
  to: '12345',
  text: 'STOP',
  binaryHex: null,
  encoding: 'gsm7',
  dataCoding: 0,
  parts: 1,
  incomplete: false,
  missingParts: [],
  receivedAt: '2026-12-07T10:00:00.000Z',
};

/** What the API shows of a stored inbound message. */
export function inboundView(record: InboundMessageRecord): InboundMessageBody {
  const body = decodeBody(record.body, record.dataCoding);
  const missing = record.metadata?.missing;
  return {
    id: record.id,
    route: record.route,
    bindId: record.bindId,
    from: record.from,
    to: record.to,
    text: body.text,
    binaryHex: body.binaryHex,
    encoding: record.encoding,
    dataCoding: record.dataCoding,
    parts: record.partsCount,
    incomplete: record.incomplete,
    missingParts: Array.isArray(missing) ? missing.filter((n): n is number => Number.isInteger(n)) : [],
    receivedAt: new Date(record.receivedAt).toISOString(),
  };
}

export function encodeInboundCursor(after: InboundCursor): string {
  return Buffer.from(JSON.stringify([after.receivedAt, after.id])).toString('base64url');
}

/** The position a cursor names, or null when it is not one this API gave out. */
export function decodeInboundCursor(cursor: string): InboundCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [receivedAt, id] = value as unknown[];
    if (!Number.isSafeInteger(receivedAt) || typeof id !== 'string') return null;
    return { receivedAt: receivedAt as number, id };
  } catch {
    return null;
  }
}

function invalidField(field: string, message: string): HttpApiError {
  return new HttpApiError('VALIDATION_FAILED', `${field} ${message}`, {
    details: { errors: [{ field, message }] },
  });
}

function messagePathOf(ctx: RouteContext): MessagePath {
  if (ctx.messagePath === null) {
    throw new HttpApiError('MESSAGES_UNAVAILABLE', 'the message path does not run in this process');
  }
  return ctx.messagePath;
}

export function registerInboundRoutes(app: App, ctx: RouteContext): void {
  app.addSchema(InboundMessageSchema);
  app.addSchema(InboundListSchema);

  app.get(
    '/inbound',
    {
      schema: {
        operationId: 'listInbound',
        summary: 'List the MO messages received, oldest first, a page at a time',
        description: `The mobile-originated messages stored (each before its deliver_sm was acknowledged), ordered by the time they were stored, at most \`limit\` (default ${INBOUND_LIST_DEFAULT_LIMIT}) per page. \`nextCursor\` is the position after the page's last message: poll with it to get only what arrived since. Filters: \`since\` (ISO 8601), \`bind\`, \`from\`.`,
        tags: ['inbound'],
        security: READ_SECURITY,
        querystring: InboundListQuerySchema,
        response: {
          200: jsonResponse('InboundList', 'One page of inbound messages, oldest first.', {
            page: { value: { messages: [EXAMPLE_INBOUND], nextCursor: 'WzE3OTY2MzM2MDAwMDAsIjBiOWUiXQ' } },
          }),
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'INTERNAL_ERROR', 'MESSAGES_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      const { store } = messagePathOf(ctx);
      const q = request.query;
      const limit = q.limit ?? INBOUND_LIST_DEFAULT_LIMIT;
      let since: number | undefined;
      if (q.since !== undefined) {
        since = Date.parse(q.since);
        if (!Number.isFinite(since)) throw invalidField('querystring/since', 'must be an ISO 8601 date-time');
      }
      let after: InboundCursor | undefined;
      if (q.cursor !== undefined) {
        after = decodeInboundCursor(q.cursor) ?? undefined;
        if (after === undefined)
          throw invalidField('querystring/cursor', 'is not a nextCursor of this listing');
      }
      const rows = await store.listInboundMessages({
        limit,
        ...(since === undefined ? {} : { since }),
        ...(q.bind === undefined ? {} : { bindId: q.bind }),
        ...(q.from === undefined ? {} : { from: q.from }),
        ...(after === undefined ? {} : { after }),
      });
      const last = rows.at(-1);
      // The cursor of the last page too: polling it again returns what arrived since.
      const position = last ? { receivedAt: last.receivedAt, id: last.id } : after;
      return {
        messages: rows.map(inboundView),
        nextCursor: position === undefined ? null : encodeInboundCursor(position),
      };
    },
  );

  app.get(
    '/inbound/:id',
    {
      schema: {
        operationId: 'getInbound',
        summary: 'One MO message',
        description:
          'The message as its message.received webhook carried it: text (or binaryHex for a binary data_coding), encoding, dataCoding, parts, incomplete and the missing part numbers, receivedAt.',
        tags: ['inbound'],
        security: READ_SECURITY,
        params: InboundIdParamsSchema,
        response: {
          200: jsonResponse('InboundMessage', 'The message.', { received: { value: EXAMPLE_INBOUND } }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'INBOUND_NOT_FOUND',
            'INTERNAL_ERROR',
            'MESSAGES_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const { store } = messagePathOf(ctx);
      const record = await store.getInboundMessage(request.params.id);
      if (!record) {
        throw new HttpApiError('INBOUND_NOT_FOUND', `no inbound message with id '${request.params.id}'`);
      }
      return inboundView(record);
    },
  );
}
