/**
 * Makes SQLite's WAL durable off the event loop. The writer runs with synchronous=NORMAL (a commit
 * writes its frames to the WAL, no fsync), and `sync()` then fdatasyncs the WAL file in libuv's
 * thread pool: once it resolved, every commit that returned before the call is on disk, which is
 * what synchronous=FULL gives, without blocking the loop for the fsync.
 *
 * Calls coalesce: while one fdatasync runs, every later caller shares the next one (started when
 * the running one ends), so there are never more than two in flight, and a burst of groups costs
 * two fsyncs, not one each.
 *
 * Safe with SQLite's own syncs: with synchronous=NORMAL SQLite fsyncs the WAL before each
 * checkpoint and the database after it, so a WAL restart never drops frames this made durable.
 * The WAL file keeps its inode while any connection is open (it is truncated, never replaced),
 * so one descriptor, opened at the first sync, serves until close.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';

export class WalSync {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private next: { promise: Promise<void>; resolve(): void; reject(error: unknown): void } | undefined;
  private closed = false;

  constructor(private readonly walPath: string) {}

  /** Resolves once every commit that returned before this call is on disk. */
  sync(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.start();
      return this.running;
    }
    if (this.next === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.next = { promise, resolve, reject };
    }
    return this.next.promise;
  }

  /**
   * The sync that makes every commit returned so far durable, if one is running or queued; else
   * undefined (all of them already are). Never starts one: the writer asks for a sync after each commit.
   */
  barrier(): Promise<void> | undefined {
    return this.next?.promise ?? this.running;
  }

  /** Closes the descriptor; call after the last sync settled. */
  close(): void {
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private start(): Promise<void> {
    const run = new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new Error('the WAL syncer is closed'));
      try {
        this.fd ??= openSync(this.walPath, 'r');
      } catch (error) {
        return reject(error);
      }
      fdatasync(this.fd, (error) => (error ? reject(error) : resolve()));
    });
    const settled = (): void => {
      const waiting = this.next;
      this.next = undefined;
      if (waiting === undefined) {
        this.running = undefined;
        return;
      }
      this.running = this.start();
      this.running.then(waiting.resolve, waiting.reject);
    };
    run.then(settled, settled);
    return run;
  }
}
