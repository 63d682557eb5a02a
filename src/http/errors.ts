/**
 * The HTTP error codes of the REST API: one table of { status, meaning }, one error class, and
 * the one mapping from the lower layers' errors (SMPP_ERR_*) to these codes. Every error response
 * has the shape { code, message, details? }; docs/errors.md lists this table for operators.
 */
import { ErrorCode, SmppError } from '../errors.js';
import type { RetryClass } from '../protocol/command-status.js';

export const HTTP_ERRORS = {
  VALIDATION_FAILED: {
    status: 400,
    meaning: 'A path, query or body field is invalid; details name each field.',
  },
  INVALID_JSON: {
    status: 400,
    meaning: 'The body is not valid JSON although content-type says application/json.',
  },
  BAD_REQUEST: {
    status: 400,
    meaning: 'The request is malformed (bad URL encoding, wrong Content-Length, unknown method, no Host).',
  },
  UNAUTHORIZED: { status: 401, meaning: 'A bearer token is required and was missing or not accepted.' },
  BIND_NOT_FOUND: { status: 404, meaning: 'No bind is configured with this id.' },
  INBOUND_NOT_FOUND: {
    status: 404,
    meaning: 'No inbound message with this id (or it was pruned after the retention).',
  },
  MESSAGE_NOT_FOUND: {
    status: 404,
    meaning: 'No message with this id (or it was pruned after the retention).',
  },
  NOT_FOUND: { status: 404, meaning: 'No route matches this method and path.' },
  REQUEST_TIMEOUT: { status: 408, meaning: 'The request headers did not arrive in time.' },
  BIND_EXISTS: { status: 409, meaning: 'A bind with this id already exists.' },
  BIND_READ_ONLY: {
    status: 409,
    meaning: 'The bind comes from the config file: change it there and reload, not through the API.',
  },
  MESSAGE_NOT_CANCELABLE: {
    status: 409,
    meaning: 'The message can no longer be canceled: a part was already claimed, sent or settled.',
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    meaning: 'A request with this Idempotency-Key is still being processed; retry after it finished.',
  },
  BODY_TOO_LARGE: { status: 413, meaning: 'The body is larger than http.bodyLimitBytes.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The body is not application/json.' },
  INVALID_BIND_OPTIONS: {
    status: 422,
    meaning: "The bind's options cannot be used; details name each field.",
  },
  TOO_MANY_PARTS: {
    status: 422,
    meaning: 'The message needs more parts than maxParts allows; it is never truncated.',
  },
  INVALID_ADDRESS: {
    status: 422,
    meaning: 'to or from is not an MSISDN, a short code or (from only) an alphanumeric sender.',
  },
  INVALID_HEX: { status: 422, meaning: 'binary.hex or binary.udhHex is not valid hex (or a bad UDH).' },
  UNENCODABLE_TEXT: { status: 422, meaning: 'The text cannot be encoded in the encoding asked for.' },
  INVALID_MESSAGE: {
    status: 422,
    meaning: 'The message cannot be sent as given (both or neither of text and binary, a bad sendAt...).',
  },
  ROUTE_NOT_FOUND: { status: 422, meaning: 'The route named in the request is not configured.' },
  NO_ROUTE: { status: 422, meaning: 'No configured route matches the destination.' },
  CALLBACK_URL_REFUSED: {
    status: 422,
    meaning: 'The callbackUrl is not allowed (scheme, credentials, or a private or loopback address).',
  },
  IDEMPOTENCY_KEY_MISMATCH: {
    status: 422,
    meaning: 'This Idempotency-Key was used with a different request in the last 24 hours.',
  },
  QUEUE_FULL: {
    status: 429,
    meaning: 'The outbound queue holds as many parts as it may; Retry-After says when to retry.',
  },
  PROBE_RATE_LIMITED: {
    status: 429,
    meaning:
      'A manual probe of this bind ran less than minProbeIntervalMs ago; Retry-After says when to retry.',
  },
  WINDOW_FULL: {
    status: 429,
    meaning:
      "The bind's in-flight window stayed full for windowWaitTimeoutMs; Retry-After says when to retry.",
  },
  THROTTLED: {
    status: 429,
    meaning: 'The SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL; Retry-After says when to retry.',
  },
  HEADERS_TOO_LARGE: { status: 431, meaning: 'The URL or the headers are larger than the server accepts.' },
  INTERNAL_ERROR: {
    status: 500,
    meaning: 'An unexpected error; the message is hidden and the server log has it.',
  },
  SMSC_REJECTED: {
    status: 502,
    meaning: 'The SMSC answered with a non-zero command_status; details say which and whether to resend.',
  },
  NOT_BOUND: {
    status: 503,
    meaning: 'The bind has no bound SMPP session right now (connecting or backing off).',
  },
  BIND_STOPPED: { status: 503, meaning: 'The bind is stopped or the service is shutting down.' },
  BINDS_UNAVAILABLE: {
    status: 503,
    meaning: 'Bind management needs the store, which does not run in this process (or is starting).',
  },
  MESSAGES_UNAVAILABLE: {
    status: 503,
    meaning: 'The message path does not run in this process (no store is configured or it is starting).',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    meaning: 'The store could not durably write the request; nothing was accepted. Retry later.',
  },
  PROBE_REJECTED: {
    status: 502,
    meaning:
      'The SMSC answered the enquire_link with generic_nack or an error status (details.statusName): the link is alive, the probe failed.',
  },
  PROBE_TIMEOUT: { status: 504, meaning: 'The SMSC did not answer the enquire_link within the timeout.' },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, meaning: 'No webhook delivery (outbox event) has this id.' },
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, meaning: 'No webhook endpoint is configured with this id.' },
  WEBHOOK_DELIVERY_NOT_DEAD: {
    status: 409,
    meaning: 'Only a dead webhook delivery can be retried; this one is pending or delivered.',
  },
  WEBHOOKS_UNAVAILABLE: {
    status: 503,
    meaning: 'The message path (store and webhook sender) is not running in this process.',
  },
  RESPONSE_TIMEOUT: {
    status: 504,
    meaning: 'The SMSC did not answer the request within responseTimeoutMs; the outcome is unknown.',
  },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Extra facts of an error response; every key is optional. */
