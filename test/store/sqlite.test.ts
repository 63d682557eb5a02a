import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  SCHEMA_VERSION_TABLE,
  SQLITE_TYPES,
} from '../../src/store/schema.js';
import { openDatabase, prepare } from '../../src/store/sqlite-native.js';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import { describeStore, message, V10_FINGERPRINTS, v10FingerprintRows } from './store-suite.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'smpp-bridge-store-'));
}

describeStore('sqlite', async ({ now, retentionDays }) => {
  const dir = tempDir();
  const path = join(dir, 'nested', 'store.db');
  return {
    // A generous time budget per group: the contract is about grouping, and a loaded machine
    // must not split groups by preempting the test (the budget has its own test below).
    open: async () => openSqliteStore({ path, now, retentionDays, maxGroupMs: 1_000 }),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

/** A database with the schema as version `version` left it (an upgrade test's starting point). */
function databaseAtVersion(path: string, version: number): ReturnType<typeof openDatabase> {
  const raw = openDatabase(path);
  raw.exec(SCHEMA_VERSION_TABLE);
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
    for (const sql of m.statements(SQLITE_TYPES)) raw.exec(sql);
    prepare(raw, 'INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, 0)').run(
      m.version,
      m.name,
    );
  }
  return raw;
}
describe('SqliteStore', () => {
  const dirs: string[] = [];
  const closers: (() => Promise<void> | void)[] = [];

  /** The store opened on an old database (it migrates), and a read-only look at the same file. */
  function openUpgraded(path: string) {
    const store = openSqliteStore({ path, now: () => 10_000 });
    closers.push(() => store.close());
    const check = openDatabase(path, { readonly: true });
    closers.push(() => {
      check.close();
    });
    return { store, check };
  }

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(options: Partial<SqliteStoreOptions> = {}) {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'store.db');
    const store = openSqliteStore({ path, maxGroupMs: 1_000, ...options });
    closers.push(() => store.close());
    return { store, path };
  }

  const part = [{ index: 0, payload: Buffer.from('x') }];

  it('runs in WAL mode; by default (full) answers a write only after fsyncing the WAL off the event loop, not with normal', async () => {
    const { store, path } = open();
    await store.createMessage(message('m1'), part);
    const raw = openDatabase(path, { readonly: true });
    closers.push(() => {
      raw.close();
    });
    expect(prepare(raw, 'PRAGMA journal_mode').pluck().get()).toBe('wal');
    // RETURNING builds a temporary table per statement: in memory on both connections.
    for (const name of ['writer', 'reader'] as const) {
      const db = (store as unknown as Record<string, Database.Database>)[name]!;
      expect(prepare(db, 'PRAGMA temp_store').pluck().get()).toBe(2);
    }
    // SQLite itself never fsyncs on COMMIT (NORMAL): with 'full' the store fsyncs the WAL off
    // the event loop before answering (wal-sync.ts), which the sync count shows.
    const writer = (store as unknown as { writer: Database.Database }).writer;
    expect(prepare(writer, 'PRAGMA synchronous').pluck().get()).toBe(1);
    const walSync = (store as unknown as { walSync?: { sync(): Promise<void> } }).walSync;
    expect(walSync).toBeDefined();
    let syncs = 0;
    const sync = walSync!.sync.bind(walSync);
    walSync!.sync = () => {
      syncs++;
      return sync();
    };
    await store.createMessage(message('m2'), part);
    expect(syncs).toBe(1);
    const normal = open({ synchronous: 'normal', fsyncOffLoop: true }).store;
    expect((normal as unknown as { walSync?: unknown }).walSync).toBeUndefined();
    // fsyncOffLoop: false: SQLite fsyncs in COMMIT (synchronous=FULL), on the event loop.
    const plain = (open({ fsyncOffLoop: false }).store as unknown as { writer: Database.Database }).writer;
    expect(prepare(plain, 'PRAGMA synchronous').pluck().get()).toBe(2);
  });

  it('a reader never sees a commit before its fsync is done (and so before its writer is answered)', async () => {
    const { store } = open();
    const walSync = (store as unknown as { walSync: { start(): Promise<void> } }).walSync;
    const start = walSync.start.bind(walSync);
    // Hold every fdatasync until released.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    closers.unshift(() => release());
    walSync.start = () => held.then(start);
    let answered = false;
    const write = store.createMessage(message('m1'), part).then(() => {
      answered = true;
    });
    // The commit has returned (the group ran), the fsync is held.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    let seen: unknown = 'not yet';
    const read = store.getMessage('m1').then((m) => {
      seen = m?.id;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toBe('not yet');
    release();
    await Promise.all([write, read]);
    expect(answered).toBe(true);
    expect(seen).toBe('m1');
    // With nothing in flight, a read does not wait.
    walSync.start = start;
    expect((await store.getMessage('m1'))?.id).toBe('m1');
  });

  it('records the schema version it migrated to, once', async () => {
    const { store, path } = open();
    await store.close();
    const again = openSqliteStore({ path });
    closers.push(() => again.close());
    const raw = openDatabase(path, { readonly: true });
    closers.push(() => {
      raw.close();
    });
    const rows = prepare(raw, 'SELECT version FROM schema_version ORDER BY version').all() as {
      version: number;
    }[];
    expect(rows.map((r) => r.version)).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('upgrades a version 7 database with parts and webhook events in flight: the queue, the claims, the receipts and the listings still find them', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'v7.db');
    // The schema as version 7 left it, with a message of four parts: queued, claimed (expired),
    // sending, submitted.
    const raw = databaseAtVersion(path, 7);
    raw.exec(`INSERT INTO messages (id, route, source_addr, dest_addr, encoding, body, parts_count, status,
        receipt_policy, created_at, updated_at) VALUES ('m1', 'r', 'ACME', '447700900123', 'gsm7', x'41', 4, 'queued', 'final', 1, 1)`);
    raw.exec(`INSERT INTO bind_leases (bind_id, owner, epoch, expires_at) VALUES ('old', 'gone', 1, 1)`);
    raw.exec(`INSERT INTO message_parts (message_id, part_index, queue, state, payload, bind_id, epoch, smsc_message_id,
        not_before, claimed_until, updated_at) VALUES
        ('m1', 0, 'r', 'submitted', x'41', 'old', 1, 'abc', 1, NULL, 1),
        ('m1', 1, 'r', 'sending', x'41', 'old', 1, NULL, 1, NULL, 1),
        ('m1', 2, 'r', 'claimed', x'41', 'old', 1, NULL, 1, 5, 1),
        ('m1', 3, 'r', 'queued', x'41', NULL, NULL, NULL, 1, NULL, 1)`);
    raw.exec(`INSERT INTO webhook_events (event_id, message_id, endpoint, type, payload, state, attempts,
        next_attempt_at, created_at, updated_at) VALUES
        ('evt_a', 'm1', 'crm', 'message.submitted', '{}', 'delivered', 1, 1, 1, 1),
        ('evt_b', 'm1', 'crm', 'message.delivered', '{}', 'dead', 2, 1, 1, 1),
        ('evt_c', NULL, 'crm', 'message.received', '{}', 'pending', 0, 1, 1, 1)`);
    raw.close();

    const { store, check } = openUpgraded(path);
    const indexes = prepare(
      check,
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message_parts' AND sql IS NOT NULL ORDER BY name",
    )
      .pluck()
      .all();
    // Webhook events: listed by state, claimed, pruned once old, through the new indexes.
    expect((await store.listWebhooks({ state: 'dead', limit: 10 })).events.map((e) => e.eventId)).toEqual([
      'evt_b',
    ]);
    expect((await store.claimWebhooks(10, 30_000, { endpoint: 'crm' })).map((e) => e.eventId)).toEqual([
      'evt_c',
    ]);
    expect(indexes).toEqual([
      'message_parts_bind',
      'message_parts_claimed',
      'message_parts_open',
      'message_parts_queued',
      'message_parts_smsc_id',
    ]);
    // A new owner of the bind: the part that was sending becomes unknown, the claim goes back.
    const lease = (await store.acquireBindLease('old', 'new', 60_000))!;
    expect(lease.recovered).toEqual(['m1']);
    const states = async () => (await store.listParts('m1')).map((p) => p.state);
    expect(await states()).toEqual(['submitted', 'unknown', 'queued', 'queued']);
    // The receipt of the submitted part finds it by its SMSC id.
    const receipt = await store.recordReceipt({
      smscMessageId: 'abc',
      bindId: 'old',
      stat: 'DELIVRD',
      err: '000',
      doneAt: 9_000,
    });
    expect(receipt?.index).toBe(0);
    expect(receipt?.receiptStat).toBe('DELIVRD');
  });

  it('upgrades a version 10 database: the fingerprints of the window still recognise a redelivery, under their integer key', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'v10.db');
    const raw = databaseAtVersion(path, 10);
    const { low, high, expired } = V10_FINGERPRINTS;
    const insert = prepare(
      raw,
      'INSERT INTO inbound_fingerprints (fingerprint, seen_at, expires_at) VALUES (?, ?, ?)',
    );
    insert.run(low, 1, 60_000);
    insert.run(high, 1, 60_000);
    insert.run(expired, 1, 5_000);
    raw.close();

    const { store, check } = openUpgraded(path);
    const keys = prepare(check, 'SELECT key, digest FROM inbound_fingerprints ORDER BY key')
      .safeIntegers()
      .all() as { key: bigint; digest: Buffer }[];
    // The SQL conversion gives the key fingerprint-key.ts computes (the top bit set: negative).
    expect(keys.map((r) => [r.key, r.digest.toString('hex')])).toEqual(v10FingerprintRows());
    expect(await store.recordInboundFingerprint(low, 60_000)).toBe(false);
    expect(await store.recordInboundFingerprint(high, 60_000)).toBe(false);
    expect(await store.recordInboundFingerprint(expired, 60_000)).toBe(true);
  });

  it('refuses a database written by a newer schema', async () => {
    const { store, path } = open();
    await store.close();
    const raw = openDatabase(path);
    prepare(raw, 'INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
      999,
      'future',
      0,
    );
    raw.close();
    let code: string | undefined;
    try {
      openSqliteStore({ path });
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe(ErrorCode.StoreMigration);
  });

  it('refuses an in-memory database (it needs a reader and a writer on one file)', () => {
    expect(() => openSqliteStore({ path: ':memory:' })).toThrow(
      expect.objectContaining({ code: ErrorCode.StoreOpen }),
    );
  });

  it('rejects every caller of a group whose commit fails, and writes none of them', async () => {
    let failNext = false;
    const { store } = open({
      beforeCommit: () => {
        if (failNext) {
          failNext = false;
          throw new Error('disk I/O error');
        }
      },
    });
    failNext = true;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.createMessage(message(`f${i}`), part)),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const reasons = results.map((r) =>
      r.status === 'rejected' ? (r.reason as { code: string; retriable: boolean }) : undefined,
    );
    expect(reasons.every((r) => r?.code === ErrorCode.StoreCommit && r.retriable)).toBe(true);
    for (let i = 0; i < 10; i++) expect(await store.getMessage(`f${i}`)).toBeUndefined();
    expect(store.stats().failedCommits).toBe(1);
    // The next group commits normally.
    await store.createMessage(message('after'), part);
    expect(await store.getMessage('after')).toBeDefined();
  });

  it('caps a group at maxGroupSize units', async () => {
    const { store } = open({ maxGroupSize: 8 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.createMessage(message(`c${i}`), part)));
    const stats = store.stats();
    expect(stats.maxGroupSize).toBeLessThanOrEqual(8);
    expect(stats.commits).toBeGreaterThanOrEqual(7);
    expect(stats.units).toBe(50);
  });

  it('reports unhealthy once closed', async () => {
    const { store } = open();
    expect((await store.healthCheck()).ok).toBe(true);
    await store.close();
    const health = await store.healthCheck();
    expect(health.ok).toBe(false);
    expect(health.error).toMatch(/closed/);
  });
});

describe('SqliteStore native objects', () => {
  it('a process that opened and closed stores survives the garbage collections V8 starts itself (Node 24: no abort in Statement::~Statement)', async () => {
    const dir = tempDir();
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'gc-after-close.ts'), dir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('exit', (c, s) => resolve([c, s])),
      );
      expect({ code, signal, stdout, stderr: stderr.split('\n').slice(0, 4).join('\n') }).toEqual({
        code: 0,
        signal: null,
        stdout: 'survived\n',
        stderr: '',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
