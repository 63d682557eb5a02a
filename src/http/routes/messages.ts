/**
 * The message resources (issue 10, API): send one message or a batch, read one with its parts,
 * receipts and events, list them, cancel one still waiting.
 *
 * POST answers 202 only after the message and its parts are committed (one store transaction per
 * request; the store's group commit lets concurrent requests share a commit), then hands it to the
 * outbound engine (message-dispatch.ts: written at once on a bind with room, else queued). With an Idempotency-Key the key is taken first in its own commit
 * (so a second request with it sees "in progress": 409), and completed in the transaction that
 * stores the message, so the stored answer and the message exist together or not at all.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MessagePath } from '../../bridge/ports.js';
import { SmppError } from '../../errors.js';
import { MESSAGE_STATUSES, type MessageStatus, type StoreTx } from '../../store/store.js';
import type { App, RouteContext } from '../context.js';
import { HttpApiError, type HttpErrorDetails } from '../errors.js';
import { acceptMessages, type MessageDispatch } from '../message-dispatch.js';
import {
  checkCallback,
  HostCache,
  type Intake,
  type IntakeOptions,
  prepareMessage,
  withFieldPrefix,
} from '../message-intake.js';
import {
  acceptedView,
  decodeMessageCursor,
  detailView,
  encodeMessageCursor,
  requestHash,
  summaryView,
} from '../message-views.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import {
  BATCH_BODY_LIMIT_BYTES,
  BATCH_MAX_MESSAGES,
  type BatchResult,
  EXAMPLE_ACCEPTED,
  EXAMPLE_BATCH,
  EXAMPLE_CANCELED,
  EXAMPLE_DETAIL,
  EXAMPLE_SUMMARY,
  IdempotencyHeadersSchema,
  MESSAGE_LIST_DEFAULT_LIMIT,
  type MessageAccepted,
  MessageIdParamsSchema,
  MessageListQuerySchema,
  type SendBatchBody,
  SendBatchBodySchema,
  type SendMessageBody,
  SendMessageBodySchema,
} from '../schemas/messages.js';
import { bodyValidatorCompiler } from '../validation.js';

const READ_SECURITY: Record<string, string[]>[] = [{}, { bearerAuth: [] }];
const WRITE_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }];

/** The queue bound when config `outbound.maxQueuedParts` is not set. */
export const DEFAULT_MAX_QUEUED_PARTS = 100_000;
/** Retry-After of QUEUE_FULL and STORE_UNAVAILABLE, ms. */
export const QUEUE_FULL_RETRY_AFTER_MS = 1_000;

export interface MessageRouteOptions extends IntakeOptions {
  /** Parts queued and not yet settled above which POST answers 429 QUEUE_FULL. */
  maxQueuedParts?: number;
  /** Wall-clock ms (sendAt in the past, validity). Default Date.now. */
  now?: () => number;
}

const IDEMPOTENCY_HEADER = 'idempotency-key';
const REPLAYED_HEADER = 'idempotent-replayed';

function requirePath(ctx: RouteContext): MessagePath {
  if (ctx.messagePath === null) {
    throw new HttpApiError('MESSAGES_UNAVAILABLE', 'the message path does not run in this process', {
      headers: { 'retry-after': '5' },
    });
  }
  return ctx.messagePath;
}

function fieldError(field: string, message: string): HttpApiError {
  return new HttpApiError('VALIDATION_FAILED', `${field} ${message}`, {
    details: { errors: [{ field, message }] },
  });
}

/**
 * Store work: an SmppError (store closed, commit failed...) goes to the one mapping; anything else
 * thrown by the store's driver (disk full, I/O error) is logged and answered 503 STORE_UNAVAILABLE.
 */
async function storeWork<T>(request: FastifyRequest, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SmppError || error instanceof HttpApiError) throw error;
    request.log.error({ err: error }, 'the store failed a write');
    throw new HttpApiError('STORE_UNAVAILABLE', 'the store cannot accept writes now', {
      headers: { 'retry-after': '1' },
      cause: error,
    });
  }
}