export interface HttpErrorDetails {
  /** VALIDATION_FAILED and INVALID_BIND_OPTIONS: each offending field and what is wrong with it. */
  errors?: { field: string; message: string }[];
  bindId?: string;
  retryAfterMs?: number;
  timeoutMs?: number;
  state?: string;
  limitBytes?: number;
  /** SMSC_REJECTED, THROTTLED and PROBE_REJECTED: the answer's command_status, its name and retry class. */
  commandStatus?: number;
  statusName?: string;
  retryClass?: RetryClass;
  /** PROBE_REJECTED: the round trip of the refused probe. */
  rttMs?: number;
  /** TOO_MANY_PARTS: how many parts the message needs, and the limit. */
  parts?: number;
  maxParts?: number;
  /** ROUTE_NOT_FOUND: the route asked for. */
  route?: string;
  /** MESSAGE_NOT_FOUND, MESSAGE_NOT_CANCELABLE: the message, and its status. */
  messageId?: string;
  status?: string;
  /** QUEUE_FULL: the parts queued now and the bound. */
  queuedParts?: number;
  maxQueuedParts?: number;
}

export interface HttpErrorBody {
  code: HttpErrorCode;
  message: string;
  details?: HttpErrorDetails;
}

/**
 * An error the API answers with as is: its code decides the status. Not an SmppError: its code is
 * an HTTP code of the table above, the SmppError it came from (if any) is its `cause`.
 */
