/**
 * The store of the message path. The process wiring calls `openStore({ ...config.store })`
 * (or `connectStore`, which also waits until a PostgreSQL store is connected and migrated);
 * everything else depends on the `Store` interface only.
 *
 * `url: postgres://…` selects the PostgreSQL store (several replicas on one database);
 * without it, the SQLite file at `path` (one replica).
 */
import { openPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { Store } from './store.js';

export type { PostgresStoreOptions } from './postgres-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export * from './store.js';

export type StoreOptions = SqliteStoreOptions & Partial<Omit<PostgresStoreOptions, keyof SqliteStoreOptions>>;

/**
 * Opens (creating and migrating as needed) the store. Throws SMPP_ERR_STORE_*. A PostgreSQL
 * store connects and migrates in the background: its first operations wait for that, and fail
 * with its error.
 */
export function openStore(options: StoreOptions): Store {
  if (options.url !== undefined && options.url !== '') {
    return openPostgresStore({ ...pgOptions(options), url: options.url });
  }
  return openSqliteStore(options);
}

/** `openStore`, then waits until the store is usable (connected and migrated). */
export async function connectStore(options: StoreOptions): Promise<Store> {
  const store = openStore(options);
  if ('ready' in store && typeof store.ready === 'function') {
    try {
      await store.ready();
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }
  return store;
}

function pgOptions(options: StoreOptions): Omit<PostgresStoreOptions, 'url'> {
  const { retentionDays, now, poolSize, writeLanes, maxGroupSize, maxGroupMs, beforeCommit } = options;
  return { retentionDays, now, poolSize, writeLanes, maxGroupSize, maxGroupMs, beforeCommit };
}
