/**
 * Request validation. Path params and query strings use fastify's default Ajv compiler, which
 * coerces their text to the schema's types and is the fastest on the readiness path. Bodies use
 * TypeBox without coercion ("5000" is not a number, true is not 1), and an absent body passes so
 * optional bodies can be left out (fastify hands an absent body to the validator as null).
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';

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