function queueFull(queued: number, max: number): HttpApiError {
  return new HttpApiError('QUEUE_FULL', `the outbound queue is full (${max} parts); retry later`, {
    details: { queuedParts: queued, maxQueuedParts: max, retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS },
    headers: { 'retry-after': String(Math.ceil(QUEUE_FULL_RETRY_AFTER_MS / 1000)) },
  });
}

interface Replay {
  statusCode: number;
  body: unknown;
}

/**
 * Takes the request's Idempotency-Key, if any: null = go on (the key, if given, is now ours), or the
 * stored answer to replay. A key in progress is 409, a key used with another body is 422.
 */
async function beginKey(
  request: FastifyRequest,
  path: MessagePath,
  key: string | undefined,
  hash: () => string,
): Promise<Replay | null> {
  if (key === undefined) return null;
  // The body's hash only with a key: it is a canonical JSON of the whole body, not free.
  const begun = await storeWork(request, () => path.store.beginIdempotency(key, hash()));
  switch (begun.kind) {
    case 'started':
      return null;
    case 'done':
      return begun.response;
    case 'in_progress':
      throw new HttpApiError(
        'IDEMPOTENCY_KEY_IN_USE',
        'a request with this Idempotency-Key is still being processed',
        { headers: { 'retry-after': '1' } },
      );
    case 'mismatch':
      throw new HttpApiError(
        'IDEMPOTENCY_KEY_MISMATCH',
        'this Idempotency-Key was used with a different request',
      );
  }
}

/** Runs the work that owns a key; gives the key up when the work fails, so a retry may start afresh. */
async function withKey<T>(
  request: FastifyRequest,
  path: MessagePath,
  key: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (key !== undefined) {
      await path.store.releaseIdempotency(key).catch((releaseError: unknown) => {
        request.log.warn({ err: releaseError }, 'could not release an idempotency key');
      });
    }
    throw error;
  }
}

function replay(reply: FastifyReply, stored: Replay): unknown {
  reply.code(stored.statusCode);
  reply.header(REPLAYED_HEADER, 'true');
  const id = (stored.body as { id?: unknown } | null)?.id;
  if (typeof id === 'string') reply.header('location', `/messages/${encodeURIComponent(id)}`);
  return stored.body;
}

/** Stores one accepted message inside `tx`: the message, its parts and its first event. */
async function storeIntake(tx: StoreTx, intake: Intake, dispatch: MessageDispatch): Promise<MessageAccepted> {
  const record = await dispatch.create(tx, intake);
  await tx.appendMessageEvent(record.id, 'accepted', {
    status: record.status,
    route: record.route,
    parts: record.partsCount,
    encoding: record.encoding,
  });
  return acceptedView(record);
}

function checkQueue(path: MessagePath, newParts: number, max: number): void {
  const queued = path.outbound.queuedParts();
  if (queued + newParts > max) throw queueFull(queued, max);
}

/** One accepting transaction (message-dispatch.ts): stored, then written at once or queued. */
function accept<T>(
  request: FastifyRequest,
  path: MessagePath,
  fn: (tx: StoreTx, dispatch: MessageDispatch) => Promise<T>,
): Promise<T> {
  return storeWork(request, () =>
    acceptMessages(path, fn, (error, route) => {
      // The message is stored: the engine's next poll finds it.
      request.log.warn({ err: error, route }, 'notifyQueued failed');
    }),
  );
}

const SEND_ERRORS = [
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'UNAUTHORIZED',
  'IDEMPOTENCY_KEY_IN_USE',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'IDEMPOTENCY_KEY_MISMATCH',
  'QUEUE_FULL',
  'INTERNAL_ERROR',
  'MESSAGES_UNAVAILABLE',
  'STORE_UNAVAILABLE',
] as const;

const IDEMPOTENCY_DESCRIPTION =
  'With an `Idempotency-Key` header, a retry with the same key and the same body within 24 hours gets the first answer again, with `Idempotent-Replayed: true`, and queues nothing new; the same key with another body is 422 IDEMPOTENCY_KEY_MISMATCH, and while the first request is still being processed 409 IDEMPOTENCY_KEY_IN_USE.';

