/**
 * Group commit: units of work asked for within the same turn of the event loop share one
 * transaction, and each caller's promise settles only after that transaction's commit
 * returned. The first unit schedules a flush with setImmediate, so everything queued by
 * then (up to `maxGroupSize` units, or until the group has run `maxGroupMs` — longer while
 * commits are slow, see `slowCommitGroupMs`) commits together; the rest goes in the next group,
 * after the event loop had a turn. It never waits for a timer: a lone unit commits at the next turn.
 *
 * Each unit runs inside a savepoint: a unit that throws rolls back its own writes and
 * rejects its own caller only. A failing commit rejects every caller of the group.
 *
 * The committer is synchronous (better-sqlite3); while a group runs, the event loop runs
 * only microtasks, so the group size bounds how long one commit blocks it. A committer with
 * `durable()` makes its commits durable off the event loop (SQLite: an fdatasync of the WAL in
 * libuv's pool): the group's callers are answered once that resolved, and the next group runs
 * meanwhile, so the fsync neither blocks the loop nor serialises the groups.
 */
import { commitError, storeClosedError } from './errors.js';

export interface Committer<Tx> {
  begin(): void;
  savepoint(): void;
  releaseSavepoint(): void;
  rollbackToSavepoint(): void;
  commit(): void;
  rollback(): void;
  /** False when the database ended the transaction itself (e.g. an I/O error). */
  inTransaction(): boolean;
  /** A handle to give one unit; `end()` makes it refuse further use. */
  openTx(): { tx: Tx; end(): void };
  /**
   * When present, `commit()` alone does not make the commit durable: this resolves once every
   * commit returned so far is (it rejects when that cannot be known, e.g. the fsync failed).
   */
  durable?(): Promise<void>;
  /**
   * When present and it returns a promise, the next transaction begins only once that settled
   * (SQLite: a checkpoint in another process finishing, so the WAL can restart; checkpointer.ts).
   */
  gate?(): Promise<void> | undefined;
}

export interface GroupCommitOptions {
  /** Most units in one transaction. */
  maxGroupSize: number;
  /** Stop adding units to a group once it has run this long (the commit comes on top). */
  maxGroupMs: number;
  /**
   * While commits take longer than maxGroupMs (SQLite with synchronous=FULL: the fsync in COMMIT
   * blocks the event loop), a group may run as long as its commits take (their moving average),
   * up to this: a unit's share of the commit shrinks with the group, and the event loop is
   * blocked no more than about twice the commit. Without it a 10 ms fsync behind 1 ms of units
   * holds the throughput to a few units per commit. Default maxGroupMs (a fixed budget).
   */
  slowCommitGroupMs?: number;
  /** Monotonic ms (tests). Default performance.now. */
  now?: () => number;
}

export interface GroupCommitStats {
  commits: number;
  units: number;
  maxGroupSize: number;
  failedCommits: number;
  /** The longest a group held the writer, from BEGIN to the end of COMMIT, in ms. */
  longestGroupMs: number;
  /** Total time groups held the writer, ms (divide by commits for the mean). */
  busyMs: number;
  /** Of busyMs, the time spent in COMMIT itself (on SQLite with synchronous=FULL: the fsync). */
  commitMs: number;
}

