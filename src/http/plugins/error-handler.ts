/**
 * One error shape everywhere: { code, message, details? }. Maps fastify's own errors (body
 * parsing, validation, routing), the bind layer's SmppErrors and anything unexpected to the codes
 * of ../errors.ts. A 5xx never shows its message or stack; the log gets the full error.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fromSmppError, HttpApiError, type HttpErrorDetails } from '../errors.js';

interface ValidationEntry {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `body/timeoutMs must be <= 60000`-style entries from fastify's validation error. */
export function validationDetails(
  context: string,
  entries: readonly ValidationEntry[],
): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const seen = new Set<string>();
  const push = (field: string, message: string): void => {
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ field, message });
  };
  for (const entry of entries) {
    const path = `${context}${entry.instancePath ?? ''}`;
    if (entry.keyword === 'additionalProperties') {
      const extra = entry.params?.additionalProperties ?? entry.params?.additionalProperty;
      const names = Array.isArray(extra) ? extra : extra === undefined ? [] : [extra];
      for (const name of names) push(`${path}/${String(name)}`, 'is not an allowed property');
      continue;
    }
    // TypeBox reports a property that additionalProperties:false forbids as "schema is false".
    if (entry.keyword === 'boolean' && entry.message === 'schema is false') {
      push(path, 'is not an allowed property');
      continue;
    }
    push(path, entry.message ?? 'is invalid');
  }
  return out;
}

function bindIdOf(request: FastifyRequest): string | undefined {
  const params = request.params as { id?: unknown } | undefined;
  return typeof params?.id === 'string' ? params.id : undefined;
}

/** The API error for any error thrown while handling a request, or null for an unexpected one. */
export function toHttpError(
  error: unknown,
  request: FastifyRequest,
  bodyLimitBytes: number,
): HttpApiError | null {
  const fromBinds = fromSmppError(error, bindIdOf(request));
  if (fromBinds) return fromBinds;
  const e = error as Partial<FastifyError> & { validation?: ValidationEntry[]; validationContext?: string };
  if (Array.isArray(e.validation)) {
    const errors = validationDetails(e.validationContext ?? 'request', e.validation);
    const message = errors.map((x) => `${x.field} ${x.message}`).join(', ') || 'the request is invalid';
    return new HttpApiError('VALIDATION_FAILED', message, { details: { errors } });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpApiError('INVALID_JSON', e.message ?? 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      // A route may set its own limit (POST /messages/batch).
      const limitBytes = request.routeOptions?.bodyLimit ?? bodyLimitBytes;
      return new HttpApiError('BODY_TOO_LARGE', `the body is larger than ${limitBytes} bytes`, {
        details: { limitBytes },
      });
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = request.headers['content-type'];
      return new HttpApiError(
        'UNSUPPORTED_MEDIA_TYPE',
        `the body must be application/json${type ? ` (got '${String(type).slice(0, 80)}')` : ''}`,
      );
    }
    default:
      break;
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 404) return new HttpApiError('NOT_FOUND', e.message ?? 'not found');
  if (status >= 400 && status < 500 && typeof e.code === 'string' && e.code.startsWith('FST_')) {
    return new HttpApiError('BAD_REQUEST', e.message ?? 'bad request');
  }
  return null;
}

const INTERNAL = new HttpApiError('INTERNAL_ERROR', 'internal error');

export function sendError(reply: FastifyReply, error: HttpApiError): FastifyReply {
  reply.code(error.statusCode);
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.send(error.toBody());
}

/** Answers an unexpected error with INTERNAL_ERROR and logs it in full. */
function handle(error: unknown, request: FastifyRequest, reply: FastifyReply, bodyLimitBytes: number): void {
  // The client went away mid-request (an aborted upload): nobody to answer, nothing went wrong here.
  if (request.raw.aborted || (error as { code?: string }).code === 'ECONNRESET') {
    request.log.debug(
      { err: (error as Error).message },
      'client closed the connection before the request was read',
    );
    return;
  }
  const mapped = toHttpError(error, request, bodyLimitBytes);
  if (mapped) {
    sendError(reply, mapped);
    return;
  }
  request.log.error(
    { err: error, reqId: request.id, method: request.method, url: request.url },
    `unhandled error in ${request.method} ${request.routeOptions.url ?? request.url}`,
  );
  sendError(reply, INTERNAL);
}

/** Routing errors fastify raises before a route is chosen (bad URL encoding and the like). */
export function frameworkErrorHandler(bodyLimitBytes: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void =>
    handle(error, request, reply, bodyLimitBytes);
}

/**
 * Errors of Node's HTTP parser, before fastify sees a request (fastify's clientErrorHandler
 * option): headers or URL too large → 431 HEADERS_TOO_LARGE, headers not complete within
 * headersTimeout → 408 REQUEST_TIMEOUT, anything else (unknown method, a bare CR, a bad
 * Content-Length) → 400 BAD_REQUEST, each in the one error shape. The connection is closed.
 */
export function clientErrorHandler(
  this: { log?: { debug: (obj: object, msg: string) => void } } | undefined,
  error: Error & { code?: string },
  socket: Duplex,
): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const apiError =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new HttpApiError('REQUEST_TIMEOUT', 'the request headers did not arrive in time')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new HttpApiError('HEADERS_TOO_LARGE', 'the URL or the headers are too large')
        : new HttpApiError(
            'BAD_REQUEST',
            error.code === 'HPE_INVALID_METHOD' ? 'unknown HTTP method' : 'the request is not valid HTTP/1.1',
          );
  this?.log?.debug({ err: error, code: apiError.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(apiError.toBody());
    socket.write(
      `HTTP/1.1 ${apiError.statusCode} ${STATUS_CODES[apiError.statusCode]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * An HTTP/1.1 request without Host gets 400 BAD_REQUEST in the one error shape (Node's own check,
 * requireHostHeader, answers with an empty body, so the app turns it off and checks here).
 */
export function requireHost(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
    reply.header('connection', 'close');
    sendError(reply, new HttpApiError('BAD_REQUEST', 'an HTTP/1.1 request needs a Host header'));
    return;
  }
  done();
}

/**
 * The error handler and the 404 handler. `authorize`, when given, runs first for requests that
 * match no route, so a guarded API does not tell strangers which paths exist.
 */
export function installErrorHandling(
  app: FastifyInstance,
  bodyLimitBytes: number,
  authorize: ((request: FastifyRequest, reply: FastifyReply) => boolean) | null = null,
): void {
  app.setErrorHandler((error, request, reply) => handle(error, request, reply, bodyLimitBytes));
  app.setNotFoundHandler((request, reply) => {
    if (authorize !== null && !authorize(request, reply)) return;
    const path = request.url.split('?', 1)[0] ?? '/';
    sendError(reply, new HttpApiError('NOT_FOUND', `no route ${request.method} ${path.slice(0, 200)}`));
  });
}

export type { HttpErrorDetails };
