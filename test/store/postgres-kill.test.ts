/**
 * Crashes against PostgreSQL (the SQLite one is kill.test.ts): a child acknowledges ids only
 * after their commit resolved; it is killed with SIGKILL mid-burst and the server is stopped as
 * a crash stops it (`pg_ctl stop -m immediate`: no checkpoint), then restarted from its WAL.
 * Every id the child acknowledged must be there. The server runs with fsync and
 * synchronous_commit on, as in production.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { connectPostgresStore } from '../../src/store/postgres-store.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../helpers/postgres-server.js';
import { message } from './store-suite.js';

const part = [{ index: 0, payload: Buffer.from('x') }];

const unavailable = postgresUnavailable();

describe.skipIf(unavailable !== undefined)('PostgreSQL store under a crash', () => {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres({ durable: true });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('keeps every write it acknowledged when the writer is killed with SIGKILL and the server crashes', async () => {
    if (server === undefined) throw new Error('no server');
    // The server's own database: a CREATE DATABASE costs seconds with fsync on.
    const url = server.url();
    // Migrate first, so the child starts writing at once.
    await (await connectPostgresStore({ url })).close();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'acking-writer.ts'), url, '32'],
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
    const enough = 300;
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        if (line === 'ready') return;
        acked.push(line);
        if (acked.length === enough) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => {
        if (acked.length < enough) reject(new Error(`the writer exited early: ${stderr}`));
      });
    });
    expect(await exited).toBe('SIGKILL');
    await server.crashAndRestart();

    const store = await connectPostgresStore({ url });
    try {
      const found = new Set<string>();
      await Promise.all(
        acked.map(async (id) => {
          if ((await store.getMessage(id)) !== undefined) found.add(id);
        }),
      );
      expect(acked.filter((id) => !found.has(id))).toEqual([]);
      expect(acked.length).toBeGreaterThanOrEqual(enough);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('fails with a retriable code while the server restarts, and works again after it, without a new store', async () => {
    if (server === undefined) throw new Error('no server');
    const store = await connectPostgresStore({ url: server.url() });
    try {
      await store.createMessage(message('before'), part);
      await server.crashAndRestart();
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
