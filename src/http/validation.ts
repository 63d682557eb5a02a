/**
 * Request validation. Path params and query strings use fastify's default Ajv compiler, which
 * coerces their text to the schema's types and is the fastest on the readiness path. Bodies use
 * TypeBox without coercion ("5000" is not a number, true is not 1), and an absent body passes so
 * optional bodies can be left out (fastify hands an absent body to the validator as null).
 * Numbers in query strings must be finite decimals (installQueryNumberGuard), for every route.
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { HttpApiError } from './errors.js';

/** Ajv options for params and query strings: coerce, but never drop unknown keys silently. */
export const AJV_OPTIONS = {
  customOptions: { removeAdditional: false as const, coerceTypes: 'array' as const },
};

/** The validatorCompiler of routes with a JSON body. */
export const bodyValidatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const check = TypeBoxValidatorCompiler(route);
  if (route.httpPart !== 'body') return check;
  return (value: unknown) => (value === null || value === undefined ? { value: undefined } : check(value));
};

/**
 * What a number in a query string may look like: decimal digits, an optional fraction, an
 * optional minus sign. Ajv's coercion alone would read ' ' as 0 and accept '0x10', 'Infinity'
 * and '1e400'.
 */
export const DECIMAL_NUMBER = /^-?\d+(?:\.\d+)?$/;

/** Whether query text is a finite decimal number. */
export function isDecimalNumber(text: string): boolean {
  return DECIMAL_NUMBER.test(text) && Number.isFinite(Number(text));
}

/** The keys of a querystring schema whose type is number or integer. */
export function numericQueryKeys(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties;
  if (properties === undefined || properties === null) return [];
  const keys: string[] = [];
  for (const [key, property] of Object.entries(properties)) {
    const types = Array.isArray(property?.type) ? property.type : [property?.type];
    if (types.includes('number') || types.includes('integer')) keys.push(key);
  }
  return keys;
}

type PreValidation = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;

/**
 * Every numeric query parameter of every route, checked in one place: a route registered after
 * this is installed whose querystring schema has a number or integer property gets a
 * preValidation hook that refuses any text other than a finite decimal number with 400
 * VALIDATION_FAILED naming the parameter (`querystring/maxLatencyMs`), before Ajv coerces it.
 */
export function installQueryNumberGuard(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const keys = numericQueryKeys(route.schema?.querystring);
    if (keys.length === 0) return;
    const guard: PreValidation = (request, _reply, done) => {
      const query = request.query as Record<string, unknown> | undefined;
      const errors: { field: string; message: string }[] = [];
      for (const key of keys) {
        const raw = query?.[key];
        if (raw === undefined) continue;
        const values = Array.isArray(raw) ? raw : [raw];
        if (values.some((v) => typeof v === 'string' && !isDecimalNumber(v))) {
          errors.push({ field: `querystring/${key}`, message: 'must be a finite decimal number' });
        }
      }
      if (errors.length === 0) {
        done();
        return;
      }
      done(
        new HttpApiError('VALIDATION_FAILED', errors.map((e) => `${e.field} ${e.message}`).join(', '), {
          details: { errors },
        }),
      );
    };
    const existing = route.preValidation;
    route.preValidation =
      existing === undefined ? [guard] : [guard, ...(Array.isArray(existing) ? existing : [existing])];
  });
}
