/**
 * A real crash, on both store backends: a child acknowledges ids only after their commit resolved
 * (fixtures/acking-writer.ts), is killed with SIGKILL in the middle of a burst, and every id it
 * acknowledged must be in the database afterwards. With PostgreSQL the server is then stopped as a
 * crash stops it (`pg_ctl stop -m immediate`: no checkpoint) and restarted from its WAL; it runs
 * with fsync and synchronous_commit on, as in production. SQLite runs with synchronous=FULL.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { connectPostgresStore } from '../../src/store/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../helpers/postgres-server.js';
import { message } from './store-suite.js';

const part = [{ index: 0, payload: Buffer.from('x') }];

interface CrashBackend {
  name: string;
  /** Why it cannot run here (the describe is skipped), or undefined. */
  unavailable: string | undefined;
  /** Ids acknowledged before the kill: enough that the burst is surely in full swing. */
  enough: number;
  timeoutMs: number;
  /** Starts what the store needs; returns what the writer opens (a file or a URL). */
  setup(): Promise<string>;
  open(target: string): Promise<Store>;
  /** After the writer was killed: what the crash does to the database server (none for a file). */
  crash(): Promise<void>;
  teardown(): Promise<void>;
}

function sqliteBackend(): CrashBackend {
  let dir: string | undefined;
  return {
    name: 'SQLite',
    unavailable: undefined,
    enough: 2_000,
    timeoutMs: 60_000,
    setup: async () => {
      dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-kill-'));
      return join(dir, 'store.db');
    },
    open: async (path) => openSqliteStore({ path }),
    crash: async () => {},
    teardown: async () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pgUnavailable = postgresUnavailable();
// One durable server for the file, started by the first test that needs it.
let pgServer: Promise<PostgresServer> | undefined;
const postgres = (): Promise<PostgresServer> => {
  pgServer ??= startPostgres({ durable: true });
  return pgServer;
};
afterAll(async () => {
  await (await pgServer)?.stop();
}, 60_000);

function postgresBackend(): CrashBackend {
  return {
    name: 'PostgreSQL',
    unavailable: pgUnavailable,
    enough: 300,
    timeoutMs: 120_000,
    setup: async () => {
      // The server's own database: a CREATE DATABASE costs seconds with fsync on.
      const url = (await postgres()).url();
      // Migrate first, so the child starts writing at once.
      await (await connectPostgresStore({ url })).close();
      return url;
    },
    open: (url) => connectPostgresStore({ url }),
    crash: async () => {
      await (await postgres()).crashAndRestart();
    },
    teardown: async () => {},
  };
}

describe.each([sqliteBackend(), postgresBackend()])('$name store under a crash', (backend) => {
  let target = '';
  beforeAll(async () => {
    if (backend.unavailable === undefined) target = await backend.setup();
  }, 120_000);
  afterAll(async () => {
    await backend.teardown();
  }, 60_000);

  it.skipIf(backend.unavailable !== undefined)(
    'keeps every write it acknowledged when the writer is killed with SIGKILL mid-burst',
    async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'acking-writer.ts'), target, '32'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const acked: string[] = [];
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.on('line', (line) => {
          if (line === 'ready') return;
          acked.push(line);
          if (acked.length === backend.enough) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.once('exit', () => {
          if (acked.length < backend.enough) reject(new Error(`the writer exited early: ${stderr}`));
        });
      });
      expect(await exited).toBe('SIGKILL');
      await backend.crash();

      const store = await backend.open(target);
      try {
        const found = new Set<string>();
        await Promise.all(
          acked.map(async (id) => {
            if ((await store.getMessage(id)) !== undefined) found.add(id);
          }),
        );
        expect(acked.filter((id) => !found.has(id))).toEqual([]);
        expect(acked.length).toBeGreaterThanOrEqual(backend.enough);
      } finally {
        await store.close();
      }
    },
    backend.timeoutMs,
  );
});

describe.skipIf(pgUnavailable !== undefined)('PostgreSQL store while its server restarts', () => {
  it('fails with a retriable code while the server restarts, and works again after it, without a new store', async () => {
    const pg = await postgres();
    const store = await connectPostgresStore({ url: pg.url() });
    try {
      await store.createMessage(message('before'), part);
      await pg.crashAndRestart();
      // The pooled connections died with the server: the first uses fail, retriably, and each
      // takes its broken connection out of the pool.
      const outcomes: (string | undefined)[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await store.createMessage(message(`after-${attempt}`), part);
          outcomes.push(undefined);
          break;
        } catch (error) {
          const e = error as { code?: string; retriable?: boolean };
          expect(e.retriable).toBe(true);
          outcomes.push(e.code);
        }
      }
      expect(outcomes.at(-1)).toBeUndefined();
      for (const code of outcomes.slice(0, -1)) {
        expect([ErrorCode.StoreCommit, ErrorCode.StoreUnavailable]).toContain(code);
      }
      expect((await store.getMessage('before'))?.id).toBe('before');
      expect((await store.healthCheck()).ok).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);
});
