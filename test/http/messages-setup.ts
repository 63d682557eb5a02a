/**
 * The message routes over a real SqliteStore in a temp dir, a recording OutboundPort and a route
 * table from buildRouteTable: what POST/GET/DELETE /messages see when serve runs the message path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BindRegistry } from '../../src/binds/registry.js';
import type { MessagePath, OutboundPort } from '../../src/bridge/ports.js';
import { buildRouteTable, type RouteConfig } from '../../src/bridge/routing.js';
import { type App, type BuildAppDeps, buildApp } from '../../src/http/app.js';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { config } from './harness.js';

export class RecordingOutbound implements OutboundPort {
  readonly notified: string[] = [];
  queued = 0;
  notifyQueued(route: string): void {
    this.notified.push(route);
  }
  queuedParts(): number {
    return this.queued;
  }
}

export const ROUTES: RouteConfig[] = [
  { id: 'uk', binds: ['uk-1'], prefixes: ['44'] },
  { id: 'us', binds: ['us-1'], prefixes: ['1'] },
];

export interface MessagesFixture {
  app: App;
  store: Store;
  outbound: RecordingOutbound;
  path: MessagePath;
  close(): Promise<void>;
}

export async function messagesApp(
  options: { routes?: RouteConfig[]; deps?: Partial<BuildAppDeps>; store?: Partial<SqliteStoreOptions> } = {},
): Promise<MessagesFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-messages-'));
  const store = openSqliteStore({ path: join(dir, 'store.db'), ...options.store });
  const outbound = new RecordingOutbound();
  const table = buildRouteTable(options.routes ?? ROUTES, [
    { id: 'uk-1', bindType: 'transceiver' },
    { id: 'us-1', bindType: 'transmitter' },
  ]);
  const path: MessagePath = { store, outbound, routes: () => table };
  const registry = new BindRegistry();
  const app = await buildApp({ registry, config: config(), messagePath: path, ...options.deps });
  return {
    app,
    store,
    outbound,
    path,
    async close() {
      await app.close();
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
