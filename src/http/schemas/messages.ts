/**
 * Schemas of the message resources: the send request (single and batch), what an accepted message
 * answers, a message's detail (parts, receipts, events) and the paged list. Each shared schema has
 * an $id so the OpenAPI document names it under components.schemas.
 */
import { type Static, Type } from 'typebox';
import { MAX_VALIDITY_SECONDS } from '../../bridge/plan-message.js';
import { MAX_SEGMENTS } from '../../protocol/segments.js';
import { MESSAGE_STATUSES, PART_STATES } from '../../store/store.js';
import { Nullable, StringEnum } from './common.js';

export const SEND_ENCODINGS = ['auto', 'gsm7', 'latin1', 'ucs2'] as const;
export const RECEIPT_POLICIES = ['final', 'failure', 'all', 'none'] as const;
export const WIRE_ENCODINGS = ['gsm7', 'latin1', 'ucs2', 'binary'] as const;

/** Most messages in one POST /messages/batch. */
export const BATCH_MAX_MESSAGES = 1_000;
/** The body limit of POST /messages/batch when http.bodyLimitBytes is smaller. */
export const BATCH_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
export const MESSAGE_LIST_DEFAULT_LIMIT = 50;
export const MESSAGE_LIST_MAX_LIMIT = 1_000;

/** The fields of a send request, every one optional (batch items and defaults). */
const sendFields = {
  to: Type.String({
    minLength: 1,
    maxLength: 21,
    description: 'The destination: an MSISDN (`+447700900123`) or a short code of up to 8 digits.',
    examples: ['+447700900123'],
  }),
  from: Type.String({
    minLength: 1,
    maxLength: 21,
    description: 'The sender: an MSISDN, a short code, or up to 11 GSM characters (`ACME`).',
    examples: ['ACME'],
  }),
  text: Type.String({
    maxLength: 10_000,
    description: 'The text. Give exactly one of `text` and `binary`.',
  }),
  binary: Type.Object(
    {
      hex: Type.String({ maxLength: 20_000, description: 'The octets as hex.' }),
      udhHex: Type.Optional(
        Type.String({
          maxLength: 280,
          description:
            'Your own user data header, UDHL first (ports, WAP push); a concatenation element is added when the data needs more than one part.',
        }),
      ),
    },
    { additionalProperties: false, description: 'Binary content (data_coding 0x04).' },
  ),
  route: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'The route (config `routes[].id`); default: the longest prefix matching `to`.',
  }),
  encoding: StringEnum(SEND_ENCODINGS, {
    description: 'auto (default): GSM 7-bit when the text fits it, else UCS-2.',
  }),
  maxParts: Type.Integer({
    minimum: 1,
    maximum: MAX_SEGMENTS,
    description:
      'The most parts the message may take (default 6). A longer message is refused with 422 TOO_MANY_PARTS, never truncated.',
  }),
  receipt: StringEnum(RECEIPT_POLICIES, {
    description:
      'Which delivery receipts to ask the SMSC for, on every part: final (default), failure, all or none.',
  }),
  validitySeconds: Type.Integer({
    minimum: 1,
    maximum: MAX_VALIDITY_SECONDS,
    description: 'How long the SMSC may try to deliver, counted from the submission.',
  }),
  sendAt: Type.String({
    maxLength: 64,
    description:
      'ISO 8601 date-time with a time zone: the bridge holds the message (status scheduled) until then.',
    examples: ['2026-12-24T18:00:00Z'],
  }),
  clientRef: Type.String({
    maxLength: 256,
    description: 'Your own reference, echoed back and searchable (`GET /messages?clientRef=`).',
  }),
  callbackUrl: Type.String({
    maxLength: 2_048,
    description:
      'Where to POST this message’s status changes. http or https; private and loopback addresses are refused unless the operator allows them.',
  }),
  metadata: Type.Record(Type.String(), Type.Unknown(), {
    description: 'Your own JSON object, stored and shown with the message.',
  }),
};

