/**
 * Checkpoints SQLite's WAL in a worker thread, so the writer's commits never do it.
 *
 * By default SQLite checkpoints inside the COMMIT that takes the WAL past 1,000 pages: that commit
 * copies the pages into the database and fsyncs both files on the event loop (measured: the mean
 * commit 2.6× longer, the longest ones tens of ms). With a Checkpointer the writer's
 * wal_autocheckpoint is 0 and a connection of its own, in a worker thread, runs a PASSIVE
 * checkpoint every `intervalMs`: it never waits for the writer nor blocks it (WAL), and once it has
 * copied everything the writer's next transaction starts the WAL over, so it stays small.
 *
 * Durability is unchanged: a checkpoint fsyncs the WAL before copying and the database after, so
 * the WAL restart never drops a frame a commit made durable (wal-sync.ts).
 *
 * If the worker fails, `onFailure` runs (the store turns the writer's autocheckpoint back on).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints by default, ms. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 100;

// CommonJS, evaluated in the worker (no file to resolve in both src/ under tsx and dist/).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('synchronous = NORMAL');
let checkpoints = 0;
const timer = setInterval(() => {
  db.pragma('wal_checkpoint(PASSIVE)');
  checkpoints++;
}, workerData.intervalMs);
parentPort.on('message', (msg) => {
  if (msg === 'stats') parentPort.postMessage({ checkpoints });
  if (msg === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(path: string, intervalMs: number, onFailure: (error: unknown) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
    this.worker.on('error', (error) => {
      if (!this.stopped) onFailure(error);
    });
    this.worker.unref();
  }

  /** Checkpoints run so far (for tests). */
  checkpoints(): Promise<number> {
    return new Promise((resolve) => {
      this.worker.once('message', (m: { checkpoints: number }) => resolve(m.checkpoints));
      this.worker.postMessage('stats');
    });
  }

  /** Stops the worker and waits for it to close its connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await exited;
  }
}
