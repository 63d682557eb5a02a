import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckpointLog } from '../../src/store/checkpointer.js';
import { openDatabase, prepare } from '../../src/store/sqlite-native.js';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import { message } from './store-suite.js';

/** A small threshold keeps the tests short: 50 frames (~200 KiB of WAL) ask for a checkpoint. */
const THRESHOLD = 50;
/**
 * The hard bound (the writer checkpoints itself past it) is far off here: forking the child through
 * tsx takes a second or more on a loaded machine, while these writes grow the WAL fast. It has
 * its own test.
 */
const HARD_FACTOR = 1000;
/** How far the WAL may grow once the child runs (the default hard bound: 16 thresholds). */
const BOUND_FRAMES = 16 * THRESHOLD;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Frames in the WAL now and frames copied, from the WAL index in `-shm` (little-endian here). */
function walIndex(path: string): { mxFrame: number; nBackfill: number } {
  const shm = readFileSync(`${path}-shm`);
  return { mxFrame: shm.readUInt32LE(16), nBackfill: shm.readUInt32LE(96) };
}

function capture(): CheckpointLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug: () => undefined, warn: (_obj, msg) => warnings.push(msg) };
}

describe('WAL checkpoints in a child process', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(options: Partial<SqliteStoreOptions> = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-ckpt-'));
    dirs.push(dir);
    const path = join(dir, 'store.db');
    const logger = capture();
    const store = openSqliteStore({
      path,
      logger,
      maxGroupMs: 1_000,
      checkpointOptions: { thresholdFrames: THRESHOLD, hardLimitFactor: HARD_FACTOR, respawnBackoffMs: 50 },
      ...options,
    });
    stores.push(store);
    return { store, path, logger };
  }

  const payload = Buffer.alloc(2000, 7);
  let seq = 0;
  /** `batches` groups of 20 messages with a 2 KB part each (each group several WAL frames). */
  async function write(store: SqliteStore, batches: number): Promise<void> {
    for (let b = 0; b < batches; b++) {
      await Promise.all(
        Array.from({ length: 20 }, () => store.createMessage(message(`m${seq++}`), [{ index: 0, payload }])),
      );
    }
  }

  /** Writes until `check` holds (eventually; a generous bound for a loaded machine). */
  async function writeUntil(store: SqliteStore, check: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + 30_000;
    while (!check()) {
      if (performance.now() > deadline) throw new Error(`not within 30 s of writes: ${what}`);
      await write(store, 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('a store that never grows a WAL forks no process', async () => {
    const { store } = open({ checkpointOptions: { thresholdFrames: 1000 } });
    await write(store, 2);
    expect(store.checkpoints()).toMatchObject({ spawns: 0, pid: undefined, mode: 'child' });
  });

  it('keeps the WAL bounded under many writes: the child backfills it and the WAL restarts', async () => {
    const { store, path, logger } = open();
    await writeUntil(store, () => store.checkpoints()!.checkpoints > 0, 'a first checkpoint');
    const restarts: number[] = [];
    let last = walIndex(path).mxFrame;
    let longest = 0;
    // Many thresholds' worth of frames: without checkpoints the WAL would pass BOUND_FRAMES many times over.
    for (let round = 0; round < 200; round++) {
      await write(store, 1);
      const { mxFrame } = walIndex(path);
      if (mxFrame < last) restarts.push(mxFrame);
      last = mxFrame;
      longest = Math.max(longest, mxFrame);
    }
    expect(longest).toBeLessThan(BOUND_FRAMES);
    const stats = store.checkpoints()!;
    expect(stats.mode).toBe('child');
    expect(stats.fallbacks).toBe(0);
    expect(stats.checkpoints).toBeGreaterThan(0);
    expect(stats.pid).toBeGreaterThan(0);
    expect(stats.gated).toBeGreaterThan(0);
    expect(restarts.length).toBeGreaterThan(5);
    expect(logger.warnings).toEqual([]);
    // The writer does not checkpoint itself.
    const writer = (store as unknown as { writer: Parameters<typeof prepare>[0] }).writer;
    expect(prepare(writer, 'PRAGMA wal_autocheckpoint').pluck().get()).toBe(0);
  });

  it('the writer checkpoints itself when the child is killed (one warning), then a new child takes over', async () => {
    const { store, path, logger } = open();
    await writeUntil(store, () => store.checkpoints()!.checkpoints > 0, 'a first checkpoint');
    const first = store.checkpoints()!.pid!;
    process.kill(first, 'SIGKILL');
    await eventually(() => logger.warnings.length > 0, 'a warning');
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/checkpoint child exited \(SIGKILL\)/);
    expect(store.checkpoints()!.mode).toBe('inline');
    // Writes go on, the WAL stays bounded (SQLite's own checkpoint meanwhile), and after the
    // backoff a new child is forked and takes over.
    const writer = (store as unknown as { writer: Parameters<typeof prepare>[0] }).writer;
    expect(prepare(writer, 'PRAGMA wal_autocheckpoint').pluck().get()).toBe(THRESHOLD);
    await writeUntil(
      store,
      () => {
        const c = store.checkpoints()!;
        return c.mode === 'child' && c.pid !== undefined && c.pid !== first;
      },
      'a new child',
    );
    for (let round = 0; round < 40; round++) {
      await write(store, 1);
      expect(walIndex(path).mxFrame).toBeLessThan(BOUND_FRAMES);
    }
    expect(store.checkpoints()!.spawns).toBeGreaterThanOrEqual(2);
    expect(prepare(writer, 'PRAGMA wal_autocheckpoint').pluck().get()).toBe(0);
    expect(alive(first)).toBe(false);
  });

  it('the writer checkpoints itself once the WAL passes the hard bound (a stopped child), and kills that child', async () => {
    // The default factor, 16: BOUND_FRAMES.
    const {
      store: bounded,
      path,
      logger,
    } = open({
      checkpointOptions: { thresholdFrames: THRESHOLD, respawnBackoffMs: 60_000 },
    });
    // Slow small writes while the child starts (a few frames each), so the WAL stays under the bound.
    const deadline = performance.now() + 30_000;
    for (let i = 0; bounded.checkpoints()!.checkpoints === 0; i++) {
      if (performance.now() > deadline) throw new Error('no checkpoint within 30 s');
      await bounded.createMessage(message(`slow${i}`), [{ index: 0, payload: Buffer.from('x') }]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(bounded.checkpoints()!.fallbacks).toBe(0);
    const pid = bounded.checkpoints()!.pid!;
    process.kill(pid, 'SIGSTOP');
    await writeUntil(bounded, () => logger.warnings.length > 0, 'the fallback');
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/WAL holds \d+ frames \(bound 800\)|held the writer over/);
    expect(bounded.checkpoints()).toMatchObject({ mode: 'inline', pid: undefined, fallbacks: 1 });
    // What /metrics exports (smpp_store_checkpoint_inline, smpp_store_checkpoint_fallbacks_total).
    expect(bounded.stats().checkpoints).toMatchObject({ mode: 'inline', fallbacks: 1 });
    await eventually(() => !alive(pid), 'the stopped child killed');
    for (let round = 0; round < 40; round++) {
      await write(bounded, 1);
      expect(walIndex(path).mxFrame).toBeLessThan(BOUND_FRAMES + 200);
    }
  });

  it('close stops the child: open/close cycles leave no process', async () => {
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { store } = open();
      await writeUntil(store, () => store.checkpoints()!.pid !== undefined, 'a child forked');
      pids.push(store.checkpoints()!.pid!);
      await store.close();
      expect(alive(pids[i]!)).toBe(false);
    }
    expect(new Set(pids).size).toBe(3);
  });

  it("with checkpoint 'inline' SQLite checkpoints in COMMIT and no process is forked", async () => {
    const { store, path } = open({ checkpoint: 'inline' });
    await write(store, 40);
    expect(store.checkpoints()).toBeUndefined();
    const writer = (store as unknown as { writer: Parameters<typeof prepare>[0] }).writer;
    expect(prepare(writer, 'PRAGMA wal_autocheckpoint').pluck().get()).toBe(1000);
    expect(walIndex(path).mxFrame).toBeGreaterThan(0);
  });

  it('what was written while the child checkpointed is all there after reopening', async () => {
    const { store, path } = open();
    const before = seq;
    await writeUntil(store, () => store.checkpoints()!.checkpoints > 0, 'a first checkpoint');
    await write(store, 60);
    expect(store.checkpoints()!.checkpoints).toBeGreaterThan(1);
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    const db = openDatabase(path, { readonly: true });
    try {
      expect(prepare(db, 'SELECT count(*) FROM messages').pluck().get()).toBe(seq - before);
      expect(prepare(db, 'PRAGMA integrity_check').pluck().get()).toBe('ok');
    } finally {
      db.close();
    }
  });
});