type SendFields = typeof sendFields;
type Optionals = { [K in keyof SendFields]: ReturnType<typeof Type.Optional<SendFields[K]>> };
const optionalFields = Object.fromEntries(
  Object.entries(sendFields).map(([k, v]) => [k, Type.Optional(v)]),
) as unknown as Optionals;

export const SendMessageBodySchema = Type.Object(
  {
    ...optionalFields,
    to: sendFields.to,
    from: sendFields.from,
  },
  {
    additionalProperties: false,
    examples: [{ to: '+447700900123', from: 'ACME', text: 'Your code is 123456', clientRef: 'order-17' }],
  },
);
export type SendMessageBody = Static<typeof SendMessageBodySchema>;

/** A batch item: any field may come from `defaults`; the merged item must have to and from. */
export const BatchItemSchema = Type.Object(optionalFields, { additionalProperties: false });
export type BatchItem = Static<typeof BatchItemSchema>;

export const SendBatchBodySchema = Type.Object(
  {
    defaults: Type.Optional(
      Type.Object(optionalFields, {
        additionalProperties: false,
        description: 'Fields every message gets unless it sets them itself.',
      }),
    ),
    messages: Type.Array(BatchItemSchema, { minItems: 1, maxItems: BATCH_MAX_MESSAGES }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        defaults: { from: 'ACME', clientRef: 'campaign-7' },
        messages: [
          { to: '+447700900123', text: 'Hello Ann' },
          { to: '+447700900124', text: 'Hello Bob' },
        ],
      },
    ],
  },
);
export type SendBatchBody = Static<typeof SendBatchBodySchema>;

const messageId = Type.String({
  description:
    'The message id (a UUIDv7: ids sort in the order the messages were accepted), for GET and DELETE /messages/{id}.',
  examples: ['0193a6f4-5c1e-7cc0-9f7e-1d2b3c4d5e6f'],
});
const status = StringEnum(MESSAGE_STATUSES, {
  description: 'The status, computed from the parts (see the README’s message lifecycle).',
});
const wireEncoding = StringEnum(WIRE_ENCODINGS, { description: 'How the message goes on the wire.' });
const clientRef = Nullable('string', { description: 'Your reference, as given.' });
const dateTime = (description: string) => Type.String({ format: 'date-time', description });
const nullableDateTime = (description: string) => Nullable('string', { format: 'date-time', description });

export const EXAMPLE_ACCEPTED = {
  id: '0193a6f4-5c1e-7cc0-9f7e-1d2b3c4d5e6f',
  status: 'queued',
  encoding: 'gsm7',
  parts: 1,
  route: 'default',
  clientRef: 'order-17',
  sendAt: null,
  createdAt: '2026-12-07T03:00:00.000Z',
};

export const MessageAcceptedSchema = Type.Object(
  {
    id: messageId,
    status: StringEnum(['queued', 'scheduled'] as const, {
      description: 'scheduled when sendAt is in the future, else queued.',
    }),
    encoding: wireEncoding,
    parts: Type.Integer({ minimum: 1, description: 'How many SMS parts (submit_sm) the message takes.' }),
    route: Type.String({ description: 'The route the message was queued on.' }),
    clientRef,
    sendAt: nullableDateTime('When a scheduled message will be sent.'),
    createdAt: dateTime('When it was durably stored.'),
  },
  {
    $id: 'MessageAccepted',
    title: 'MessageAccepted',
    additionalProperties: false,
    examples: [EXAMPLE_ACCEPTED],
  },
);
export type MessageAccepted = Static<typeof MessageAcceptedSchema>;

