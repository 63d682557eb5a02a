/**
 * GET /messages/stats: what the dashboard's messages region shows on load and polls for the queue
 * depth — parts queued now (and the bound above which POST /messages answers 429), and how many
 * messages moved into each status since the process started, in total and per route. The counts
 * come from the message path's status changes (the same ones as smpp_message_status_changes_total
 * and the `message` SSE events); live rates are the SSE stream's job.
 */
import { type Static, Type } from 'typebox';
import type { MessageStatusChange } from '../../bridge/ports.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../../store/store.js';
import type { App, RouteContext } from '../context.js';
import { HttpApiError } from '../errors.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';

const READ_SECURITY: Record<string, string[]>[] = [{}, { bearerAuth: [] }];

const StatusCountsSchema = Type.Object(
  Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, Type.Integer({ minimum: 0 })])) as Record<
    MessageStatus,
    ReturnType<typeof Type.Integer>
  >,
  {
    additionalProperties: false,
    description:
      'Messages that moved into each status since the process started (every status, 0 when none).',
  },
);

export const MessageStatsSchema = Type.Object(
  {
    queuedParts: Type.Integer({
      minimum: 0,
      description:
        'Parts accepted and not settled yet (queued, claimed or sending): the outbound queue depth.',
    }),
    maxQueuedParts: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      description:
        'The bound on queuedParts above which POST /messages answers 429 QUEUE_FULL; null when not reported.',
    }),
    since: Type.String({ format: 'date-time', description: 'When counting started (the process start).' }),
    statusChanges: StatusCountsSchema,
    routes: Type.Record(Type.String(), StatusCountsSchema, {
      description: 'The same counts per route, for the routes that had a status change.',
    }),
  },
  { $id: 'MessageStats', title: 'MessageStats', additionalProperties: false },
);
export type MessageStatsBody = Static<typeof MessageStatsSchema>;

function zeroCounts(): Record<MessageStatus, number> {
  return Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<MessageStatus, number>;
}

const EXAMPLE_STATS: MessageStatsBody = {
  queuedParts: 12,
  maxQueuedParts: 100_000,
  since: '2026-12-07T10:00:00.000Z',
  statusChanges: { ...zeroCounts(), submitted: 1520, delivered: 1411, rejected: 3, undelivered: 9 },
  routes: { default: { ...zeroCounts(), submitted: 1520, delivered: 1411, rejected: 3, undelivered: 9 } },
};

export function registerMessageStatsRoute(app: App, ctx: RouteContext, now: () => number = Date.now): void {
  app.addSchema(MessageStatsSchema);
  const since = new Date(now()).toISOString();
  const total = zeroCounts();
  const byRoute = new Map<string, Record<MessageStatus, number>>();
  const count = (change: MessageStatusChange): void => {
    total[change.status] += 1;
    let counts = byRoute.get(change.message.route);
    if (counts === undefined) {
      counts = zeroCounts();
      byRoute.set(change.message.route, counts);
    }
    counts[change.status] += 1;
  };
  const stop = ctx.messagePath?.onStatusChange?.(count);
  if (stop) app.addHook('onClose', async () => stop());

  app.get(
    '/messages/stats',
    {
      schema: {
        operationId: 'getMessageStats',
        summary: 'Outbound queue depth and message counts by status',
        description:
          'Parts queued now (the queue bound behind 429 QUEUE_FULL), and how many messages moved into each status since the process started, in total and per route. The dashboard polls it; for live changes follow `event: message` on GET /events.',
        tags: ['messages'],
        security: READ_SECURITY,
        response: {
          200: jsonResponse('MessageStats', 'The counts.', { running: { value: EXAMPLE_STATS } }),
          ...errorResponses('UNAUTHORIZED', 'INTERNAL_ERROR', 'MESSAGES_UNAVAILABLE'),
        },
      },
    },
    async (): Promise<MessageStatsBody> => {
      const path = ctx.messagePath;
      if (path === null) {
        throw new HttpApiError('MESSAGES_UNAVAILABLE', 'the message path does not run in this process', {
          headers: { 'retry-after': '5' },
        });
      }
      return {
        queuedParts: path.outbound.queuedParts(),
        maxQueuedParts: path.outbound.maxQueuedParts ?? null,
        since,
        statusChanges: { ...total },
        routes: Object.fromEntries([...byRoute].map(([route, counts]) => [route, { ...counts }])),
      };
    },
  );
}