export class HttpApiError extends Error {
  readonly code: HttpErrorCode;
  readonly statusCode: number;
  readonly details: HttpErrorDetails | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: { details?: HttpErrorDetails; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpApiError';
    this.code = code;
    this.statusCode = HTTP_ERRORS[code].status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  /** The code (kept for callers written before `code` became the HTTP code). */
  get httpCode(): HttpErrorCode {
    return this.code;
  }

  /** Whether the same request may succeed later (a 429, 503 or 504). */
  get retriable(): boolean {
    return this.statusCode === 429 || this.statusCode === 503 || this.statusCode === 504;
  }

  toBody(): HttpErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function bindNotFound(id: string): HttpApiError {
  return new HttpApiError('BIND_NOT_FOUND', `no bind with id '${id}'`, { details: { bindId: id } });
}

/** Seconds for Retry-After: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** How long a client should wait after WINDOW_FULL or THROTTLED before sending again. */
export const BUSY_RETRY_AFTER_MS = 1_000;

/** command_status values that mean "the SMSC is busy": 429 THROTTLED rather than 502. */
const BUSY_STATUSES: ReadonlySet<number> = new Set([0x58 /* ESME_RTHROTTLED */, 0x14 /* ESME_RMSGQFUL */]);

function retryLater(
  code: 'PROBE_RATE_LIMITED' | 'WINDOW_FULL' | 'THROTTLED',
  error: SmppError,
  retryAfterMs: number,
  details: HttpErrorDetails,
): HttpApiError {
  return new HttpApiError(code, error.message, {
    details: { ...details, retryAfterMs },
    headers: { 'retry-after': String(retryAfterSeconds(retryAfterMs)) },
    cause: error,
  });
}

function numberOf(error: object, key: string): number | undefined {
  const v = (error as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
}

function stringOf(error: object, key: string): string | undefined {
  const v = (error as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

const PLAN_CODES: Record<string, HttpErrorCode> = {
  [ErrorCode.BridgeTooManyParts]: 'TOO_MANY_PARTS',
  [ErrorCode.BridgeInvalidAddress]: 'INVALID_ADDRESS',
  [ErrorCode.BridgeInvalidHex]: 'INVALID_HEX',
  [ErrorCode.BridgeUnencodable]: 'UNENCODABLE_TEXT',
  [ErrorCode.BridgeInvalidMessage]: 'INVALID_MESSAGE',
};

/**
 * A send request that cannot become PDUs (src/bridge/plan-message.ts PlanError): 422 with the field
 * at fault as `body/<field>`, and for TOO_MANY_PARTS the count and the limit.
 */
function fromPlanError(error: SmppError): HttpApiError {
  const code = PLAN_CODES[error.code] ?? 'INVALID_MESSAGE';
  const field = stringOf(error, 'field');
  const details: HttpErrorDetails = {};
  if (field !== undefined)
    details.errors = [{ field: `body/${field.replace(/\./g, '/')}`, message: error.message }];
  const parts = numberOf(error, 'parts');
  const maxParts = numberOf(error, 'maxParts');
  if (parts !== undefined) details.parts = parts;
  if (maxParts !== undefined) details.maxParts = maxParts;
  return new HttpApiError(code, error.message, { details, cause: error });
}

/**
 * Maps an error of the bind or session layer to the API's error, or null when it is not one of
 * theirs (the caller then answers INTERNAL_ERROR). The one place SMPP_ERR_* meets HTTP statuses.
 */
export function fromSmppError(error: unknown, bindId?: string): HttpApiError | null {
  if (error instanceof HttpApiError) return error;
  if (!(error instanceof SmppError)) return null;
  const id = bindId ?? stringOf(error, 'bindId');
  const base: HttpErrorDetails = id === undefined ? {} : { bindId: id };
  switch (error.code) {
    case ErrorCode.NotBound:
    case ErrorCode.ConnectionClosed: {
      const state = stringOf(error, 'state');
      return new HttpApiError('NOT_BOUND', error.message, {
        details: state === undefined ? base : { ...base, state },
        cause: error,
      });
    }
    case ErrorCode.ProbeTimeout:
    case ErrorCode.ResponseTimeout: {
      const timeoutMs = numberOf(error, 'timeoutMs');
      const code = error.code === ErrorCode.ProbeTimeout ? 'PROBE_TIMEOUT' : 'RESPONSE_TIMEOUT';
      return new HttpApiError(code, error.message, {
        details: timeoutMs === undefined ? base : { ...base, timeoutMs },
        cause: error,
      });
    }
    case ErrorCode.ProbeRateLimited:
      return retryLater('PROBE_RATE_LIMITED', error, numberOf(error, 'retryAfterMs') ?? 1000, base);
    case ErrorCode.WindowWaitTimeout:
      return retryLater('WINDOW_FULL', error, BUSY_RETRY_AFTER_MS, base);
    case ErrorCode.CommandStatus: {
      const commandStatus = numberOf(error, 'commandStatus') ?? 0;
      const details: HttpErrorDetails = { ...base, commandStatus };
      const statusName = stringOf(error, 'statusName');
      if (statusName !== undefined) details.statusName = statusName;
      const retryClass = stringOf(error, 'retryClass');
      if (retryClass !== undefined) details.retryClass = retryClass as RetryClass;
      if (BUSY_STATUSES.has(commandStatus))
        return retryLater('THROTTLED', error, BUSY_RETRY_AFTER_MS, details);
      return new HttpApiError('SMSC_REJECTED', error.message, { details, cause: error });
    }
    case ErrorCode.ProbeRejected: {
      const e = error as { commandStatus?: unknown; statusName?: unknown; rttMs?: unknown };
      const details: HttpErrorDetails = { ...base };
      if (typeof e.commandStatus === 'number') details.commandStatus = e.commandStatus;
      if (typeof e.statusName === 'string') details.statusName = e.statusName;
      if (typeof e.rttMs === 'number') details.rttMs = e.rttMs;
      return new HttpApiError('PROBE_REJECTED', error.message, { details, cause: error });
    }
    case ErrorCode.BridgeTooManyParts:
    case ErrorCode.BridgeInvalidAddress:
    case ErrorCode.BridgeInvalidHex:
    case ErrorCode.BridgeUnencodable:
    case ErrorCode.BridgeInvalidMessage:
      return fromPlanError(error);
    case ErrorCode.BridgeNoRoute:
      return new HttpApiError('NO_ROUTE', error.message, { cause: error });
    case ErrorCode.WebhookUrlRefused:
      return new HttpApiError('CALLBACK_URL_REFUSED', error.message, {
        details: { errors: [{ field: 'body/callbackUrl', message: error.message }] },
        cause: error,
      });
    case ErrorCode.StoreOpen:
    case ErrorCode.StoreClosed:
    case ErrorCode.StoreCommit:
      return new HttpApiError('STORE_UNAVAILABLE', 'the store cannot accept writes now', {
        headers: { 'retry-after': '1' },
        cause: error,
      });
    case ErrorCode.Stopped:
      return new HttpApiError('BIND_STOPPED', error.message, { details: base, cause: error });
    case ErrorCode.UnknownBind:
      return new HttpApiError('BIND_NOT_FOUND', error.message, { details: base, cause: error });
    case ErrorCode.BindExists:
      return new HttpApiError('BIND_EXISTS', error.message, { details: base, cause: error });
    case ErrorCode.BindReadOnly:
      return new HttpApiError('BIND_READ_ONLY', error.message, { details: base, cause: error });
    case ErrorCode.InvalidBindOptions: {
      const issues = (error as { issues?: unknown }).issues;
      const errors = Array.isArray(issues)
        ? issues.map((i: { field: string; message: string }) => ({
            field: `body/${i.field.replace(/\./g, '/')}`,
            message: i.message,
          }))
        : [];
      return new HttpApiError('INVALID_BIND_OPTIONS', error.message, {
        details: { ...base, errors },
        cause: error,
      });
    }
    default:
      return null;
  }
}
