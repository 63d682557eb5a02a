/**
 * The webhook outbox over HTTP: what is pending, failing or dead (GET /webhooks/deliveries), a dead
 * delivery sent again (POST /webhooks/deliveries/{id}/retry), and the endpoints with their 410 state
 * (GET /webhooks/endpoints, POST /webhooks/endpoints/{id}/enable). The store comes from the message
 * path; the sender (to wake it, and for the endpoints) from buildApp's `webhooks` dependency.
 */
import { ErrorCode, SmppError } from '../../errors.js';
import type { Store, WebhookEvent } from '../../store/store.js';
import type { WebhookEndpointView } from '../../webhooks/delivery.js';
import type { App, RouteContext } from '../context.js';
import { HttpApiError } from '../errors.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import {
  DELIVERY_LIST_DEFAULT_LIMIT,
  DeliveryIdParamsSchema,
  EndpointIdParamsSchema,
  EXAMPLE_DELIVERY,
  EXAMPLE_ENDPOINT,
  WEBHOOK_SCHEMAS,
  WebhookDeliveryListQuerySchema,
} from '../schemas/webhooks.js';

const READ_SECURITY: Record<string, string[]>[] = [{}, { bearerAuth: [] }];
const WRITE_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }];

const iso = (ms: number): string => new Date(ms).toISOString();

export function deliveryView(e: WebhookEvent) {
  return {
    id: e.eventId,
    endpoint: e.endpoint,
    type: e.type,
    messageId: e.messageId,
    state: e.state,
    attempts: e.attempts,
    nextAttemptAt: iso(e.nextAttemptAt),
    lastError: e.lastError,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

function endpointView(e: WebhookEndpointView) {
  return { ...e, disabledAt: e.disabledAt === null ? null : iso(e.disabledAt) };
}

const unavailable = () =>
  new HttpApiError('WEBHOOKS_UNAVAILABLE', 'webhook delivery is not running in this process (no store)');

export function registerWebhookRoutes(app: App, ctx: RouteContext): void {
  for (const schema of WEBHOOK_SCHEMAS) app.addSchema(schema);
  const store = (): Store => {
    const s = ctx.messagePath?.store;
    if (s === undefined) throw unavailable();
    return s;
  };

  app.get(
    '/webhooks/deliveries',
    {
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'Webhook deliveries in the outbox, by state and endpoint',
        description: `Oldest first, at most \`limit\` (default ${DELIVERY_LIST_DEFAULT_LIMIT}) per page; \`nextCursor\` fetches the next page. state=failed: pending deliveries that failed at least once; dead: given up (retry them with POST /webhooks/deliveries/{id}/retry). Delivered ones are kept until the store's retention prunes them.`,
        tags: ['webhooks'],
        security: READ_SECURITY,
        querystring: WebhookDeliveryListQuerySchema,
        response: {
          200: jsonResponse('WebhookDeliveryList', 'One page of deliveries.', {
            dead: { summary: '?state=dead', value: { deliveries: [EXAMPLE_DELIVERY], nextCursor: null } },
          }),
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'INTERNAL_ERROR', 'WEBHOOKS_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      const { state, endpoint, cursor, limit } = request.query;
      const page = await store().listWebhooks({
        limit: limit ?? DELIVERY_LIST_DEFAULT_LIMIT,
        ...(state === undefined ? {} : { state }),
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(cursor === undefined ? {} : { after: cursor }),
      });
      return { deliveries: page.events.map(deliveryView), nextCursor: page.next };
    },
  );

  app.post(
    '/webhooks/deliveries/:id/retry',
    {
      schema: {
        operationId: 'retryWebhookDelivery',
        summary: 'Send a dead webhook delivery again, now',
        description:
          'The delivery becomes pending, due now, with its attempts counted afresh (the retry schedule restarts); the same webhook-id is sent. Only dead deliveries can be retried.',
        tags: ['webhooks'],
        security: WRITE_SECURITY,
        params: DeliveryIdParamsSchema,
        response: {
          200: jsonResponse('WebhookDelivery', 'The delivery, pending again.', {
            retried: {
              value: {
                ...EXAMPLE_DELIVERY,
                state: 'pending',
                attempts: 0,
                nextAttemptAt: EXAMPLE_DELIVERY.updatedAt,
              },
            },
          }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'WEBHOOK_DELIVERY_NOT_FOUND',
            'WEBHOOK_DELIVERY_NOT_DEAD',
            'INTERNAL_ERROR',
            'WEBHOOKS_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const s = store();
      let event: WebhookEvent;
      try {
        event = await s.retryWebhook(id);
      } catch (error) {
        if (error instanceof SmppError && error.code === ErrorCode.StoreNotFound) {
          throw new HttpApiError('WEBHOOK_DELIVERY_NOT_FOUND', `no webhook delivery with id '${id}'`, {
            cause: error,
          });
        }
        if (error instanceof SmppError && error.code === ErrorCode.StoreConflict) {
          const current = await s.getWebhook(id);
          const state = current?.state ?? 'unknown';
          throw new HttpApiError(
            'WEBHOOK_DELIVERY_NOT_DEAD',
            `webhook delivery ${id} is ${state}, not dead`,
            {
              details: { state },
              cause: error,
            },
          );
        }
        throw error;
      }
      ctx.webhooks?.notify(event.endpoint.startsWith('callback:') ? 'callback' : event.endpoint);
      return deliveryView(event);
    },
  );

  app.get(
    '/webhooks/endpoints',
    {
      schema: {
        operationId: 'listWebhookEndpoints',
        summary: 'The configured webhook endpoints and whether a 410 disabled them',
        tags: ['webhooks'],
        security: READ_SECURITY,
        response: {
          200: jsonResponse('WebhookEndpointList', 'The endpoints, in config order.', {
            endpoints: { value: { endpoints: [EXAMPLE_ENDPOINT] } },
          }),
          ...errorResponses('UNAUTHORIZED', 'INTERNAL_ERROR', 'WEBHOOKS_UNAVAILABLE'),
        },
      },
    },
    async () => {
      if (ctx.webhooks === null) throw unavailable();
      return { endpoints: ctx.webhooks.endpoints().map(endpointView) };
    },
  );

  app.post(
    '/webhooks/endpoints/:id/enable',
    {
      schema: {
        operationId: 'enableWebhookEndpoint',
        summary: 'Send to an endpoint again after it answered 410 Gone',
        description:
          'An endpoint that answered 410 stays disabled (across restarts) until this is called; its pending deliveries then go out. The delivery that got the 410 is dead: retry it with POST /webhooks/deliveries/{id}/retry if it is still wanted. Enabling an endpoint that is not disabled does nothing.',
        tags: ['webhooks'],
        security: WRITE_SECURITY,
        params: EndpointIdParamsSchema,
        response: {
          200: jsonResponse('WebhookEndpoint', 'The endpoint, enabled.', {
            enabled: {
              value: { ...EXAMPLE_ENDPOINT, disabled: false, disabledAt: null, disabledReason: null },
            },
          }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'WEBHOOK_ENDPOINT_NOT_FOUND',
            'INTERNAL_ERROR',
            'WEBHOOKS_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      if (ctx.webhooks === null) throw unavailable();
      const view = await ctx.webhooks.enableEndpoint(request.params.id);
      if (view === undefined) {
        throw new HttpApiError(
          'WEBHOOK_ENDPOINT_NOT_FOUND',
          `no webhook endpoint with id '${request.params.id}'`,
        );
      }
      return endpointView(view);
    },
  );
}
