/**
 * One access-log line per request, written by us instead of fastify's pair of lines: mutations
 * and every non-2xx answer at info; successful probe and scrape GETs (/livez, /readyz,
 * /binds/:id/health, /metrics) at debug, so Kubernetes and Prometheus do not flood the log;
 * everything else at info. Headers are never logged (the Authorization header carries a token),
 * and sensitive query values (`?access_token=…`) are redacted from the URL. The request's child
 * logger already carries reqId, so the line does not repeat it.
 */
import type { FastifyInstance } from 'fastify';
import { redactUrl } from '../request-logger.js';

export const QUIET_ROUTES: ReadonlySet<string> = new Set([
  '/livez',
  '/readyz',
  '/binds/:id/health',
  '/metrics',
]);

interface LevelAware {
  isLevelEnabled?: (level: string) => boolean;
}

export function installAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const method = request.method;
    const statusCode = reply.statusCode;
    const route = request.routeOptions.url;
    const quiet =
      (method === 'GET' || method === 'HEAD') &&
      statusCode >= 200 &&
      statusCode < 300 &&
      route !== undefined &&
      QUIET_ROUTES.has(route);
    const level = quiet ? 'debug' : 'info';
    const log = request.log;
    if ((log as LevelAware).isLevelEnabled?.(level) ?? true) {
      const responseTimeMs = Math.round(reply.elapsedTime * 100) / 100;
      const url = redactUrl(request.url);
      log[level](
        {
          method,
          url,
          route: route ?? null,
          statusCode,
          responseTimeMs,
          remoteAddress: request.ip,
        },
        `${method} ${url} ${statusCode} ${responseTimeMs} ms`,
      );
    }
    done();
  });
}
