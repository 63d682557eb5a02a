/** Schemas of the webhook routes: outbox deliveries and endpoints. */
import { Type } from 'typebox';
import { Nullable, StringEnum } from './common.js';

export const DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export const DELIVERY_FILTER_STATES = ['pending', 'failed', 'dead', 'delivered'] as const;
export const DELIVERY_LIST_DEFAULT_LIMIT = 100;
export const DELIVERY_LIST_MAX_LIMIT = 1000;

export const EXAMPLE_DELIVERY = {
  id: 'evt_5b0e8a52-7f5c-4c55-9a53-2d1f9c3b1e07',
  endpoint: 'crm',
  type: 'message.delivered',
  messageId: 'msg_01HZX4',
  state: 'dead',
  attempts: 2,
  nextAttemptAt: '2026-12-07T03:10:05.000Z',
  lastError: 'HTTP 404: the endpoint refused the message twice (404)',
  createdAt: '2026-12-07T03:10:00.000Z',
  updatedAt: '2026-12-07T03:10:05.120Z',
};

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'The event id: the webhook-id header, the same on every attempt.' }),
    endpoint: Type.String({
      description:
        'The endpoint id from config webhooks.endpoints, or callback:<url> for a message callbackUrl.',
    }),
    type: Type.String({ description: 'The event type, e.g. message.delivered.' }),
    messageId: Nullable('string', {
      description: 'The message the event is about (its events go in order).',
    }),
    state: StringEnum(DELIVERY_STATES),
    attempts: Type.Integer({
      minimum: 0,
      description: 'Attempts made (counted afresh after a manual retry).',
    }),
    nextAttemptAt: Type.String({ format: 'date-time', description: 'When a pending event is tried next.' }),
    lastError: Nullable('string', { description: 'What the last failed attempt got, e.g. HTTP 503: …' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'WebhookDelivery',
    title: 'WebhookDelivery',
    additionalProperties: false,
    examples: [EXAMPLE_DELIVERY],
  },
);

export const WebhookDeliveryListSchema = Type.Object(
  {
    deliveries: Type.Array(Type.Unsafe({ $ref: 'WebhookDelivery#' })),
    nextCursor: Nullable('string', { description: 'Pass as ?cursor= for the next page; null on the last.' }),
  },
  {
    $id: 'WebhookDeliveryList',
    title: 'WebhookDeliveryList',
    additionalProperties: false,
    examples: [{ deliveries: [EXAMPLE_DELIVERY], nextCursor: null }],
  },
);

export const WebhookDeliveryListQuerySchema = Type.Object(
  {
    state: Type.Optional(
      StringEnum(DELIVERY_FILTER_STATES, {
        description:
          'pending: waiting (due or retrying); failed: pending after at least one failed attempt; dead: given up.',
      }),
    ),
    endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: DELIVERY_LIST_MAX_LIMIT })),
  },
  { additionalProperties: false },
);

export const DeliveryIdParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

export const EndpointIdParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const EXAMPLE_ENDPOINT = {
  id: 'crm',
  origin: 'https://crm.example.com',
  events: ['message.received', 'message.delivered'],
  routes: null,
  disabled: true,
  disabledAt: '2026-12-07T03:12:00.000Z',
  disabledReason: 'HTTP 410: the endpoint answered 410 Gone',
  inFlight: 0,
};

export const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String(),
    origin: Nullable('string', {
      description: "The URL's origin (the path is not shown: it may hold a token).",
    }),
    events: Type.Array(Type.String()),
    routes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: every route.' }),
    disabled: Type.Boolean({
      description: 'It answered 410 Gone: nothing is sent to it until it is enabled again.',
    }),
    disabledAt: Nullable('string', { format: 'date-time' }),
    disabledReason: Nullable('string'),
    inFlight: Type.Integer({ minimum: 0, description: 'Requests to it in flight now.' }),
  },
  {
    $id: 'WebhookEndpoint',
    title: 'WebhookEndpoint',
    additionalProperties: false,
    examples: [EXAMPLE_ENDPOINT],
  },
);

export const WebhookEndpointListSchema = Type.Object(
  { endpoints: Type.Array(Type.Unsafe({ $ref: 'WebhookEndpoint#' })) },
  {
    $id: 'WebhookEndpointList',
    title: 'WebhookEndpointList',
    additionalProperties: false,
    examples: [{ endpoints: [EXAMPLE_ENDPOINT] }],
  },
);

export const WEBHOOK_SCHEMAS = [
  WebhookDeliverySchema,
  WebhookDeliveryListSchema,
  WebhookEndpointSchema,
  WebhookEndpointListSchema,
];
