/**
 * Process-level probes for Kubernetes: /livez (the process and its event loop are alive) and
 * /readyz (enough binds pass by the configured policy). Both stay open without a token.
 */
import { Type } from 'typebox';
import type { App, RouteContext } from '../context.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import { EXAMPLE_LIVE, EXAMPLE_NOT_READY, EXAMPLE_READY, EXAMPLE_STALLED } from '../schemas/examples.js';

export function registerOpsRoutes(app: App, ctx: RouteContext): void {
  const { registry, config, loop } = ctx;

  app.get(
    '/livez',
    {
      schema: {
        operationId: 'getLiveness',
        summary: 'Liveness: the process and its event loop',
        description:
          'Answers 200 while the event loop runs; 503 when it stalled for longer than the threshold within the last measuring window or two. Never looks at the binds: an SMSC outage must not restart the pod.',
        tags: ['ops'],
        security: [],
        response: {
          200: jsonResponse('Liveness', 'Alive.', { ok: { value: EXAMPLE_LIVE } }),
          503: jsonResponse('Liveness', 'The event loop stalled recently.', {
            stalled: { value: EXAMPLE_STALLED },
          }),
          ...errorResponses('INTERNAL_ERROR'),
        },
      },
    },
    (_request, reply) => {
      const delay = loop.delay();
      const stalled = delay.max > ctx.maxEventLoopDelayMs;
      if (stalled) reply.code(503);
      return reply.send({
        status: stalled ? 'stalled' : 'ok',
        eventLoopDelayMs: delay,
        maxEventLoopDelayMs: ctx.maxEventLoopDelayMs,
        uptimeSeconds: Math.round((performance.now() - ctx.startedAt) / 10) / 100,
      });
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: enough binds pass by the configured policy',
        description:
          'Policies: all binds pass, any one, a majority (quorum), or at least readiness.minHealthy. Healthy and degraded binds pass; with strict=true only healthy ones. Answers 503 at once once shutdown began (draining), and while the message store cannot accept writes (`store.ok` false).',
        tags: ['ops'],
        security: [],
        querystring: Type.Object(
          {
            strict: Type.Optional(Type.Boolean({ description: 'Degraded binds fail too.', default: false })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: jsonResponse('Readiness', 'Ready.', { ready: { value: EXAMPLE_READY } }),
          503: jsonResponse('Readiness', 'Not ready (or draining).', {
            notReady: { value: EXAMPLE_NOT_READY },
          }),
          ...errorResponses('VALIDATION_FAILED', 'INTERNAL_ERROR'),
        },
      },
    },
    (request, reply) => {
      const strict = request.query.strict === true;
      const result = registry.readiness(config.readiness.policy, config.readiness.minHealthy, strict);
      // A process whose store cannot accept writes would answer 202 to nothing durable: not ready.
      const store = ctx.messagePath?.storeHealth?.();
      const ready = result.ready && (store === undefined || store.ok);
      if (!ready) reply.code(503);
      return reply.send({
        ...result,
        ready,
        draining: registry.isDraining,
        strict,
        ...(store ? { store } : {}),
      });
    },
  );
}
