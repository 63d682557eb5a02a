/**
 * The one desired bind set: the config file's binds (the demo bind included, serve adds it to the
 * config) plus the binds created through the API and kept in the store. serve reconciles the
 * registry to it at start, after every API change and on SIGHUP; a periodic refresh (other
 * replicas' changes) calls the same function.
 *
 * An API bind is checked exactly like a config-file entry: the same schema, the same defaults
 * (the config's current `defaults`, so a reload re-tunes API binds too), the same cross-field
 * rules and TLS file reading (relative paths from the config file's directory).
 */
import { dirname } from 'node:path';
import type { BindOptions } from '../binds/bind-options.js';
import { SmppInvalidBindOptionsError } from '../binds/errors.js';
import { bindOptionsIssues } from '../binds/validate-options.js';
import type { BindDefinition, Store } from '../store/store.js';
import { formatPath, type PathSegment } from './config-path.js';
import { bindCrossFieldIssues } from './config-rules.js';
import { resolveBind } from './resolve-config.js';
import { type BindInput, BindSchema } from './schema.js';
import { type PathIssue, schemaIssues } from './schema-issues.js';
import type { ServiceConfig } from './service-config.js';
import { readTlsFiles } from './tls-files.js';

/** Where a bind of the desired set comes from: the config file (read-only through the API) or the API. */
export type BindSource = 'config' | 'api';

export interface DesiredBinds {
  /** Config binds in file order, then API binds by id. */
  binds: BindOptions[];
  /** API binds the operator disabled (PATCH enabled: false): kept stopped. */
  disabled: Set<string>;
  source: Map<string, BindSource>;
  /** The stored definition of each API bind in the set. */
  definitions: Map<string, BindDefinition>;
  /** Stored definitions left out of the set, and why (a config bind has the id; it no longer validates). */
  skipped: { id: string; reason: string }[];
}

/** The part of the configuration an API bind is checked and resolved against. */
export type BindDefinitionContext = Pick<ServiceConfig, 'defaults' | 'source'>;

/**
 * An API bind definition (a config-file bind entry as JSON) → BindOptions, or
 * SmppInvalidBindOptionsError whose issues name each field (`port`, `reconnect.initialDelayMs`).
 */
export function parseBindDefinition(definition: unknown, context: BindDefinitionContext): BindOptions {
  const id =
    definition !== null &&
    typeof definition === 'object' &&
    typeof (definition as { id?: unknown }).id === 'string'
      ? (definition as { id: string }).id
      : undefined;
  const fail = (issues: readonly PathIssue[]): never => {
    throw new SmppInvalidBindOptionsError(
      id,
      issues.map(({ path, message }) => ({ field: fieldOf(path), message })),
    );
  };
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    fail([
      { path: [], message: 'expected a mapping of bind settings (id, host, port, systemId, password, ...)' },
    ]);
  }
  const baseDir = context.source === undefined ? process.cwd() : dirname(context.source);
  const tls = readTlsFiles([definition], baseDir);
  const issues = [
    ...schemaIssues(BindSchema, definition),
    ...bindCrossFieldIssues(definition, context.defaults),
    // readTlsFiles names paths as in a file (binds[0].tls.ca): keep the part inside the bind.
    ...tls.issues.map(({ path, message }) => ({ path: path.slice(2), message })),
  ];
  if (issues.length > 0) fail(issues);
  const options = resolveBind(definition as BindInput, context.defaults, tls.byBind.get(0) ?? {});
  const left = bindOptionsIssues(options);
  if (left.length > 0) throw new SmppInvalidBindOptionsError(id, left);
  return options;
}

/** `reconnect.initialDelayMs`; '' for the body itself. */
function fieldOf(path: readonly PathSegment[]): string {
  return formatPath(path);
}

/** The desired set: config binds, then the stored API binds that still validate and whose id is free. */
export async function desiredBinds(
  config: ServiceConfig,
  store: Pick<Store, 'listBindDefinitions'> | null,
): Promise<DesiredBinds> {
  const result: DesiredBinds = {
    binds: [...config.binds],
    disabled: new Set(),
    source: new Map(config.binds.map((b) => [b.id, 'config' as const])),
    definitions: new Map(),
    skipped: [],
  };
  if (store === null) return result;
  for (const stored of await store.listBindDefinitions()) {
    if (result.source.has(stored.id)) {
      result.skipped.push({
        id: stored.id,
        reason: `the config file has a bind '${stored.id}' too; the file's bind wins (delete the API bind to drop this warning)`,
      });
      continue;
    }
    let options: BindOptions;
    try {
      options = parseBindDefinition(stored.definition, config);
    } catch (error) {
      result.skipped.push({ id: stored.id, reason: (error as Error).message });
      continue;
    }
    result.binds.push(options);
    result.source.set(stored.id, 'api');
    result.definitions.set(stored.id, stored);
    if (!stored.enabled) result.disabled.add(stored.id);
  }
  return result;
}
