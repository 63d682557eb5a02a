/**
 * The bind set serve runs, and the writes of the bind management API: binds from the config file
 * (read-only through the API) plus binds created through the API, kept in the store. Every change
 * recomputes the one desired set (desiredBinds) and reconciles the registry to it; so do start,
 * SIGHUP (reload) and any periodic refresh. Applies run one after another, each on fresh data.
 *
 * Passwords are write-only: they are stored (the store is trusted like the config file) and
 * given to the bind, never returned and never logged (only ids are).
 */
import {
  SmppBindExistsError,
  SmppBindReadOnlyError,
  SmppInvalidBindOptionsError,
  SmppUnknownBindError,
} from '../binds/errors.js';
import type { BindRegistry, ReconcileResult } from '../binds/registry.js';
import {
  type BindSource,
  type DesiredBinds,
  desiredBinds,
  parseBindDefinition,
} from '../config/desired-binds.js';
import type { ServiceConfig } from '../config/service-config.js';
import { ErrorCode, SmppError } from '../errors.js';
import type { BindAdmin, BindAdminEntry } from '../http/context.js';
import type { Logger } from '../logger.js';
import type { BindDefinition, Store } from '../store/store.js';

/** A write that lost a race with another writer (replica) is tried again on the fresh version this often. */
const MAX_WRITE_ATTEMPTS = 5;

export interface BindCatalogDeps {
  registry: BindRegistry;
  /** Where API binds live; null: only the config's binds (the API's writes answer 503). */
  store: Store | null;
  config: ServiceConfig;
  logger?: Logger;
}

/** A bind as the API shows it (no secrets: `options` goes through the redacting view). */
export interface CatalogEntry extends BindAdminEntry {
  source: BindSource;
  /** API binds only. */
  definition?: BindDefinition;
}

/** What POST/PUT take besides the bind's own keys. */
const META_KEYS = ['enabled'] as const;

export class BindCatalog implements BindAdmin {
  private readonly registry: BindRegistry;
  readonly store: Store | null;
  private readonly logger: Logger | undefined;
  private currentConfig: ServiceConfig;
  private last: DesiredBinds | null = null;
  private applying: Promise<unknown> = Promise.resolve();
  /** What refresh() last applied (ids, versions, enabled), or null before the first refresh. */
  private stamp: string | null = null;

  constructor(deps: BindCatalogDeps) {
    this.registry = deps.registry;
    this.store = deps.store;
    this.currentConfig = deps.config;
    this.logger = deps.logger;
  }

  get config(): ServiceConfig {
    return this.currentConfig;
  }

  /** Where a bind of the last applied set comes from; undefined when it is not in it. */
  sourceOf(id: string): BindSource | undefined {
    return this.last?.source.get(id);
  }

  /**
   * Recomputes the desired set (config + store) and reconciles the registry to it. Runs after the
   * apply before it. Stored binds that cannot run (their id is in the config file, they no longer
   * validate) are left out and logged.
   */
  apply(): Promise<ReconcileResult> {
    const run = this.applying.then(async () => {
      const desired = await desiredBinds(this.currentConfig, this.store);
      for (const { id, reason } of desired.skipped) {
        this.logger?.error({ bind: id }, `API bind '${id}' is not run: ${reason}`);
      }
      const result = await this.registry.reconcile(desired.binds, { disabled: desired.disabled });
      this.last = desired;
      const changed =
        result.added.length + result.removed.length + result.rebound.length + result.tuned.length;
      if (changed > 0) {
        this.logger?.info(
          {
            added: result.added,
            removed: result.removed,
            rebound: result.rebound,
            tuned: result.tuned,
            disabled: [...desired.disabled],
          },
          `bind set applied: ${result.added.length} added, ${result.removed.length} removed, ${result.rebound.length} reconnected, ${result.tuned.length} retuned`,
        );
      }
      return result;
    });
    this.applying = run.catch(() => {});
    return run;
  }

  /**
   * Applies the stored binds again when they changed since the last refresh (another replica's
   * API write): every replica converges on the same desired set. One read when nothing changed.
   */
  async refresh(): Promise<boolean> {
    if (this.store === null) return false;
    const stored = await this.store.listBindDefinitions();
    const stamp = stored.map((d) => `${d.id}@${d.version}:${d.enabled ? 1 : 0}`).join(',');
    if (stamp === this.stamp) return false;
    await this.apply();
    this.stamp = stamp;
    return true;
  }

  /** A new configuration (SIGHUP): the same reconcile, with the new file's binds and defaults. */
  reload(config: ServiceConfig): Promise<ReconcileResult> {
    this.currentConfig = config;
    return this.apply();
  }

  /** The bind as the API shows it, or undefined. */
  async get(id: string): Promise<CatalogEntry | undefined> {
    const source = this.sourceOf(id);
    const bind = this.registry.get(id);
    if (source === 'config' && bind) return { id, source, enabled: true, options: bind.options };
    const definition = await this.requireStore().getBindDefinition(id);
    if (definition === undefined) return undefined;
    return {
      id,
      source: 'api',
      enabled: definition.enabled,
      definition,
      options: parseBindDefinition(definition.definition, this.currentConfig),
    };
  }

