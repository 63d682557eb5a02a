/**
 * GET /binds/:id/health: the readiness path of one bind. Cheap by design: no full health model,
 * a response schema (fast-json-stringify), and the checks in bind-views.ts.
 */
import { Type } from 'typebox';
import { checkBind } from '../bind-views.js';
import type { App, RouteContext } from '../context.js';
import { bindNotFound } from '../errors.js';
import { BindIdParamsSchema } from '../schemas/bind.js';
import { errorResponses, plainJsonResponse } from '../schemas/common.js';
import {
  EXAMPLE_CHECK_PASSING,
  EXAMPLE_CHECK_TOO_OLD,
  EXAMPLE_CHECK_UNHEALTHY,
} from '../schemas/examples.js';

export const HealthQuerySchema = Type.Object(
  {
    strict: Type.Optional(Type.Boolean({ description: 'Degraded fails too (503).', default: false })),
    maxLatencyMs: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'Fails when the last enquire_link round trip took longer than this (passes while no probe has been answered yet).',
      }),
    ),
    maxAgeMs: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'Fails when the last proof of life (answered probe or any PDU received) is older than this, or the bind is not bound.',
      }),
    ),
    detail: Type.Optional(
      Type.Boolean({
        description:
          'Adds the full health model under `health` (last probe, RTT statistics, counters, last error, window). Off by default so readiness probes stay cheap.',
        default: false,
      }),
    ),
  },
  { additionalProperties: false },
);

export function registerHealthRoutes(app: App, ctx: RouteContext): void {
  const { registry, since } = ctx;
  app.get(
    '/binds/:id/health',
    {
      schema: {
        operationId: 'getBindHealth',
        summary: 'Health check of one bind (for readiness probes)',
        description:
          '200 when the bind is healthy or degraded, 503 when unhealthy or stopped. Query options add conditions; when one fails the answer is 503 and failedCheck names it. Suited to a per-bind readiness URL, e.g. /binds/main/health?strict=true&maxAgeMs=60000.',
        tags: ['health'],
        security: [{}, { bearerAuth: [] }],
        params: BindIdParamsSchema,
        querystring: HealthQuerySchema,
        response: {
          200: plainJsonResponse('HealthCheck', 'The bind passes.', {
            healthy: { value: EXAMPLE_CHECK_PASSING },
          }),
          503: plainJsonResponse(
            'HealthCheck',
            'The bind fails: unhealthy or stopped, or a query condition failed (see failedCheck).',
            {
              unhealthy: { summary: 'Not bound', value: EXAMPLE_CHECK_UNHEALTHY },
              stale: { summary: 'maxAgeMs failed', value: EXAMPLE_CHECK_TOO_OLD },
            },
          ),
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'BIND_NOT_FOUND', 'INTERNAL_ERROR'),
        },
      },
    },
    (request, reply) => {
      const bind = registry.get(request.params.id);
      if (!bind) throw bindNotFound(request.params.id);
      const check = checkBind(bind, since, request.query);
      if (!check.passing) reply.code(503);
      return reply.send(check);
    },
  );
}