const messageError = Type.Union(
  [
    Type.Object(
      {
        code: Type.String({
          description:
            'VALIDITY_EXPIRED, NO_ROUTE, RETRIES_EXHAUSTED, RESPONSE_TIMEOUT, SMSC_REJECTED or CANCELED.',
        }),
        message: Type.String(),
        smppStatus: Type.Optional(Type.Integer({ description: 'The command_status the SMSC answered.' })),
        statusName: Type.Optional(Type.String({ description: 'Its name, e.g. ESME_RINVDSTADR.' })),
        permanent: Type.Optional(
          Type.Boolean({ description: 'true: sending it again as is will fail again.' }),
        ),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: 'Why the message failed or was rejected; null otherwise.' },
);

const summaryFields = {
  id: messageId,
  status,
  clientRef,
  route: Type.String(),
  from: Type.String(),
  to: Type.String(),
  encoding: wireEncoding,
  partsCount: Type.Integer({ minimum: 1 }),
  error: messageError,
  sendAt: nullableDateTime('When a scheduled message is (or was) due.'),
  createdAt: dateTime('When it was accepted.'),
  updatedAt: dateTime('When its status last changed.'),
};

export const EXAMPLE_SUMMARY = {
  id: '0193a6f4-5c1e-7cc0-9f7e-1d2b3c4d5e6f',
  status: 'delivered',
  clientRef: 'order-17',
  route: 'default',
  from: 'ACME',
  to: '+447700900123',
  encoding: 'gsm7',
  partsCount: 1,
  error: null,
  sendAt: null,
  createdAt: '2026-12-07T03:00:00.000Z',
  updatedAt: '2026-12-07T03:00:04.210Z',
};

export const EXAMPLE_DETAIL = {
  ...EXAMPLE_SUMMARY,
  receipt: 'final',
  validitySeconds: null,
  callbackUrl: null,
  metadata: { orderId: 17 },
  parts: [
    {
      index: 0,
      state: 'submitted',
      bindId: 'main',
      smscMessageId: '5e0c3a1f',
      submitStatus: 0,
      submitStatusName: 'ESME_ROK',
      attempts: 1,
      error: null,
      receipt: { stat: 'DELIVRD', err: '000', doneDate: '2026-12-07T03:00:04.000Z' },
    },
  ],
  events: [
    {
      seq: 1,
      type: 'accepted',
      data: { status: 'queued', route: 'default', parts: 1, encoding: 'gsm7' },
      at: '2026-12-07T03:00:00.000Z',
    },
    { seq: 2, type: 'status', data: { status: 'submitted' }, at: '2026-12-07T03:00:00.012Z' },
    { seq: 3, type: 'status', data: { status: 'delivered' }, at: '2026-12-07T03:00:04.210Z' },
  ],
};

export const EXAMPLE_CANCELED = {
  ...EXAMPLE_SUMMARY,
  status: 'canceled',
  sendAt: '2026-12-24T18:00:00.000Z',
  updatedAt: '2026-12-07T03:10:00.000Z',
};

export const MessageSummarySchema = Type.Object(summaryFields, {
  $id: 'MessageSummary',
  title: 'MessageSummary',
  additionalProperties: false,
});
export type MessageSummary = Static<typeof MessageSummarySchema>;

const PartSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: '0-based, in the order the parts are sent.' }),
    state: StringEnum(PART_STATES, {
      description:
        'queued, claimed, sending, submitted, rejected, unknown (sent without a recorded answer) or canceled.',
    }),
    bindId: Nullable('string', { description: 'The bind it went (or goes) out on.' }),
    smscMessageId: Nullable('string', { description: 'The id the SMSC gave in submit_sm_resp.' }),
    submitStatus: Nullable('integer', { description: 'The command_status of the submit_sm_resp.' }),
    submitStatusName: Nullable('string', { description: 'Its name, e.g. ESME_ROK.' }),
    attempts: Type.Integer({ minimum: 0 }),
    error: Type.Union([
      Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false }),
      Type.Null(),
    ]),
    receipt: Type.Union(
      [
        Type.Object(
          {
            stat: Type.String({ description: 'DELIVRD, UNDELIV, EXPIRED, REJECTD, ACCEPTD, UNKNOWN...' }),
            err: Nullable('string', { description: 'The receipt’s err field (network error code).' }),
            doneDate: nullableDateTime('The receipt’s done date.'),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'The last delivery receipt for this part; null until one arrives.' },
    ),
  },
  { additionalProperties: false },
);

const EventSchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: '1, 2, 3… in the order they happened.' }),
    type: Type.String({ description: 'accepted, canceled, submitted, receipt, status...' }),
    data: Type.Unknown({ description: 'What the event recorded.' }),
    at: dateTime('When it was recorded.'),
  },
  { additionalProperties: false },
);

export const MessageDetailSchema = Type.Object(
  {
    ...summaryFields,
    receipt: StringEnum(RECEIPT_POLICIES),
    validitySeconds: Nullable('integer'),
    callbackUrl: Nullable('string'),
    metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    parts: Type.Array(PartSchema),
    events: Type.Array(EventSchema),
  },
  { $id: 'MessageDetail', title: 'MessageDetail', additionalProperties: false },
);
export type MessageDetail = Static<typeof MessageDetailSchema>;

export const MessageListSchema = Type.Object(
  {
    messages: Type.Array(Type.Unsafe<MessageSummary>({ $ref: 'MessageSummary#' })),
    nextCursor: Nullable('string', {
      description:
        'Pass as `cursor` for the next (older) page; null on the last page. Opaque: messages accepted meanwhile neither repeat nor shift the pages.',
    }),
  },
  { $id: 'MessageList', title: 'MessageList', additionalProperties: false },
);

export const EXAMPLE_BATCH = {
  accepted: 1,
  rejected: 1,
  results: [
    { index: 0, accepted: true, message: EXAMPLE_ACCEPTED },
    {
      index: 1,
      accepted: false,
      error: {
        code: 'INVALID_ADDRESS',
        message: 'to must be an MSISDN (+ and up to 15 digits) or a short code',
        details: {
          errors: [
            {
              field: 'body/messages/1/to',
              message: 'to must be an MSISDN (+ and up to 15 digits) or a short code',
            },
          ],
        },
      },
    },
  ],
};

export const BatchResultSchema = Type.Object(
  {
    accepted: Type.Integer({ minimum: 0, description: 'How many messages were accepted.' }),
    rejected: Type.Integer({ minimum: 0, description: 'How many were refused (each with its error).' }),
    results: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ minimum: 0, description: 'The position in `messages`.' }),
          accepted: Type.Boolean(),
          message: Type.Optional(Type.Unsafe<MessageAccepted>({ $ref: 'MessageAccepted#' })),
          error: Type.Optional(Type.Unsafe<object>({ $ref: 'Error#' })),
        },
        { additionalProperties: false },
      ),
      { description: 'One result per message, in order.' },
    ),
  },
  {
    $id: 'BatchResult',
    title: 'BatchResult',
    additionalProperties: false,
    examples: [EXAMPLE_BATCH],
  },
);
export type BatchResult = Static<typeof BatchResultSchema>;

export const MessageIdParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, description: 'The message id.' }) },
  { additionalProperties: false },
);

export const MessageListQuerySchema = Type.Object(
  {
    clientRef: Type.Optional(
      Type.String({ maxLength: 256, description: 'Only messages with this clientRef.' }),
    ),
    status: Type.Optional(
      Type.String({
        maxLength: 512,
        description: 'Only these statuses, comma-separated: ?status=failed,rejected.',
      }),
    ),
    since: Type.Optional(
      Type.String({
        maxLength: 64,
        description: 'Only messages accepted at or after this ISO 8601 date-time.',
      }),
    ),
    cursor: Type.Optional(
      Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MESSAGE_LIST_MAX_LIMIT,
        description: `At most this many per page (default ${MESSAGE_LIST_DEFAULT_LIMIT}).`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'Makes a retry safe: the same key with the same body within 24 hours gets the first answer again (with `Idempotent-Replayed: true`) and sends nothing new.',
    }),
  ),
});

export const MESSAGE_SCHEMAS = [
  MessageAcceptedSchema,
  MessageSummarySchema,
  MessageDetailSchema,
  MessageListSchema,
  BatchResultSchema,
];
