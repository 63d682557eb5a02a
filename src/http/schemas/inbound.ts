/** GET /inbound and GET /inbound/:id: the mobile-originated messages the bridge stored, oldest first. */
import { type Static, Type } from 'typebox';
import { Nullable } from './common.js';

export const INBOUND_LIST_DEFAULT_LIMIT = 100;
export const INBOUND_LIST_MAX_LIMIT = 1000;

export const InboundMessageSchema = Type.Object(
  {
    id: Type.String({
      description: 'The id the bridge gave the message (also in its message.received webhook).',
    }),
    route: Nullable('string', {
      description: 'The route of the bind it came on; null when the bind is in none.',
    }),
    bindId: Type.String({ description: 'The bind whose deliver_sm/data_sm completed it.' }),
    from: Type.String({ description: 'source_addr: the sender.' }),
    to: Type.String({ description: 'destination_addr: the number it was sent to.' }),
    text: Nullable('string', {
      description: 'The text, decoded by dataCoding (parts joined first); null for a binary data_coding.',
    }),
    binaryHex: Nullable('string', {
      description: 'The user data as hex for a binary data_coding; else null.',
    }),
    encoding: Type.String({ description: 'How the text was decoded: gsm7, ascii, latin1, ucs2 or binary.' }),
    dataCoding: Type.Integer({ minimum: 0, maximum: 255, description: 'The data_coding of its parts.' }),
    parts: Type.Integer({ minimum: 1, description: 'How many parts it was joined from.' }),
    incomplete: Type.Boolean({
      description: 'Parts were still missing after mo.reassemblyTimeoutMs: delivered with what arrived.',
    }),
    missingParts: Type.Array(Type.Integer({ minimum: 1 }), {
      description: 'The part numbers (1-based) that never arrived; empty when complete.',
    }),
    receivedAt: Type.String({ format: 'date-time', description: 'When it was stored (ISO 8601).' }),
  },
  {
    $id: 'InboundMessage',
    title: 'InboundMessage',
    description: 'A mobile-originated message, stored before its deliver_sm was acknowledged.',
    additionalProperties: false,
  },
);
export type InboundMessageBody = Static<typeof InboundMessageSchema>;

export const InboundListSchema = Type.Object(
  {
    messages: Type.Array(Type.Ref('InboundMessage')),
    nextCursor: Nullable('string', {
      description:
        "The position after this page's last message (for an empty page, the cursor given): pass it as `cursor` for the next page, or later for what arrived since; an empty page means nothing new. Null when the page is empty and no cursor was given.",
    }),
  },
  { $id: 'InboundList', title: 'InboundList', additionalProperties: false },
);

export const InboundIdParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, description: 'The inbound message id.' }) },
  { additionalProperties: false },
);

export const InboundListQuerySchema = Type.Object(
  {
    since: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'Only messages received at or after this ISO 8601 date-time, e.g. 2026-12-07T10:00:00Z.',
      }),
    ),
    bind: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Only messages of this bind.' }),
    ),
    from: Type.Optional(
      Type.String({ minLength: 1, maxLength: 65, description: 'Only messages from this sender.' }),
    ),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'The nextCursor of the previous page.' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: INBOUND_LIST_MAX_LIMIT,
        default: INBOUND_LIST_DEFAULT_LIMIT,
        description: `Messages per page (1 to ${INBOUND_LIST_MAX_LIMIT}).`,
      }),
    ),
  },
  { additionalProperties: false },
);
