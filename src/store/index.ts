/**
 * The store of the message path. The process wiring calls `openStore({ ...config.store })`;
 * everything else depends on the `Store` interface only.
 */
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { Store } from './store.js';

export type { SqliteStoreOptions } from './sqlite-store.js';
export * from './store.js';

/** Opens (creating and migrating as needed) the store at `options.path`. Throws SMPP_ERR_STORE_*. */
export function openStore(options: SqliteStoreOptions): Store {
  return openSqliteStore(options);
}