interface Unit<Tx> {
  fn: (tx: Tx) => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class GroupCommitQueue<Tx> {
  private queue: Unit<Tx>[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Groups committed whose durable() has not settled yet. */
  private syncing = 0;
  /** Moving average of COMMIT's duration, ms. */
  private commitAvgMs = 0;
  private readonly now: () => number;
  private readonly counters: GroupCommitStats = {
    commits: 0,
    units: 0,
    maxGroupSize: 0,
    failedCommits: 0,
    longestGroupMs: 0,
    busyMs: 0,
    commitMs: 0,
  };

  constructor(
    private readonly committer: Committer<Tx>,
    private readonly options: GroupCommitOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Queues `fn`; resolves with its result once its group committed. */
  run<T>(fn: (tx: Tx) => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(storeClosedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  stats(): GroupCommitStats {
    return { ...this.counters };
  }

  /** Refuses new work, then waits until everything queued has committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return !this.running && this.queue.length === 0 && this.scheduled === undefined && this.syncing === 0;
  }

  private wakeIfIdle(): void {
    if (!this.idle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const wake of waiters) wake();
  }

  private schedule(): void {
    if (this.scheduled !== undefined || this.running) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.running = true;
    try {
      const gate = this.committer.gate?.();
      if (gate !== undefined) await gate;
      const group = this.queue.splice(0, this.options.maxGroupSize);
      try {
        if (group.length > 0) await this.runGroup(group);
      } catch (error) {
        // A committer that fails where it must not: settle everyone (settling twice is a no-op).
        this.abandon();
        for (const unit of group) unit.reject(commitError(error));
      }
    } finally {
      this.running = false;
    }
    if (this.queue.length > 0) this.schedule();
    else this.wakeIfIdle();
  }

  /** Rolls one failed unit back to its savepoint; false when the transaction cannot go on. */
  private undoUnit(): boolean {
    const c = this.committer;
    if (!c.inTransaction()) return false;
    try {
      c.rollbackToSavepoint();
      c.releaseSavepoint();
      return true;
    } catch {
      return false;
    }
  }

  /** Ends a failed transaction, if the database has not already. */
  private abandon(): void {
    try {
      if (this.committer.inTransaction()) this.committer.rollback();
    } catch {
      // the error that made us abandon it is the one to report
    }
  }

  private async runGroup(group: Unit<Tx>[]): Promise<void> {
    const c = this.committer;
    const startedAt = this.now();
    const { maxGroupMs, slowCommitGroupMs = maxGroupMs } = this.options;
    const budgetMs = Math.max(maxGroupMs, Math.min(this.commitAvgMs, slowCommitGroupMs));
    try {
      c.begin();
    } catch (error) {
      this.counters.failedCommits++;
      for (const unit of group) unit.reject(commitError(error));
      return;
    }
    const done: { unit: Unit<Tx>; value: unknown }[] = [];
    let taken = 0;
    for (const unit of group) {
      taken++;
      const handle = c.openTx();
      try {
        c.savepoint();
        const value = await unit.fn(handle.tx);
        handle.end();
        c.releaseSavepoint();
        done.push({ unit, value });
      } catch (error) {
        handle.end();
        if (!this.undoUnit()) {
          // The transaction is lost (the database ended it, or the savepoint failed): nobody in
          // this group was written. The units not yet run go first in the next group.
          this.abandon();
          this.counters.failedCommits++;
          for (const d of done) d.unit.reject(commitError(error));
          unit.reject(error);
          this.queue.unshift(...group.slice(taken));
          return;
        }
        unit.reject(error);
      }
      if (this.now() - startedAt >= budgetMs) break;
    }
    // Units not started within the time budget go first in the next group.
    if (taken < group.length) this.queue.unshift(...group.slice(taken));
    const commitStartedAt = this.now();
    try {
      c.commit();
    } catch (error) {
      this.counters.failedCommits++;
      this.abandon();
      for (const d of done) d.unit.reject(commitError(error));
      return;
    }
    const endedAt = this.now();
    const tookMs = endedAt - startedAt;
    const commitMs = endedAt - commitStartedAt;
    this.commitAvgMs += (commitMs - this.commitAvgMs) / 4;
    if (tookMs > this.counters.longestGroupMs) this.counters.longestGroupMs = tookMs;
    this.counters.busyMs += tookMs;
    this.counters.commitMs += commitMs;
    this.counters.commits++;
    this.counters.units += done.length;
    if (taken > this.counters.maxGroupSize) this.counters.maxGroupSize = taken;
    if (c.durable === undefined || done.length === 0) {
      for (const d of done) d.unit.resolve(d.value);
      return;
    }
    this.syncing++;
    void c
      .durable()
      .then(
        () => {
          for (const d of done) d.unit.resolve(d.value);
        },
        (error: unknown) => {
          this.counters.failedCommits++;
          for (const d of done) d.unit.reject(commitError(error));
        },
      )
      .finally(() => {
        this.syncing--;
        this.wakeIfIdle();
      });
  }
}