export function registerMessageRoutes(app: App, ctx: RouteContext, given: MessageRouteOptions = {}): void {
  const options: MessageRouteOptions = {
    ...given,
    hostCache: given.hostCache ?? new HostCache(given.resolveHost),
  };
  const now = options.now ?? Date.now;
  const maxQueuedParts = options.maxQueuedParts ?? DEFAULT_MAX_QUEUED_PARTS;

  app.post(
    '/messages',
    {
      validatorCompiler: bodyValidatorCompiler,
      schema: {
        operationId: 'sendMessage',
        summary: 'Send an SMS',
        description: `Plans the message (encoding, parts), picks its route and stores it durably; answers 202 only after the commit, then the outbound engine sends it. A message needing more parts than \`maxParts\` (default 6) is refused with 422 TOO_MANY_PARTS, never truncated. Above the queue bound (config \`outbound.maxQueuedParts\`) the answer is 429 QUEUE_FULL with Retry-After. ${IDEMPOTENCY_DESCRIPTION}`,
        tags: ['messages'],
        security: WRITE_SECURITY,
        headers: IdempotencyHeadersSchema,
        body: SendMessageBodySchema,
        response: {
          202: jsonResponse('MessageAccepted', 'Stored durably; it will be sent (now, or at sendAt).', {
            queued: { value: EXAMPLE_ACCEPTED },
          }),
          ...errorResponses(
            ...SEND_ERRORS,
            'TOO_MANY_PARTS',
            'INVALID_ADDRESS',
            'INVALID_HEX',
            'UNENCODABLE_TEXT',
            'INVALID_MESSAGE',
            'ROUTE_NOT_FOUND',
            'NO_ROUTE',
            'CALLBACK_URL_REFUSED',
          ),
        },
      },
    },
    async (request, reply) => {
      const path = requirePath(ctx);
      const body = request.body as SendMessageBody | undefined;
      if (body === undefined) throw fieldError('body', 'is required');
      const prepared = prepareMessage(body, path.routes(), now());
      if (!prepared.ok) throw prepared.error;
      const intake = prepared.intake;
      if (body.callbackUrl !== undefined) {
        const refused = await checkCallback(body.callbackUrl, options);
        if (refused) throw refused;
      }
      const key = request.headers[IDEMPOTENCY_HEADER] as string | undefined;
      const stored = await beginKey(request, path, key, () => requestHash('POST /messages', body));
      if (stored) return replay(reply, stored);
      const accepted = await withKey(request, path, key, async () => {
        checkQueue(path, intake.parts.length, maxQueuedParts);
        return accept(request, path, async (tx, dispatch) => {
          const view = await storeIntake(tx, intake, dispatch);
          if (key !== undefined) await tx.completeIdempotency(key, { statusCode: 202, body: view });
          return view;
        });
      });
      reply.code(202);
      reply.header('location', `/messages/${encodeURIComponent(accepted.id)}`);
      return accepted;
    },
  );

  app.post(
    '/messages/batch',
    {
      validatorCompiler: bodyValidatorCompiler,
      bodyLimit: Math.max(ctx.config.http.bodyLimitBytes, BATCH_BODY_LIMIT_BYTES),
      schema: {
        operationId: 'sendMessageBatch',
        summary: `Send up to ${BATCH_MAX_MESSAGES} SMS in one request`,
        description: `Each message is \`defaults\` overlaid with its own fields, checked like POST /messages on its own. The valid ones are stored together in one transaction and accepted; each invalid one gets its own error in \`results\` (same index) and is not sent — a bad item never holds back the others. Answers 202 once the valid messages are committed, with one result per message, in order. The body may be up to max(http.bodyLimitBytes, ${BATCH_BODY_LIMIT_BYTES} bytes). The queue bound applies to the whole batch: above it, 429 QUEUE_FULL and nothing is stored. ${IDEMPOTENCY_DESCRIPTION}`,
        tags: ['messages'],
        security: WRITE_SECURITY,
        headers: IdempotencyHeadersSchema,
        body: SendBatchBodySchema,
        response: {
          202: jsonResponse('BatchResult', 'The valid messages are stored; one result per message.', {
            mixed: {
              summary: 'One accepted, one refused',
              value: EXAMPLE_BATCH,
            },
          }),
          ...errorResponses(...SEND_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const path = requirePath(ctx);
      const body = request.body as SendBatchBody | undefined;
      if (body === undefined) throw fieldError('body', 'is required');
      const routes = path.routes();
      const at = now();
      const results: BatchResult['results'] = [];
      const valid: { index: number; intake: Intake }[] = [];
      await Promise.all(
        body.messages.map(async (item, index) => {
          const merged = { ...body.defaults, ...item };
          const prefix = `body/messages/${index}`;
          const missing = (['to', 'from'] as const).filter((k) => merged[k] === undefined);
          let error: HttpApiError | null = null;
          if (missing.length > 0) {
            const errors = missing.map((k) => ({
              field: `${prefix}/${k}`,
              message: 'is required (here or in defaults)',
            }));
            error = new HttpApiError(
              'VALIDATION_FAILED',
              errors.map((e) => `${e.field} ${e.message}`).join(', '),
              {
                details: { errors },
              },
            );
          } else {
            const prepared = prepareMessage(merged as SendMessageBody, routes, at);
            if (!prepared.ok) error = withFieldPrefix(prepared.error, prefix);
            else if (merged.callbackUrl !== undefined) {
              const refused = await checkCallback(merged.callbackUrl, options);
              if (refused) error = withFieldPrefix(refused, prefix);
            }
            if (error === null && prepared.ok) valid.push({ index, intake: prepared.intake });
          }
          if (error !== null) results[index] = { index, accepted: false, error: error.toBody() };
        }),
      );
      valid.sort((a, b) => a.index - b.index);

      const key = request.headers[IDEMPOTENCY_HEADER] as string | undefined;
      const stored = await beginKey(request, path, key, () => requestHash('POST /messages/batch', body));
      if (stored) return replay(reply, stored);
      const answer = await withKey(request, path, key, async () => {
        checkQueue(
          path,
          valid.reduce((n, v) => n + v.intake.parts.length, 0),
          maxQueuedParts,
        );
        return accept(request, path, async (tx, dispatch) => {
          const out = [...results];
          for (const { index, intake } of valid) {
            out[index] = { index, accepted: true, message: await storeIntake(tx, intake, dispatch) };
          }
          const result: BatchResult = {
            accepted: valid.length,
            rejected: body.messages.length - valid.length,
            results: out,
          };
          if (key !== undefined) await tx.completeIdempotency(key, { statusCode: 202, body: result });
          return result;
        });
      });
      reply.code(202);
      return answer;
    },
  );

  app.get(
    '/messages/:id',
    {
      schema: {
        operationId: 'getMessage',
        summary: 'A message with its parts, receipts and events',
        description:
          'The status (computed from the parts), the error when it failed or was rejected (with the SMSC status and whether it is permanent), each part (bind, SMSC message id, submit status, last receipt with stat, err and done date) and every event in the order it happened.',
        tags: ['messages'],
        security: READ_SECURITY,
        params: MessageIdParamsSchema,
        response: {
          200: jsonResponse('MessageDetail', 'The message.', { delivered: { value: EXAMPLE_DETAIL } }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'MESSAGE_NOT_FOUND',
            'INTERNAL_ERROR',
            'MESSAGES_UNAVAILABLE',
            'STORE_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const path = requirePath(ctx);
      const { id } = request.params;
      const message = await storeWork(request, () => path.store.getMessage(id));
      if (message === undefined) throw notFound(id);
      const [parts, events] = await storeWork(request, () =>
        Promise.all([path.store.listParts(id), path.store.listMessageEvents(id)]),
      );
      return detailView(message, parts, events);
    },
  );

  app.get(
    '/messages',
    {
      schema: {
        operationId: 'listMessages',
        summary: 'List messages, newest first, a page at a time',
        description: `Filtered by \`clientRef\`, \`status\` (comma-separated) and \`since\` (accepted at or after an ISO 8601 date-time); at most \`limit\` (default ${MESSAGE_LIST_DEFAULT_LIMIT}) per page, newest first. \`nextCursor\` fetches the next (older) page and is null on the last.`,
        tags: ['messages'],
        security: READ_SECURITY,
        querystring: MessageListQuerySchema,
        response: {
          200: jsonResponse('MessageList', 'One page of messages, newest first.', {
            page: { value: { messages: [EXAMPLE_SUMMARY], nextCursor: null } },
          }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'INTERNAL_ERROR',
            'MESSAGES_UNAVAILABLE',
            'STORE_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const path = requirePath(ctx);
      const q = request.query;
      const limit = q.limit ?? MESSAGE_LIST_DEFAULT_LIMIT;
      let statuses: MessageStatus[] | undefined;
      if (q.status !== undefined) {
        const known = new Set<string>(MESSAGE_STATUSES);
        const list = q.status.split(',').map((s) => s.trim());
        const bad = list.find((s) => !known.has(s));
        if (bad !== undefined) {
          throw fieldError(
            'querystring/status',
            `must be ${MESSAGE_STATUSES.join(', ')} (got '${bad.slice(0, 40)}')`,
          );
        }
        statuses = list as MessageStatus[];
      }
      let since: number | undefined;
      if (q.since !== undefined) {
        since = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(q.since)
          ? Date.parse(q.since)
          : Number.NaN;
        if (!Number.isFinite(since)) throw fieldError('querystring/since', 'must be an ISO 8601 date-time');
      }
      let after: { createdAt: number; id: string } | undefined;
      if (q.cursor !== undefined) {
        const decoded = decodeMessageCursor(q.cursor);
        if (decoded === null) throw fieldError('querystring/cursor', 'is not a nextCursor of this listing');
        after = decoded;
      }
      const page = await storeWork(request, () =>
        path.store.listMessages({
          limit: limit + 1,
          ...(q.clientRef === undefined ? {} : { clientRef: q.clientRef }),
          ...(statuses === undefined ? {} : { statuses }),
          ...(since === undefined ? {} : { since }),
          ...(after === undefined ? {} : { after }),
        }),
      );
      const more = page.length > limit;
      const messages = more ? page.slice(0, limit) : page;
      return {
        messages: messages.map((m) => summaryView(m)),
        nextCursor: more ? encodeMessageCursor(messages.at(-1)!) : null,
      };
    },
  );

  app.delete(
    '/messages/:id',
    {
      schema: {
        operationId: 'cancelMessage',
        summary: 'Cancel a message that is still queued or scheduled',
        description:
          'Atomic: when every part is still queued the message becomes canceled and none of its parts is ever sent; once a part was claimed for sending, sent or settled the answer is 409 MESSAGE_NOT_CANCELABLE and nothing changes.',
        tags: ['messages'],
        security: WRITE_SECURITY,
        params: MessageIdParamsSchema,
        response: {
          200: jsonResponse('MessageSummary', 'Canceled.', { canceled: { value: EXAMPLE_CANCELED } }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'MESSAGE_NOT_FOUND',
            'MESSAGE_NOT_CANCELABLE',
            'INTERNAL_ERROR',
            'MESSAGES_UNAVAILABLE',
            'STORE_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const path = requirePath(ctx);
      const { id } = request.params;
      const result = await storeWork(request, () =>
        path.store.transaction(async (tx) => {
          const outcome = await tx.cancelMessage(id);
          if (outcome.kind === 'canceled') await tx.appendMessageEvent(id, 'canceled', { by: 'api' });
          return outcome;
        }),
      );
      switch (result.kind) {
        case 'not_found':
          throw notFound(id);
        case 'too_late': {
          const details: HttpErrorDetails = { messageId: id, status: result.message.status };
          throw new HttpApiError(
            'MESSAGE_NOT_CANCELABLE',
            `message ${id} cannot be canceled: ${result.reason}`,
            {
              details,
            },
          );
        }
        case 'canceled':
          return summaryView(result.message);
      }
    },
  );
}

function notFound(id: string): HttpApiError {
  return new HttpApiError('MESSAGE_NOT_FOUND', `no message with id '${id}'`, { details: { messageId: id } });
}
