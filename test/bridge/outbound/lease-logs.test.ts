/**
 * When a replica's share moves, thousands of binds change hands in one lease pass: the engine says
 * so in one line per pass (the count and the first binds), not one line per bind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { withBindDefaults } from '../../../src/binds/bind-options.js';
import { BindRegistry } from '../../../src/binds/registry.js';
import { OutboundEngine } from '../../../src/bridge/outbound/engine.js';
import type { LeaseManager } from '../../../src/bridge/outbound/leases.js';
import { outboundOptions } from '../../../src/bridge/outbound/options.js';
import { buildRouteTable } from '../../../src/bridge/routing.js';
import { FakeClock } from '../../../src/session/clock.js';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import type { BindLease } from '../../../src/store/store.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('outbound engine lease logs', () => {
  it('logs the leases lost in one pass as one warning with the count and the first 20 binds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-lease-logs-'));
    const store = openSqliteStore({ path: join(dir, 'store.db') });
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const binds = Array.from({ length: 50 }, (_, i) =>
      withBindDefaults({ id: `b${i}`, host: '127.0.0.1', port: 1, systemId: `s${i}`, password: 'x' }),
    );
    const registry = new BindRegistry({});
    await registry.reconcile(binds); // never started: the engine only needs to know them
    cleanups.push(() => registry.stopAll(100));
    let held = true;
    const leases: LeaseManager = {
      owner: 'me',
      ttlMs: 30_000,
      acquire: async (bindId) => ({ bindId, owner: 'me', epoch: 1, expiresAt: Number.MAX_SAFE_INTEGER }),
      renew: async (lease: BindLease) => (held ? lease : undefined),
      release: async () => {},
    };
    const lines: { level: number; msg: string; binds?: number; first?: string[] }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const clock = new FakeClock();
    const engine = new OutboundEngine({
      store,
      registry,
      routes: buildRouteTable(undefined, binds),
      options: outboundOptions({}),
      leases,
      clock,
      logger,
    });
    await engine.start();
    cleanups.push(() => engine.stop(100));

    held = false; // another replica took them all
    engine.leasesChanged();
    clock.advance(0);
    for (let i = 0; i < 200 && !lines.some((l) => /leases lost/.test(l.msg)); i++)
      await new Promise((r) => setImmediate(r));
    const lost = lines.filter((l) => /lease/.test(l.msg));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ binds: 50 });
    expect(lost[0]?.first).toHaveLength(20);
  });
});
