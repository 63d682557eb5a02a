/**
 * Bearer-token authentication. Tokens are compared in constant time: each configured token and
 * the presented one are hashed to SHA-256 digests of equal length and compared with
 * crypto.timingSafeEqual, against every configured token without stopping at a match.
 *
 * POST routes are guarded whenever tokens are configured. With protectReads, every GET is too,
 * except /livez and /readyz (the kubelet sends no token) and the dashboard's static files (the
 * page asks for the token and sends it with its API calls). With no tokens configured nothing is
 * guarded, and a warning says so once at start.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpApiError } from '../errors.js';
import { UI_ROUTES } from '../routes/ui.js';
import { sendError } from './error-handler.js';

export interface AuthOptions {
  tokens: string[];
  protectReads: boolean;
}

/** Routes that stay open even with protectReads: the kubelet's probes. */
export const ALWAYS_OPEN_ROUTES: ReadonlySet<string> = new Set(['/livez', '/readyz']);

const REALM = 'Bearer realm="smpp-bridge"';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** A checker that tells whether a presented token is one of `tokens`, in time independent of both. */
export function createTokenChecker(tokens: readonly string[]): (presented: string) => boolean {
  const digests = tokens.filter((t) => t.length > 0).map(digest);
  return (presented) => {
    const given = digest(presented);
    let match = false;
    // No short-circuit: every digest is compared whatever the outcome of the others.
    for (const d of digests) match = timingSafeEqual(given, d) || match;
    return match;
  };
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

function isRead(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** Answers 401 and returns false when the request lacks an accepted token; true when it may go on. */
export type Authorize = (request: FastifyRequest, reply: FastifyReply) => boolean;

/** Whether a route needs a token: every non-read, and every read but the probes with protectReads. */
export function routeNeedsToken(method: string, url: string | undefined, protectReads: boolean): boolean {
  if (!isRead(method)) return true;
  if (!protectReads) return false;
  return url === undefined || !(ALWAYS_OPEN_ROUTES.has(url) || UI_ROUTES.has(url));
}

/**
 * Guards the routes that need a token with an onRequest hook of their own (added as each route
 * is declared, so open routes such as the probes run no auth code at all). Returns the check for
 * requests that match no route, or null when no tokens are configured.
 */
export function installAuth(
  app: FastifyInstance,
  options: AuthOptions,
  log: FastifyBaseLogger,
): Authorize | null {
  const tokens = options.tokens.filter((t) => t.length > 0);
  if (tokens.length === 0) {
    log.warn(
      'no API tokens configured (auth.tokens / SMPP_BRIDGE_API_TOKENS): write routes (enquire, rebind, messages, bind management) are open to anyone who can reach the HTTP port',
    );
    return null;
  }
  const accepts = createTokenChecker(tokens);
  const protectReads = options.protectReads;
  const authorize: Authorize = (request, reply) => {
    const token = bearerToken(request.headers.authorization);
    if (token === null) {
      sendError(
        reply,
        new HttpApiError('UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)', {
          headers: { 'www-authenticate': REALM },
        }),
      );
      return false;
    }
    if (!accepts(token)) {
      sendError(
        reply,
        new HttpApiError('UNAUTHORIZED', 'the bearer token is not accepted', {
          headers: { 'www-authenticate': `${REALM}, error="invalid_token"` },
        }),
      );
      return false;
    }
    return true;
  };
  const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (authorize(request, reply)) done();
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => routeNeedsToken(m, route.url, protectReads))) return;
    const existing =
      route.onRequest === undefined
        ? []
        : Array.isArray(route.onRequest)
          ? route.onRequest
          : [route.onRequest];
    route.onRequest = [hook, ...existing] as typeof route.onRequest;
  });
  return (request, reply) =>
    !routeNeedsToken(request.method, undefined, protectReads) || authorize(request, reply);
}
