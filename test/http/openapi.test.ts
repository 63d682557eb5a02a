import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HTTP_ERRORS } from '../../src/http/errors.js';
import {
  firstDifference,
  generateOpenApiDocument,
  OPENAPI_YAML_PATH,
  renderOpenApiYaml,
} from '../../src/http/openapi.js';
import { type Harness, startHarness } from './harness.js';

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { required?: boolean; content: Record<string, { examples?: object; example?: unknown }> };
  responses: Record<
    string,
    {
      description: string;
      content?: Record<string, { schema?: Record<string, unknown>; examples?: object; example?: unknown }>;
    }
  >;
}

let doc: {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
};
let h: Harness;

beforeAll(async () => {
  doc = (await generateOpenApiDocument('0.0.0-test')) as typeof doc;
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

function operations(): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => [path, method, op] as [string, string, Operation]),
  );
}

describe('openapi/openapi.yaml', () => {
  it('matches a fresh generation from the routes (run npm run openapi:generate on drift)', async () => {
    const committed = readFileSync(OPENAPI_YAML_PATH, 'utf8');
    const fresh = await renderOpenApiYaml();
    const diff = firstDifference(fresh, committed);
    expect(
      diff,
      diff ? `line ${diff.line}: generated '${diff.expected}', committed '${diff.actual}'` : '',
    ).toBeNull();
  });

  it('is OpenAPI 3.1 YAML that parses to the generated document', async () => {
    const committed = parse(readFileSync(OPENAPI_YAML_PATH, 'utf8')) as typeof doc & {
      info: { version: string };
    };
    expect(committed.openapi).toBe('3.1.0');
    const current = (await generateOpenApiDocument(committed.info.version)) as typeof doc;
    expect(committed).toEqual(current);
  });
});

describe('the OpenAPI document', () => {
  it('documents every route of the API', () => {
    expect(
      operations()
        .map(([path, method]) => `${method.toUpperCase()} ${path}`)
        .sort(),
    ).toEqual(
      [
        'GET /binds',
        'POST /binds',
        'GET /binds/{id}',
        'PUT /binds/{id}',
        'PATCH /binds/{id}',
        'DELETE /binds/{id}',
        'GET /binds/{id}/health',
        'GET /binds/{id}/trace',
        'GET /binds/{id}/trace.pcap',
        'GET /binds/{id}/trace/stream',
        'GET /events',
        'GET /inbound',
        'GET /inbound/{id}',
        'GET /livez',
        'GET /metrics',
        'GET /openapi.json',
        'GET /readyz',
        'POST /binds/{id}/enquire',
        'POST /binds/{id}/rebind',
        'POST /messages',
        'POST /messages/batch',
        'GET /messages',
        'GET /messages/{id}',
        'GET /messages/stats',
        'DELETE /messages/{id}',
        'GET /webhooks/deliveries',
        'GET /webhooks/endpoints',
        'POST /webhooks/deliveries/{id}/retry',
        'POST /webhooks/endpoints/{id}/enable',
      ].sort(),
    );
  });

  it('gives each operation a unique operationId, a summary, tags, and examples for every response', () => {
    const ids = new Set<string>();
    for (const [path, method, op] of operations()) {
      const where = `${method} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId!), where).toBe(false);
      ids.add(op.operationId!);
      expect(op.summary, where).toBeTruthy();
      expect(op.tags?.length, where).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${where} ${status}`).toBeTruthy();
        const media = Object.values(response.content ?? {});
        expect(media.length, `${where} ${status}`).toBeGreaterThan(0);
        for (const m of media) expect(m.examples ?? m.example, `${where} ${status}`).toBeDefined();
      }
    }
  });

  it('documents every error status with the Error schema and an example of each code', () => {
    for (const [path, method, op] of operations()) {
      expect(op.responses['500'], `${method} ${path}`).toBeDefined();
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const media = response.content?.['application/json'];
        if (media?.schema?.$ref !== '#/components/schemas/Error') continue;
        const codes = Object.keys(media.examples ?? {});
        expect(codes.length).toBeGreaterThan(0);
        for (const code of codes) {
          expect(HTTP_ERRORS[code as keyof typeof HTTP_ERRORS].status, `${method} ${path} ${code}`).toBe(
            Number(status),
          );
        }
      }
    }
    const enquire = doc.paths['/binds/{id}/enquire']!.post!;
    const codes = Object.values(enquire.responses).flatMap((r) =>
      Object.keys(r.content?.['application/json']?.examples ?? {}),
    );
    for (const code of [
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
      'PROBE_TIMEOUT',
    ]) {
      expect(codes).toContain(code);
    }
  });

  it('requires a bearer token on POST, PUT, PATCH and DELETE routes, accepts one on reads, and none on the probes', () => {
    for (const [path, method, op] of operations()) {
      if (method === 'post' || method === 'put' || method === 'patch' || method === 'delete') {
        expect(op.security, path).toEqual([{ bearerAuth: [] }]);
        expect(op.responses['401'], path).toBeDefined();
      } else if (path === '/livez' || path === '/readyz') {
        expect(op.security, path).toEqual([]);
        expect(op.responses['401'], path).toBeUndefined();
      } else {
        expect(op.security, path).toEqual([{}, { bearerAuth: [] }]);
        expect(op.responses['401'], path).toBeDefined();
      }
    }
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
  });

  it('marks the enquire body optional', () => {
    expect(doc.paths['/binds/{id}/enquire']!.post!.requestBody?.required).toBe(false);
  });

  it('names the shared schemas by their $id', () => {
    expect(Object.keys(doc.components.schemas!).sort()).toEqual([
      'ApiBind',
      'BatchResult',
      'BindConfig',
      'BindDetail',
      'BindHealth',
      'BindInput',
      'BindList',
      'BindPatch',
      'BindSummary',
      'Error',
      'HealthCheck',
      'InboundList',
      'InboundMessage',
      'Liveness',
      'MessageAccepted',
      'MessageDetail',
      'MessageList',
      'MessageStats',
      'MessageSummary',
      'ProbeResult',
      'Readiness',
      'RebindAccepted',
      'Snapshot',
      'Trace',
      'TraceEntry',
      'Transition',
      'WebhookDelivery',
      'WebhookDeliveryList',
      'WebhookEndpoint',
      'WebhookEndpointList',
    ]);
  });
});

describe('GET /openapi.json and /docs', () => {
  it('serves the document and the Swagger UI', async () => {
    const app = await h.app({ version: '0.0.0-test' });
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const served = res.json() as typeof doc;
    expect(served.openapi).toBe('3.1.0');
    expect(Object.keys(served.paths).sort()).toEqual(Object.keys(doc.paths).sort());
    const ui = await app.inject({ url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    expect(ui.body).toContain('swagger');
  });
});