  /** POST /binds: a new API bind (`enabled` defaults to true). Runs it before resolving. */
  async create(body: Record<string, unknown>): Promise<CatalogEntry> {
    const store = this.requireStore();
    const { definition, enabled } = splitBody(body);
    const options = parseBindDefinition(definition, this.currentConfig);
    if (this.isConfigBind(options.id)) throw new SmppBindExistsError(options.id);
    let stored: BindDefinition;
    try {
      stored = await store.putBindDefinition({ id: options.id, definition, enabled: enabled ?? true }, null);
    } catch (error) {
      if ((error as SmppError).code === ErrorCode.StoreConflict) throw new SmppBindExistsError(options.id);
      throw error;
    }
    this.logger?.info({ bind: options.id }, `bind '${options.id}' created through the API`);
    await this.apply();
    return { id: options.id, source: 'api', enabled: stored.enabled, definition: stored, options };
  }

  /**
   * PUT /binds/:id: the whole bind again. `password` may be left out: the stored one stays (the
   * API never returns it). `enabled` left out keeps the current state.
   */
  replace(id: string, body: Record<string, unknown>): Promise<CatalogEntry> {
    return this.update(id, (current) => {
      const { definition, enabled } = splitBody(body);
      if (definition.id === undefined) definition.id = id;
      if (definition.password === undefined && current.definition.password !== undefined) {
        definition.password = current.definition.password;
      }
      return { definition, enabled: enabled ?? current.enabled };
    });
  }

  /**
   * PATCH /binds/:id: a JSON merge patch (RFC 7396) of the stored bind: keys given replace, null
   * removes a key (back to the default), mappings (tls, reconnect) merge key by key.
   */
  patch(id: string, body: Record<string, unknown>): Promise<CatalogEntry> {
    return this.update(id, (current) => {
      const { definition: changes, enabled } = splitBody(body);
      const definition = mergePatch(current.definition, changes);
      return { definition, enabled: enabled ?? current.enabled };
    });
  }

  /** DELETE /binds/:id: removes the API bind (it unbinds) and forgets it. */
  async remove(id: string): Promise<void> {
    const store = this.requireStore();
    if (this.isConfigBind(id)) throw new SmppBindReadOnlyError(id);
    if (!(await store.deleteBindDefinition(id))) throw new SmppUnknownBindError(id);
    this.logger?.info({ bind: id }, `bind '${id}' deleted through the API`);
    await this.apply();
  }

  private async update(
    id: string,
    change: (current: BindDefinition) => { definition: Record<string, unknown>; enabled: boolean },
  ): Promise<CatalogEntry> {
    const store = this.requireStore();
    if (this.isConfigBind(id)) throw new SmppBindReadOnlyError(id);
    for (let attempt = 1; ; attempt++) {
      const current = await store.getBindDefinition(id);
      if (current === undefined) throw new SmppUnknownBindError(id);
      const next = change(current);
      if (next.definition.id !== id) {
        throw new SmppInvalidBindOptionsError(id, [
          { field: 'id', message: `must stay '${id}' (create a new bind to change the id)` },
        ]);
      }
      const options = parseBindDefinition(next.definition, this.currentConfig);
      try {
        const stored = await store.putBindDefinition({ id, ...next }, current.version);
        this.logger?.info({ bind: id, version: stored.version }, `bind '${id}' changed through the API`);
        await this.apply();
        return { id, source: 'api', enabled: stored.enabled, definition: stored, options };
      } catch (error) {
        // Another writer (request or replica) changed it meanwhile: apply this change to theirs.
        if ((error as SmppError).code !== ErrorCode.StoreConflict || attempt >= MAX_WRITE_ATTEMPTS)
          throw error;
      }
    }
  }

  /** Config binds (and the demo bind) are read-only through the API. */
  private isConfigBind(id: string): boolean {
    return this.currentConfig.binds.some((b) => b.id === id);
  }

  private requireStore(): Store {
    if (this.store === null) {
      throw new SmppError(ErrorCode.StoreClosed, 'bind management needs the store, which does not run');
    }
    return this.store;
  }
}

/** The bind's own keys, and `enabled` apart (it is not a config-file key). */
function splitBody(body: Record<string, unknown>): {
  definition: Record<string, unknown>;
  enabled?: boolean;
} {
  const definition: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if ((META_KEYS as readonly string[]).includes(key)) continue;
    Object.defineProperty(definition, key, { value, enumerable: true, writable: true, configurable: true });
  }
  const enabled = body.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw new SmppInvalidBindOptionsError(typeof body.id === 'string' ? body.id : undefined, [
      { field: 'enabled', message: 'expected true or false' },
    ]);
  }
  return enabled === undefined ? { definition } : { definition, enabled };
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** RFC 7396: null removes, mappings merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): Record<string, unknown> {
  return mergeValue(target, patch) as Record<string, unknown>;
}

function mergeValue(target: unknown, patch: unknown): unknown {
  if (!isMapping(patch)) return patch;
  const out: Record<string, unknown> = isMapping(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else
      Object.defineProperty(out, key, {
        value: mergeValue(out[key], value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}
