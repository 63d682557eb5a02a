/**
 * The bind resources: list (paged, filtered by status), detail (configuration without secrets +
 * full health), a manual enquire_link probe (reference §11.2), and a forced rebind.
 */
import { decodeCursor, listBinds, SortedBinds } from '../bind-views.js';
import type { App, RouteContext } from '../context.js';
import { bindNotFound, HttpApiError } from '../errors.js';
import {
  BIND_LIST_DEFAULT_LIMIT,
  type BindConfig,
  BindIdParamsSchema,
  BindListQuerySchema,
  EnquireBodySchema,
  type ProbeResultBody,
} from '../schemas/bind.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import {
  EXAMPLE_CONFIG,
  EXAMPLE_HEALTH,
  EXAMPLE_PROBE,
  EXAMPLE_REBIND,
  EXAMPLE_SUMMARY_BACKOFF,
  EXAMPLE_SUMMARY_HEALTHY,
} from '../schemas/examples.js';
import { bodyValidatorCompiler } from '../validation.js';

const READ_SECURITY: Record<string, string[]>[] = [{}, { bearerAuth: [] }];
const WRITE_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }];

export function registerBindRoutes(app: App, ctx: RouteContext): void {
  const { registry, since } = ctx;
  const sorted = new SortedBinds(registry);

  app.get(
    '/binds',
    {
      schema: {
        operationId: 'listBinds',
        summary: 'List the binds with their status, a page at a time',
        description: `One summary per bind (status, the rule that decided it, run state, last RTT), ordered by id, at most \`limit\` (default ${BIND_LIST_DEFAULT_LIMIT}) per page; \`nextCursor\` fetches the next page and is null on the last. \`status\` keeps only binds with one of the given statuses, e.g. ?status=unhealthy,degraded.`,
        tags: ['binds'],
        security: READ_SECURITY,
        querystring: BindListQuerySchema,
        response: {
          200: jsonResponse('BindList', 'One page of binds, ordered by id.', {
            binds: {
              value: { binds: [EXAMPLE_SUMMARY_BACKOFF, EXAMPLE_SUMMARY_HEALTHY], nextCursor: null },
            },
            paged: {
              summary: 'A full page with more to come (?limit=1)',
              value: { binds: [EXAMPLE_SUMMARY_BACKOFF], nextCursor: 'aWQ6YmFja3Vw' },
            },
          }),
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'INTERNAL_ERROR'),
        },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      let after: string | null = null;
      if (cursor !== undefined) {
        after = decodeCursor(cursor);
        if (after === null) {
          const field = 'querystring/cursor';
          const message = 'is not a nextCursor of this listing';
          throw new HttpApiError('VALIDATION_FAILED', `${field} ${message}`, {
            details: { errors: [{ field, message }] },
          });
        }
      }
      return listBinds(
        sorted,
        since,
        {
          statuses: status === undefined ? null : new Set(status.flatMap((s) => s.split(','))),
          limit: limit ?? BIND_LIST_DEFAULT_LIMIT,
          after,
        },
        (id) => registry.ownerOf(id),
      );
    },
  );

  app.get(
    '/binds/:id',
    {
      schema: {
        operationId: 'getBind',
        summary: 'Configuration and full health of one bind',
        description:
          'The configuration without secrets (no password, no TLS key) and the full health model: last probe, RTT statistics, counters, last error, window, reconnect state.',
        tags: ['binds'],
        security: READ_SECURITY,
        params: BindIdParamsSchema,
        response: {
          200: jsonResponse('BindDetail', 'The bind.', {
            bound: { value: { id: 'main', config: EXAMPLE_CONFIG, health: EXAMPLE_HEALTH } },
          }),
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'BIND_NOT_FOUND', 'INTERNAL_ERROR'),
        },
      },
    },
    async (request) => {
      const bind = registry.get(request.params.id);
      if (!bind) throw bindNotFound(request.params.id);
      return {
        id: bind.id,
        config: ctx.redactBind(bind.options) as BindConfig,
        health: bind.health(),
      };
    },
  );

  app.post(
    '/binds/:id/enquire',
    {
      validatorCompiler: bodyValidatorCompiler,
      schema: {
        operationId: 'enquireBind',
        'x-body-optional': true,
        summary: 'Probe a bind now with enquire_link',
        description:
          'Sends an enquire_link on the bound session and answers with its round trip. A probe already in flight is joined instead of sending another. A new manual probe within minProbeIntervalMs of the previous one is refused with 429 and Retry-After. An answer that is generic_nack or carries an error status is 502 PROBE_REJECTED (the link is alive, the probe failed; details name the status).',
        tags: ['binds'],
        security: WRITE_SECURITY,
        params: BindIdParamsSchema,
        body: EnquireBodySchema,
        response: {
          200: jsonResponse('ProbeResult', 'The SMSC answered.', { answered: { value: EXAMPLE_PROBE } }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'INVALID_JSON',
            'UNAUTHORIZED',
            'BIND_NOT_FOUND',
            'NOT_BOUND',
            'BODY_TOO_LARGE',
            'UNSUPPORTED_MEDIA_TYPE',
            'PROBE_RATE_LIMITED',
            'INTERNAL_ERROR',
            'BIND_STOPPED',
            'PROBE_REJECTED',
            'PROBE_TIMEOUT',
          ),
        },
      },
    },
    async (request): Promise<ProbeResultBody> => {
      const bind = registry.get(request.params.id);
      if (!bind) throw bindNotFound(request.params.id);
      const timeoutMs = request.body?.timeoutMs;
      const result = await bind.probe(
        timeoutMs === undefined ? { trigger: 'manual' } : { timeoutMs, trigger: 'manual' },
      );
      return {
        ok: result.ok,
        rttMs: result.rttMs,
        sequenceNumber: result.sequenceNumber,
        commandStatus: result.commandStatus,
        at: new Date(result.at).toISOString(),
      };
    },
  );

  app.post(
    '/binds/:id/rebind',
    {
      schema: {
        operationId: 'rebindBind',
        summary: 'Force a fresh connection',
        description:
          'Closes the current session gracefully (unbind) and connects and binds again at once, without backoff. Answers 202 at once; follow GET /binds/{id}/health or GET /events for the outcome.',
        tags: ['binds'],
        security: WRITE_SECURITY,
        params: BindIdParamsSchema,
        response: {
          202: jsonResponse('RebindAccepted', 'The rebind started.', { accepted: { value: EXAMPLE_REBIND } }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'BIND_NOT_FOUND',
            'INTERNAL_ERROR',
            'BIND_STOPPED',
          ),
        },
      },
    },
    async (request, reply) => {
      const bind = registry.get(request.params.id);
      if (!bind) throw bindNotFound(request.params.id);
      const state = bind.state;
      if (state === 'idle' || state === 'stopping' || state === 'stopped') {
        throw new HttpApiError(
          'BIND_STOPPED',
          `bind ${bind.id} is ${state === 'idle' ? 'not started' : state}`,
          {
            details: { bindId: bind.id, state },
          },
        );
      }
      bind.rebind().catch((error: unknown) => {
        request.log.warn({ bind: bind.id, err: error }, `rebind of ${bind.id} failed`);
      });
      reply.code(202);
      return { id: bind.id, accepted: true, state: bind.state };
    },
  );
}
