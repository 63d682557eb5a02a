/**
 * The OpenAPI 3.1 document, generated from the route schemas by @fastify/swagger, served as
 * GET /openapi.json and browsable with Swagger UI at /docs. Shared schemas keep their $id as
 * their name under components.schemas.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import type { App } from '../context.js';
import { errorResponses } from '../schemas/common.js';

export const API_DESCRIPTION = [
  'SMPP-to-HTTP bridge: persistent SMPP binds with real health probes.',
  '',
  'Authentication: when API tokens are configured (auth.tokens or SMPP_BRIDGE_API_TOKENS), every POST needs',
  '`Authorization: Bearer <token>`; with auth.protectReads every GET does too, except /livez and /readyz.',
  'With no tokens configured, nothing is guarded and the service logs a warning at start.',
  '',
  'Errors always have the shape { code, message, details? }; docs/errors.md lists every code.',
].join('\n');

export async function installSwagger(app: App, version: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'smpp-bridge',
        version,
        description: API_DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'the smpp-bridge that serves this document' }],
      tags: [
        { name: 'binds', description: 'The configured SMPP binds.' },
        { name: 'health', description: 'Per-bind health checks.' },
        { name: 'ops', description: 'Liveness, readiness and metrics for Kubernetes and Prometheus.' },
        { name: 'events', description: 'Server-sent events.' },
        { name: 'inbound', description: 'Mobile-originated messages received from the SMSCs.' },
        { name: 'webhooks', description: 'The webhook outbox: deliveries and endpoints.' },
        { name: 'meta', description: 'This document.' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'One of the tokens of auth.tokens / SMPP_BRIDGE_API_TOKENS.',
          },
        },
      },
    },
    // An operation marked x-body-optional takes its body or none at all.
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      const openapiObject = documentObject.openapiObject;
      for (const item of Object.values(openapiObject.paths ?? {})) {
        for (const op of Object.values(item ?? {}) as Record<string, unknown>[]) {
          if (typeof op !== 'object' || op === null || !('x-body-optional' in op)) continue;
          delete op['x-body-optional'];
          const body = op.requestBody as { required?: boolean } | undefined;
          if (body) body.required = false;
        }
      }
      return openapiObject;
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.get(
    '/openapi.json',
    {
      schema: {
        operationId: 'getOpenApi',
        summary: 'This OpenAPI document',
        tags: ['meta'],
        security: [{}, { bearerAuth: [] }],
        response: {
          200: {
            description: 'The OpenAPI 3.1 document.',
            content: {
              'application/json': {
                schema: Type.Object({}, { additionalProperties: true }),
                examples: {
                  document: { value: { openapi: '3.1.0', info: { title: 'smpp-bridge', version: '0.1.0' } } },
                },
              },
            },
          },
          ...errorResponses('UNAUTHORIZED', 'INTERNAL_ERROR'),
        },
      },
    },
    async () => app.swagger(),
  );
}
