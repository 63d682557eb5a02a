/**
 * The one check of numeric query parameters (src/http/validation.ts): any route's number or
 * integer query parameter, not only the health route's, refuses text that is not a finite decimal.
 */
import Fastify from 'fastify';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../src/http/plugins/error-handler.js';
import {
  AJV_OPTIONS,
  installQueryNumberGuard,
  isDecimalNumber,
  numericQueryKeys,
} from '../../src/http/validation.js';

describe('numeric query parameters', () => {
  it('takes finite decimals only', () => {
    for (const ok of ['0', '7', '-3', '12.5', '0.25', '007']) expect(isDecimalNumber(ok)).toBe(true);
    for (const bad of [
      '',
      ' ',
      ' 1',
      '1 ',
      '0x10',
      'Infinity',
      '-Infinity',
      'NaN',
      '1e3',
      '1e400',
      '.5',
      '5.',
      '+5',
      '1_000',
      `1${'0'.repeat(400)}`,
    ]) {
      expect(isDecimalNumber(bad)).toBe(false);
    }
  });

  it('finds the number and integer properties of a query schema', () => {
    const schema = Type.Object({
      limit: Type.Integer(),
      maxAgeMs: Type.Number(),
      cursor: Type.String(),
      strict: Type.Boolean(),
    });
    expect(numericQueryKeys(schema)).toEqual(['limit', 'maxAgeMs']);
    expect(numericQueryKeys(undefined)).toEqual([]);
  });

  it('guards a route registered later, such as a list with ?limit', async () => {
    const app = Fastify({ ajv: AJV_OPTIONS });
    installErrorHandling(app, 1024);
    installQueryNumberGuard(app);
    app.get(
      '/items',
      { schema: { querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1 })) }) } },
      async (request) => ({ limit: (request.query as { limit?: number }).limit ?? null }),
    );
    await app.ready();
    try {
      expect((await app.inject({ url: '/items?limit=20' })).json()).toEqual({ limit: 20 });
      expect((await app.inject({ url: '/items' })).json()).toEqual({ limit: null });
      for (const bad of ['%20', '0x10', 'Infinity', '1e400']) {
        const res = await app.inject({ url: `/items?limit=${bad}` });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({
          code: 'VALIDATION_FAILED',
          message: 'querystring/limit must be a finite decimal number',
          details: { errors: [{ field: 'querystring/limit', message: 'must be a finite decimal number' }] },
        });
      }
      // Decimal but not an integer: Ajv's own check still answers.
      expect((await app.inject({ url: '/items?limit=2.5' })).json().code).toBe('VALIDATION_FAILED');
    } finally {
      await app.close();
    }
  });
});
