/**
 * Schemas of the bind management API (POST/PUT/PATCH/DELETE /binds). The bodies are config-file
 * bind entries: the document shows the config schema (src/config/schema.ts), and the routes check
 * a body with the config layer itself (422 INVALID_BIND_OPTIONS naming each field), so the body
 * schemas here are for the document only.
 */
import { type Static, Type } from 'typebox';
import { BindSchema } from '../../config/schema.js';
import type { BindConfig } from './bind.js';
import { Nullable, StringEnum } from './common.js';
import { EXAMPLE_CONFIG } from './examples.js';

/** A copy of a schema for the document: the config layer's `expected` wording dropped. */
function forDocument(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema, (key, value) => (key === 'expected' ? undefined : value)));
}

const bindEntry = forDocument(BindSchema) as { properties: Record<string, unknown>; required?: string[] };
const enabled = {
  type: 'boolean',
  description: 'false keeps the bind stopped (across restarts too) until set true again. Default true.',
};

export const EXAMPLE_BIND_BODY = {
  id: 'partner-b',
  host: 'smsc.partner-b.example',
  port: 2775,
  systemId: 'acme',
  password: 's3cret',
  bindType: 'trx',
  enquireLinkIntervalMs: 15000,
};

/** POST /binds and PUT /binds/{id}: a config-file bind entry, plus `enabled` (shared: referenced by $id). */
export const BindInputSchema = {
  ...bindEntry,
  $id: 'BindInput',
  title: 'BindInput',
  description:
    "A bind exactly as in the config file (binds[]): the same keys, defaults (the config file's `defaults`) and rules. `password` is write-only: never returned; on PUT it may be left out to keep the stored one.",
  properties: { ...bindEntry.properties, enabled },
  examples: [EXAMPLE_BIND_BODY],
};

/** PATCH /binds/{id}: a JSON merge patch of the bind (RFC 7396). */
export const BindPatchSchema = {
  $id: 'BindPatch',
  title: 'BindPatch',
  type: 'object',
  additionalProperties: false,
  description:
    'A JSON merge patch (RFC 7396) of the stored bind: keys given replace theirs, null removes a key (back to the default), mappings (tls, reconnect) merge key by key. The result is checked like a config-file bind.',
  properties: Object.fromEntries(
    Object.keys({ ...bindEntry.properties, enabled }).map((key) => [
      key,
      { description: `as in BindInput, or null to remove ${key} (back to its default)` },
    ]),
  ),
  examples: [{ enabled: false }, { enquireLinkIntervalMs: 20000, reconnect: { maxDelayMs: 30000 } }],
};

export const EXAMPLE_API_BIND = {
  id: 'partner-b',
  source: 'api',
  enabled: true,
  version: 1,
  createdAt: '2025-01-01T12:00:00.000Z',
  updatedAt: '2025-01-01T12:00:00.000Z',
  config: {
    ...EXAMPLE_CONFIG,
    id: 'partner-b',
    host: 'smsc.partner-b.example',
    enquireLinkIntervalMs: 15000,
  },
};

export const ApiBindSchema = Type.Object(
  {
    id: Type.String({ description: 'The bind id.', examples: ['partner-b'] }),
    source: StringEnum(['config', 'api'] as const, {
      description: 'config: from the config file (read-only here); api: created through POST /binds.',
    }),
    enabled: Type.Boolean({ description: 'false: kept stopped (PATCH enabled: false).' }),
    version: Nullable('integer', {
      description: 'API binds: 1 when created, one more per change. null for config binds.',
    }),
    createdAt: Nullable('string', { format: 'date-time', description: 'API binds; null for config binds.' }),
    updatedAt: Nullable('string', { format: 'date-time', description: 'API binds; null for config binds.' }),
    config: Type.Unsafe<BindConfig>({ $ref: 'BindConfig#' }),
  },
  {
    $id: 'ApiBind',
    title: 'ApiBind',
    description: 'A bind as the bind management API shows it: the configuration without secrets.',
    additionalProperties: false,
    examples: [EXAMPLE_API_BIND],
  },
);
export type ApiBindBody = Static<typeof ApiBindSchema>;
