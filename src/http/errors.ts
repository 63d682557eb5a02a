/**
 * The HTTP error codes of the REST API: one table of { status, meaning }, one error class, and
 * the mapping from the lower layers' errors (SMPP_ERR_*) to these codes. Every error response has
 * the shape { code, message, details? }; docs/errors.md lists this table for operators.
 */
import { ErrorCode, SmppError } from '../errors.js';

export const HTTP_ERRORS = {
  VALIDATION_FAILED: {
    status: 400,
    meaning: 'A path, query or body field is invalid; details name each field.',
  },
  INVALID_JSON: {
    status: 400,
    meaning: 'The body is not valid JSON although content-type says application/json.',
  },
  BAD_REQUEST: { status: 400, meaning: 'The request is malformed (bad URL encoding, wrong Content-Length).' },
  UNAUTHORIZED: { status: 401, meaning: 'A bearer token is required and was missing or not accepted.' },
  BIND_NOT_FOUND: { status: 404, meaning: 'No bind is configured with this id.' },
  NOT_FOUND: { status: 404, meaning: 'No route matches this method and path.' },
  NOT_BOUND: {
    status: 409,
    meaning: 'The bind has no bound SMPP session right now (connecting or backing off).',
  },
  BODY_TOO_LARGE: { status: 413, meaning: 'The body is larger than http.bodyLimitBytes.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The body is not application/json.' },
  PROBE_RATE_LIMITED: {
    status: 429,
    meaning:
      'A manual probe of this bind ran less than minProbeIntervalMs ago; Retry-After says when to retry.',
  },
  INTERNAL_ERROR: {
    status: 500,
    meaning: 'An unexpected error; the message is hidden and the server log has it.',
  },
  BIND_STOPPED: { status: 503, meaning: 'The bind is stopped or the service is shutting down.' },
  PROBE_REJECTED: {
    status: 502,
    meaning:
      'The SMSC answered the enquire_link with generic_nack or an error status (details.statusName): the link is alive, the probe failed.',
  },
  PROBE_TIMEOUT: { status: 504, meaning: 'The SMSC did not answer the enquire_link within the timeout.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Extra facts of an error response; every key is optional. */
export interface HttpErrorDetails {
  /** VALIDATION_FAILED: each offending field (`body/timeoutMs`) and what is wrong with it. */
  errors?: { field: string; message: string }[];
  bindId?: string;
  retryAfterMs?: number;
  timeoutMs?: number;
  state?: string;
  limitBytes?: number;
  /** PROBE_REJECTED: the answer's command_status, its name and the round trip. */
  commandStatus?: number;
  statusName?: string;
  rttMs?: number;
}

export interface HttpErrorBody {
  code: HttpErrorCode;
  message: string;
  details?: HttpErrorDetails;
}

/** An error the API answers with as is: its code decides the status. */
export class HttpApiError extends SmppError {
  readonly httpCode: HttpErrorCode;
  readonly statusCode: number;
  readonly details: HttpErrorDetails | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: { details?: HttpErrorDetails; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause, retriable: code === 'PROBE_RATE_LIMITED' });
    this.httpCode = code;
    this.statusCode = HTTP_ERRORS[code].status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toBody(): HttpErrorBody {
    return this.details === undefined
      ? { code: this.httpCode, message: this.message }
      : { code: this.httpCode, message: this.message, details: this.details };
  }
}

export function bindNotFound(id: string): HttpApiError {
  return new HttpApiError('BIND_NOT_FOUND', `no bind with id '${id}'`, { details: { bindId: id } });
}

/** Seconds for Retry-After: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/**
 * Maps an error of the bind or session layer to the API's error, or null when it is not one of
 * theirs (the caller then answers INTERNAL_ERROR).
 */
export function fromSmppError(error: unknown, bindId?: string): HttpApiError | null {
  if (error instanceof HttpApiError) return error;
  if (!(error instanceof SmppError)) return null;
  const base: HttpErrorDetails = bindId === undefined ? {} : { bindId };
  switch (error.code) {
    case ErrorCode.NotBound:
    case ErrorCode.ConnectionClosed: {
      const state = (error as { state?: unknown }).state;
      return new HttpApiError('NOT_BOUND', error.message, {
        details: typeof state === 'string' ? { ...base, state } : base,
        cause: error,
      });
    }
    case ErrorCode.ProbeTimeout: {
      const timeoutMs = (error as { timeoutMs?: unknown }).timeoutMs;
      return new HttpApiError('PROBE_TIMEOUT', error.message, {
        details: typeof timeoutMs === 'number' ? { ...base, timeoutMs } : base,
        cause: error,
      });
    }
    case ErrorCode.ProbeRateLimited: {
      const raw = (error as { retryAfterMs?: unknown }).retryAfterMs;
      const retryAfterMs = typeof raw === 'number' ? raw : 1000;
      return new HttpApiError('PROBE_RATE_LIMITED', error.message, {
        details: { ...base, retryAfterMs },
        headers: { 'retry-after': String(retryAfterSeconds(retryAfterMs)) },
        cause: error,
      });
    }
    case ErrorCode.ProbeRejected: {
      const e = error as { commandStatus?: unknown; statusName?: unknown; rttMs?: unknown };
      const details: HttpErrorDetails = { ...base };
      if (typeof e.commandStatus === 'number') details.commandStatus = e.commandStatus;
      if (typeof e.statusName === 'string') details.statusName = e.statusName;
      if (typeof e.rttMs === 'number') details.rttMs = e.rttMs;
      return new HttpApiError('PROBE_REJECTED', error.message, { details, cause: error });
    }
    case ErrorCode.Stopped:
      return new HttpApiError('BIND_STOPPED', error.message, { details: base, cause: error });
    case ErrorCode.UnknownBind:
      return new HttpApiError('BIND_NOT_FOUND', error.message, { details: base, cause: error });
    default:
      return null;
  }
}
