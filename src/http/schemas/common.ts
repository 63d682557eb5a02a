/**
 * Schema helpers shared by every route: nullable scalars and string enums as plain
 * `type`/`enum` keywords (fast-json-stringify serialises these without trying anyOf branches),
 * and the one error shape.
 */
import { type TUnsafe, Type } from 'typebox';
import { HTTP_ERRORS, type HttpErrorCode } from '../errors.js';

type Scalar = 'string' | 'number' | 'integer' | 'boolean';
type ScalarOf<T extends Scalar> = T extends 'string' ? string : T extends 'boolean' ? boolean : number;

/** A scalar that may be null: `{ type: [T, 'null'] }` (OpenAPI 3.1). */
export function Nullable<T extends Scalar>(
  type: T,
  options: Record<string, unknown> = {},
): TUnsafe<ScalarOf<T> | null> {
  return Type.Unsafe<ScalarOf<T> | null>({ ...options, type: [type, 'null'] });
}

/** A string restricted to `values`. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A string restricted to `values`, or null. */
export function NullableEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number] | null> {
  return Type.Unsafe<T[number] | null>({ ...options, type: ['string', 'null'], enum: [...values, null] });
}

export const ERROR_CODES = Object.keys(HTTP_ERRORS) as HttpErrorCode[];

