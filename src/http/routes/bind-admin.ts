/**
 * The bind management API: create (POST /binds), replace (PUT), change part of (PATCH, e.g.
 * `enabled: false`) and delete (DELETE) binds while the service runs. A body is a config-file bind
 * entry, checked by the config layer itself (422 INVALID_BIND_OPTIONS naming each field); binds
 * from the config file are read-only here (409 BIND_READ_ONLY). Passwords are write-only. Every
 * write is stored, then the registry is reconciled, before the answer.
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import type { App, BindAdmin, BindAdminEntry, RouteContext } from '../context.js';
import { bindNotFound, HttpApiError } from '../errors.js';
import type { BindConfig } from '../schemas/bind.js';
import { BindIdParamsSchema } from '../schemas/bind.js';
import { type ApiBindBody, EXAMPLE_API_BIND } from '../schemas/bind-admin.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';

const WRITE_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }];

/**
 * Params are checked as usual; the body passes as is (any JSON): the config layer checks it and
 * answers 422 with config-style field paths, not the generic 400.
 */
const bodyAsIs: FastifySchemaCompiler<TSchema> = (route) =>
  route.httpPart === 'body' ? (value: unknown) => ({ value }) : TypeBoxValidatorCompiler(route);

const WRITE_ERRORS = [
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'UNAUTHORIZED',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INVALID_BIND_OPTIONS',
  'INTERNAL_ERROR',
  'BINDS_UNAVAILABLE',
  'STORE_UNAVAILABLE',
] as const;

function view(entry: BindAdminEntry, redact: (options: BindAdminEntry['options']) => object): ApiBindBody {
  const d = entry.definition;
  return {
    id: entry.id,
    source: entry.source,
    enabled: entry.enabled,
    version: d?.version ?? null,
    createdAt: d === undefined ? null : new Date(d.createdAt).toISOString(),
    updatedAt: d === undefined ? null : new Date(d.updatedAt).toISOString(),
    config: redact(entry.options) as BindConfig,
  };
}

function mapping(body: unknown): Record<string, unknown> {
  if (body !== null && typeof body === 'object' && !Array.isArray(body))
    return body as Record<string, unknown>;
  const message = 'expected a JSON object of bind settings (id, host, port, systemId, password, ...)';
  throw new HttpApiError('INVALID_BIND_OPTIONS', `invalid bind: ${message}`, {
    details: { errors: [{ field: 'body', message }] },
  });
}

export function registerBindAdminRoutes(app: App, ctx: RouteContext): void {
  const admin = (): BindAdmin => {
    const port = ctx.bindAdmin;
    if (port === null || port.store === null) {
      throw new HttpApiError(
        'BINDS_UNAVAILABLE',
        'bind management needs the store, which does not run in this process',
        { headers: { 'retry-after': '5' } },
      );
    }
    return port;
  };
  const show = (entry: BindAdminEntry): ApiBindBody => view(entry, ctx.redactBind);

  app.post(
    '/binds',
    {
      validatorCompiler: bodyAsIs,
      schema: {
        operationId: 'createBind',
        summary: 'Create a bind',
        description:
          'Adds a bind and starts it (unless `enabled: false`). The body is a config-file bind entry, checked with the same schema, defaults and rules (422 INVALID_BIND_OPTIONS names each field). The bind is stored and survives restarts; answers after it was added to the running set. The password is never returned.',
        tags: ['binds'],
        security: WRITE_SECURITY,
        body: { $ref: 'BindInput#' },
        response: {
          201: jsonResponse('ApiBind', 'Created and added to the running set.', {
            created: { value: EXAMPLE_API_BIND },
          }),
          ...errorResponses(...WRITE_ERRORS, 'BIND_EXISTS'),
        },
      },
    },
    async (request, reply) => {
      const entry = await admin().create(mapping(request.body));
      reply.code(201).header('location', `/binds/${encodeURIComponent(entry.id)}`);
      return show(entry);
    },
  );

  app.put(
    '/binds/:id',
    {
      validatorCompiler: bodyAsIs,
      schema: {
        operationId: 'replaceBind',
        summary: 'Replace a bind created through the API',
        description:
          'The whole bind again (keys left out take their defaults). `password` may be left out to keep the stored one; `enabled` left out keeps the current state. Reconnects only when a connection setting changed (host, port, TLS, credentials, bind type, ...); tuning applies in place. Binds from the config file are read-only (409 BIND_READ_ONLY).',
        tags: ['binds'],
        security: WRITE_SECURITY,
        params: BindIdParamsSchema,
        body: { $ref: 'BindInput#' },
        response: {
          200: jsonResponse('ApiBind', 'Replaced and applied.', { replaced: { value: EXAMPLE_API_BIND } }),
          ...errorResponses(...WRITE_ERRORS, 'BIND_NOT_FOUND', 'BIND_READ_ONLY'),
        },
      },
    },
    async (request) => show(await admin().replace(request.params.id, mapping(request.body))),
  );

  app.patch(
    '/binds/:id',
    {
      validatorCompiler: bodyAsIs,
      schema: {
        operationId: 'patchBind',
        summary: 'Change part of a bind created through the API',
        description:
          'A JSON merge patch (RFC 7396): keys given replace theirs, null removes a key (back to its default), tls and reconnect merge key by key; the result is checked like a config-file bind. `{"enabled": false}` stops the bind (unbinding) and keeps it stopped, across restarts too, until `{"enabled": true}`. Binds from the config file are read-only (409 BIND_READ_ONLY).',
        tags: ['binds'],
        security: WRITE_SECURITY,
        params: BindIdParamsSchema,
        body: { $ref: 'BindPatch#' },
        response: {
          200: jsonResponse('ApiBind', 'Changed and applied.', {
            disabled: { value: { ...EXAMPLE_API_BIND, enabled: false, version: 2 } },
          }),
          ...errorResponses(...WRITE_ERRORS, 'BIND_NOT_FOUND', 'BIND_READ_ONLY'),
        },
      },
    },
    async (request) => show(await admin().patch(request.params.id, mapping(request.body))),
  );

  app.delete(
    '/binds/:id',
    {
      schema: {
        operationId: 'deleteBind',
        summary: 'Delete a bind created through the API',
        description:
          'Unbinds it gracefully, removes it from the running set and from the store; answers with the bind as it was. Binds from the config file are read-only (409 BIND_READ_ONLY).',
        tags: ['binds'],
        security: WRITE_SECURITY,
        params: BindIdParamsSchema,
        response: {
          200: jsonResponse('ApiBind', 'Deleted: the bind as it was.', {
            deleted: { value: EXAMPLE_API_BIND },
          }),
          ...errorResponses(
            'VALIDATION_FAILED',
            'UNAUTHORIZED',
            'BIND_NOT_FOUND',
            'BIND_READ_ONLY',
            'INTERNAL_ERROR',
            'BINDS_UNAVAILABLE',
            'STORE_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const port = admin();
      const entry = await port.get(request.params.id);
      if (entry === undefined) throw bindNotFound(request.params.id);
      await port.remove(request.params.id);
      return show(entry);
    },
  );
}