export const ErrorSchema = Type.Object(
  {
    code: StringEnum(ERROR_CODES, { description: 'Stable error code; see docs/errors.md.' }),
    message: Type.String({ description: 'What went wrong, in words. Hidden for INTERNAL_ERROR.' }),
    details: Type.Optional(
      Type.Object(
        {
          errors: Type.Optional(
            Type.Array(
              Type.Object({
                field: Type.String({
                  description: 'Where: body/timeoutMs, querystring/maxAgeMs, params/id.',
                }),
                message: Type.String(),
              }),
            ),
          ),
          bindId: Type.Optional(Type.String()),
          retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
          timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
          state: Type.Optional(Type.String()),
          limitBytes: Type.Optional(Type.Integer({ minimum: 0 })),
          commandStatus: Type.Optional(
            Type.Integer({ minimum: 0, description: 'The command_status the SMSC answered.' }),
          ),
          statusName: Type.Optional(Type.String({ description: 'Its name, e.g. ESME_RINVDSTADR.' })),
          retryClass: Type.Optional(
            StringEnum(['ok', 'retry', 'permanent', 'session', 'bind'] as const, {
              description:
                'retry: resend later; permanent: fix the message first; session/bind: the bind is at fault.',
            }),
          ),
          rttMs: Type.Optional(
            Type.Number({ minimum: 0, description: 'PROBE_REJECTED: the round trip of the refused probe.' }),
          ),
          parts: Type.Optional(
            Type.Integer({ minimum: 0, description: 'TOO_MANY_PARTS: the parts the message needs.' }),
          ),
          maxParts: Type.Optional(
            Type.Integer({ minimum: 0, description: 'TOO_MANY_PARTS: the most parts allowed.' }),
          ),
          route: Type.Optional(Type.String({ description: 'ROUTE_NOT_FOUND: the route asked for.' })),
          messageId: Type.Optional(Type.String()),
          status: Type.Optional(
            Type.String({ description: 'MESSAGE_NOT_CANCELABLE: the status of the message now.' }),
          ),
          queuedParts: Type.Optional(
            Type.Integer({ minimum: 0, description: 'QUEUE_FULL: parts waiting to be sent.' }),
          ),
          maxQueuedParts: Type.Optional(
            Type.Integer({ minimum: 0, description: 'QUEUE_FULL: the bound of the queue.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    $id: 'Error',
    title: 'Error',
    description: 'The one error shape of the API.',
    additionalProperties: false,
    examples: [
      { code: 'BIND_NOT_FOUND', message: "no bind with id 'nope'", details: { bindId: 'nope' } },
      {
        code: 'VALIDATION_FAILED',
        message: 'body/timeoutMs must be <= 60000',
        details: { errors: [{ field: 'body/timeoutMs', message: 'must be <= 60000' }] },
      },
    ],
  },
);

/** Example bodies of each error code, for the OpenAPI document. */
const ERROR_EXAMPLES: Record<HttpErrorCode, object> = {
  VALIDATION_FAILED: {
    code: 'VALIDATION_FAILED',
    message: 'body/timeoutMs must be <= 60000',
    details: { errors: [{ field: 'body/timeoutMs', message: 'must be <= 60000' }] },
  },
  INVALID_JSON: {
    code: 'INVALID_JSON',
    message: "Body is not valid JSON but content-type is set to 'application/json'",
  },
  BAD_REQUEST: { code: 'BAD_REQUEST', message: "'/binds/%E0%A4%A' is not a valid url component" },
  UNAUTHORIZED: {
    code: 'UNAUTHORIZED',
    message: 'a bearer token is required (Authorization: Bearer <token>)',
  },
  BIND_NOT_FOUND: { code: 'BIND_NOT_FOUND', message: "no bind with id 'nope'", details: { bindId: 'nope' } },
  MESSAGE_NOT_FOUND: {
    code: 'MESSAGE_NOT_FOUND',
    message: "no message with id 'nope'",
    details: { messageId: 'nope' },
  },
  MESSAGE_NOT_CANCELABLE: {
    code: 'MESSAGE_NOT_CANCELABLE',
    message: 'message 0193a6f4-5c1e-7cc0-9f7e-1d2b3c4d5e6f cannot be canceled: part 0 is already sending',
    details: { messageId: '0193a6f4-5c1e-7cc0-9f7e-1d2b3c4d5e6f', status: 'queued' },
  },
  IDEMPOTENCY_KEY_IN_USE: {
    code: 'IDEMPOTENCY_KEY_IN_USE',
    message: 'a request with this Idempotency-Key is still being processed',
  },
  TOO_MANY_PARTS: {
    code: 'TOO_MANY_PARTS',
    message: 'the message needs 8 parts; at most 6 are allowed (maxParts)',
    details: {
      parts: 8,
      maxParts: 6,
      errors: [
        { field: 'body/text', message: 'the message needs 8 parts; at most 6 are allowed (maxParts)' },
      ],
    },
  },
  INVALID_ADDRESS: {
    code: 'INVALID_ADDRESS',
    message: 'to must be an MSISDN (+ and up to 15 digits) or a short code',
    details: {
      errors: [{ field: 'body/to', message: 'to must be an MSISDN (+ and up to 15 digits) or a short code' }],
    },
  },
  INVALID_HEX: {
    code: 'INVALID_HEX',
    message: 'binary.hex must be an even number of hex digits',
    details: {
      errors: [{ field: 'body/binary/hex', message: 'binary.hex must be an even number of hex digits' }],
    },
  },
  UNENCODABLE_TEXT: {
    code: 'UNENCODABLE_TEXT',
    message: "character '€' cannot be encoded in latin1",
    details: { errors: [{ field: 'body/text', message: "character '€' cannot be encoded in latin1" }] },
  },
  INVALID_MESSAGE: {
    code: 'INVALID_MESSAGE',
    message: 'give exactly one of text and binary',
    details: { errors: [{ field: 'body/text', message: 'give exactly one of text and binary' }] },
  },
  ROUTE_NOT_FOUND: { code: 'ROUTE_NOT_FOUND', message: 'no route "bulk"', details: { route: 'bulk' } },
  NO_ROUTE: { code: 'NO_ROUTE', message: 'no route for destination +15550100' },
  CALLBACK_URL_REFUSED: {
    code: 'CALLBACK_URL_REFUSED',
    message: 'callbackUrl resolves to 127.0.0.1, a loopback address',
    details: {
      errors: [
        { field: 'body/callbackUrl', message: 'callbackUrl resolves to 127.0.0.1, a loopback address' },
      ],
    },
  },
  IDEMPOTENCY_KEY_MISMATCH: {
    code: 'IDEMPOTENCY_KEY_MISMATCH',
    message: 'this Idempotency-Key was used with a different request',
  },
  QUEUE_FULL: {
    code: 'QUEUE_FULL',
    message: 'the outbound queue is full (100000 parts); retry later',
    details: { queuedParts: 99998, maxQueuedParts: 100000, retryAfterMs: 1000 },
  },
  MESSAGES_UNAVAILABLE: {
    code: 'MESSAGES_UNAVAILABLE',
    message: 'the message path does not run in this process',
  },
  STORE_UNAVAILABLE: { code: 'STORE_UNAVAILABLE', message: 'the store cannot accept writes now' },
  NOT_FOUND: { code: 'NOT_FOUND', message: 'no route GET /nope' },
  NOT_BOUND: {
    code: 'NOT_BOUND',
    message: 'cannot send enquire_link in state backoff',
    details: { bindId: 'main', state: 'backoff' },
  },
  BODY_TOO_LARGE: {
    code: 'BODY_TOO_LARGE',
    message: 'Request body is too large',
    details: { limitBytes: 65536 },
  },
  UNSUPPORTED_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'the body must be application/json' },
  PROBE_RATE_LIMITED: {
    code: 'PROBE_RATE_LIMITED',
    message: 'bind main: probed too recently; retry in 640 ms',
    details: { bindId: 'main', retryAfterMs: 640 },
  },
  INTERNAL_ERROR: { code: 'INTERNAL_ERROR', message: 'internal error' },
  BIND_STOPPED: { code: 'BIND_STOPPED', message: 'bind main is stopped', details: { bindId: 'main' } },
  INBOUND_NOT_FOUND: { code: 'INBOUND_NOT_FOUND', message: "no inbound message with id 'nope'" },
  PROBE_REJECTED: {
    code: 'PROBE_REJECTED',
    message: 'enquire_link answered with generic_nack ESME_RINVCMDID (0x00000003)',
    details: { bindId: 'main', commandStatus: 3, statusName: 'ESME_RINVCMDID', rttMs: 0.42 },
  },
  PROBE_TIMEOUT: {
    code: 'PROBE_TIMEOUT',
    message: 'bind main: no enquire_link_resp within 5000 ms',
    details: { bindId: 'main', timeoutMs: 5000 },
  },
  REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', message: 'the request headers did not arrive in time' },
  BIND_EXISTS: {
    code: 'BIND_EXISTS',
    message: "a bind with id 'main' already exists",
    details: { bindId: 'main' },
  },
  BIND_READ_ONLY: {
    code: 'BIND_READ_ONLY',
    message:
      "bind 'main' comes from the config file and is read-only through the API; change the file and reload (SIGHUP)",
    details: { bindId: 'main' },
  },
  BINDS_UNAVAILABLE: {
    code: 'BINDS_UNAVAILABLE',
    message: 'bind management needs the store, which does not run in this process',
  },
  INVALID_BIND_OPTIONS: {
    code: 'INVALID_BIND_OPTIONS',
    message: "invalid bind 'main': port must be a port number from 1 to 65535",
    details: {
      bindId: 'main',
      errors: [{ field: 'body/port', message: 'must be a port number from 1 to 65535' }],
    },
  },
  WINDOW_FULL: {
    code: 'WINDOW_FULL',
    message: 'no window slot for submit_sm within 30000 ms',
    details: { bindId: 'main', retryAfterMs: 1000 },
  },
  THROTTLED: {
    code: 'THROTTLED',
    message:
      'submit_sm refused: ESME_RTHROTTLED (0x00000058) Throttling error (ESME has exceeded allowed message limits)',
    details: {
      bindId: 'main',
      commandStatus: 88,
      statusName: 'ESME_RTHROTTLED',
      retryClass: 'retry',
      retryAfterMs: 1000,
    },
  },
  HEADERS_TOO_LARGE: { code: 'HEADERS_TOO_LARGE', message: 'the URL or the headers are too large' },
  SMSC_REJECTED: {
    code: 'SMSC_REJECTED',
    message: 'submit_sm refused: ESME_RINVDSTADR (0x0000000b) Invalid destination address',
    details: { bindId: 'main', commandStatus: 11, statusName: 'ESME_RINVDSTADR', retryClass: 'permanent' },
  },
  WEBHOOK_DELIVERY_NOT_FOUND: {
    code: 'WEBHOOK_DELIVERY_NOT_FOUND',
    message: "no webhook delivery with id 'evt_nope'",
  },
  WEBHOOK_ENDPOINT_NOT_FOUND: {
    code: 'WEBHOOK_ENDPOINT_NOT_FOUND',
    message: "no webhook endpoint with id 'nope'",
  },
  WEBHOOK_DELIVERY_NOT_DEAD: {
    code: 'WEBHOOK_DELIVERY_NOT_DEAD',
    message: 'webhook delivery evt_2kq… is pending, not dead',
    details: { state: 'pending' },
  },
  WEBHOOKS_UNAVAILABLE: {
    code: 'WEBHOOKS_UNAVAILABLE',
    message: 'webhook delivery is not running in this process (no store)',
  },
  RESPONSE_TIMEOUT: {
    code: 'RESPONSE_TIMEOUT',
    message: 'no response to submit_sm seq 42 within 30000 ms',
    details: { bindId: 'main', timeoutMs: 30000 },
  },
};

/** A named example of a media type in the OpenAPI document. */
export interface NamedExample {
  summary?: string;
  value: unknown;
}

/**
 * A JSON response that is a shared schema (`ref` is its $id), described, with named examples.
 * Written in fastify's `content` form so @fastify/swagger keeps the examples next to the schema.
 */
export function jsonResponse(
  ref: string,
  description: string,
  examples: Record<string, NamedExample> = {},
): object {
  const media: Record<string, unknown> = { schema: { $ref: `${ref}#` } };
  if (Object.keys(examples).length > 0) media.examples = examples;
  return { description, content: { 'application/json': media } };
}

/**
 * Like jsonResponse, in the plain form: fastify then serialises without looking up the reply's
 * content type (for the hot readiness path). The allOf wrapper keeps the examples beside the
 * reference, where @fastify/swagger moves them to the media type.
 */
export function plainJsonResponse(
  ref: string,
  description: string,
  examples: Record<string, NamedExample> = {},
): object {
  return { description, allOf: [{ $ref: `${ref}#` }], 'x-examples': examples };
}

/**
 * Response schemas for the given error codes, grouped by status: `{ 404: {...}, 409: {...} }`,
 * each the Error schema with a description and one example per code.
 */
export function errorResponses(...codes: HttpErrorCode[]): Record<number, object> {
  const byStatus = new Map<number, HttpErrorCode[]>();
  for (const code of codes) {
    const status = HTTP_ERRORS[code].status;
    const list = byStatus.get(status) ?? [];
    if (!list.includes(code)) list.push(code);
    byStatus.set(status, list);
  }
  const out: Record<number, object> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const examples: Record<string, NamedExample> = {};
    for (const code of list)
      examples[code] = { summary: HTTP_ERRORS[code].meaning, value: ERROR_EXAMPLES[code] };
    out[status] = jsonResponse(
      'Error',
      list.map((code) => `${code}: ${HTTP_ERRORS[code].meaning}`).join(' '),
      examples,
    );
  }
  return out;
}
