/**
 * Group commit on PostgreSQL, over a pool: units of work queued in the same turn of the event
 * loop are spread over up to `lanes` transactions that run at once, each on its own pooled
 * connection. SQLite has one writer, so its throughput comes from grouping alone; PostgreSQL
 * takes concurrent writers, so here grouping cuts commits (and round trips for BEGIN/COMMIT)
 * while the lanes overlap the round trips of the statements.
 *
 * A lane takes its share of what is queued (ceil(queued / idle lanes), at most `maxGroupSize`),
 * so a burst spreads over the lanes and a lone write goes at once. Each unit runs in a savepoint:
 * one that throws (or in which a statement failed, even one it caught: PostgreSQL aborts the
 * transaction then) rolls back its own writes and rejects its own caller. A unit that lost a
 * deadlock or a serialization check against another lane (SQLSTATE 40P01, 40001) is rolled back
 * to its savepoint and run again (its function must only use the tx). A failing COMMIT rejects
 * every caller of that group (retriable); other lanes are not affected.
 *
 * The time of a group: the database's `transaction_timestamp()`, read in the same round trip
 * as BEGIN, unless the store has an injected clock.
 */
import type pg from 'pg';
import { commitError, storeClosedError } from './errors.js';
import type { GroupCommitStats } from './group-commit.js';

export interface LaneTx<Tx> {
  tx: Tx;
  /** Makes the tx refuse further use. */
  end(): void;
  /**
   * The error of the first statement of this unit that failed, when one did, even if the unit's
   * function caught it: PostgreSQL aborts the transaction on a failed statement, so the unit
   * cannot stand (its later statements failed too, and a COMMIT would silently roll back).
   */
  failure?(): unknown;
}

export interface PgCommitOptions<Tx> {
  pool: pg.Pool;
  /** Transactions running at once. */
  lanes: number;
  maxGroupSize: number;
  /** Stop adding units to a group once it has run this long (the commit comes on top). */
  maxGroupMs: number;
  /** A handle for one unit, on this client, at the group's database time (ms). */
  openTx(client: pg.PoolClient, dbNowMs: number): LaneTx<Tx>;
  /** Awaited before the first group (the migrations). */
  ready: Promise<void>;
  /** Fault injection for tests: called before each COMMIT; a throw fails that commit. */
  beforeCommit?: () => void;
}

interface Unit<Tx> {
  /** Units with the same key run in the order they were queued (one lane at a time). */
  key: string | undefined;
  fn: (tx: Tx) => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Conflicts between concurrent transactions that are worth running the unit again for. */
const RETRY_SQLSTATES = new Set(['40P01', '40001']);
const MAX_UNIT_ATTEMPTS = 5;

const BEGIN = `BEGIN; SELECT (extract(epoch FROM transaction_timestamp()) * 1000)::bigint AS now_ms; SAVEPOINT unit`;

export class PgGroupCommit<Tx> {
  private queue: Unit<Tx>[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private busyLanes = 0;
  /** Keys of the units in running groups. */
  private readonly busyKeys = new Set<string>();
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly counters: GroupCommitStats = {
    commits: 0,
    units: 0,
    maxGroupSize: 0,
    failedCommits: 0,
    longestGroupMs: 0,
    busyMs: 0,
    commitMs: 0,
  };

  constructor(private readonly options: PgCommitOptions<Tx>) {}

  /**
   * Queues `fn`; resolves with its result once its group committed. Units with the same `key`
   * (e.g. one message's id) take effect in the order they were queued: they go in one group, or
   * wait until the lane running the earlier ones has committed.
   */
  run<T>(fn: (tx: Tx) => Promise<T> | T, key?: string): Promise<T> {
    if (this.closed) return Promise.reject(storeClosedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ key, fn, resolve: resolve as (value: unknown) => void, reject });
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
    return this.busyLanes === 0 && this.queue.length === 0 && this.scheduled === undefined;
  }

  private schedule(): void {
    if (this.scheduled !== undefined || this.busyLanes >= this.options.lanes || this.queue.length === 0)
      return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.busyLanes < this.options.lanes) {
      const idleLanes = this.options.lanes - this.busyLanes;
      const size = Math.min(this.options.maxGroupSize, Math.ceil(this.queue.length / idleLanes));
      // Take units in queue order, skipping those whose key a running group holds (they wait
      // for it, and so do later units of that key: they find the key held too).
      const group: Unit<Tx>[] = [];
      const keys = new Set<string>();
      const rest: Unit<Tx>[] = [];
      for (const unit of this.queue) {
        if (group.length >= size || (unit.key !== undefined && this.busyKeys.has(unit.key))) {
          rest.push(unit);
          continue;
        }
        group.push(unit);
        if (unit.key !== undefined) {
          keys.add(unit.key);
          this.busyKeys.add(unit.key);
        }
      }
      this.queue = rest;
      if (group.length === 0) return; // everything queued waits for a running group
      this.busyLanes++;
      void this.runGroup(group).finally(() => {
        for (const key of keys) this.busyKeys.delete(key);
        this.busyLanes--;
        if (this.queue.length > 0) this.schedule();
        else if (this.idle()) for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
  }

  private async runGroup(group: Unit<Tx>[]): Promise<void> {
    const startedAt = performance.now();
    let client: pg.PoolClient;
    let dbNowMs: number;
    try {
      await this.options.ready;
      client = await this.options.pool.connect();
    } catch (error) {
      this.counters.failedCommits++;
      for (const unit of group) unit.reject(commitError(error));
      return;
    }
    // A client whose transaction state is unknown is destroyed (release(error)), never reused.
    try {
      const results = (await client.query(BEGIN)) as unknown as pg.QueryResult[];
      dbNowMs = Number(results[1]?.rows[0]?.now_ms);
    } catch (error) {
      client.release(error as Error);
      this.counters.failedCommits++;
      for (const unit of group) unit.reject(commitError(error));
      return;
    }
    const done: { unit: Unit<Tx>; value: unknown }[] = [];
    let taken = 0;
    // Whether the savepoint `unit` marks the state after the last good unit.
    let savepointFresh = true;
    try {
      for (const unit of group) {
        taken++;
        for (let attempt = 1; ; attempt++) {
          if (!savepointFresh) {
            await client.query('RELEASE SAVEPOINT unit; SAVEPOINT unit');
            savepointFresh = true;
          }
          const handle = this.options.openTx(client, dbNowMs);
          try {
            const value = await unit.fn(handle.tx);
            // A statement failed and `fn` went on: roll the unit back and report that error.
            const failure = handle.failure?.();
            if (failure !== undefined) throw failure;
            handle.end();
            savepointFresh = false;
            done.push({ unit, value });
            break;
          } catch (error) {
            handle.end();
            // Back to the state after the last good unit; the savepoint stays, still fresh.
            try {
              await client.query('ROLLBACK TO SAVEPOINT unit');
            } catch (rollbackError) {
              unit.reject(error);
              throw rollbackError;
            }
            // The SQLSTATE, on the error or (wrapped as SMPP_ERR_STORE_UNAVAILABLE) its cause.
            const sqlState =
              (error as { cause?: { code?: unknown } }).cause?.code ?? (error as { code?: unknown }).code;
            if (
              typeof sqlState === 'string' &&
              RETRY_SQLSTATES.has(sqlState) &&
              attempt < MAX_UNIT_ATTEMPTS
            ) {
              continue;
            }
            unit.reject(error);
            break;
          }
        }
        if (performance.now() - startedAt >= this.options.maxGroupMs) break;
      }
    } catch (error) {
      // The transaction is lost: nobody in this group was written. The units not yet run go
      // first in the next group.
      this.counters.failedCommits++;
      for (const d of done) d.unit.reject(commitError(error));
      this.queue.unshift(...group.slice(taken));
      client.release(error as Error);
      return;
    }
    if (taken < group.length) this.queue.unshift(...group.slice(taken));
    const commitStartedAt = performance.now();
    try {
      this.options.beforeCommit?.();
      // A COMMIT of an aborted transaction answers ROLLBACK, without an error.
      const committed = await client.query('COMMIT');
      if (committed.command === 'ROLLBACK') throw new Error('the transaction was aborted and rolled back');
    } catch (error) {
      this.counters.failedCommits++;
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackError) {
        client.release(rollbackError as Error);
      }
      for (const d of done) d.unit.reject(commitError(error));
      return;
    }
    client.release();
    const tookMs = performance.now() - startedAt;
    if (tookMs > this.counters.longestGroupMs) this.counters.longestGroupMs = tookMs;
    this.counters.busyMs += tookMs;
    this.counters.commitMs += performance.now() - commitStartedAt;
    this.counters.commits++;
    this.counters.units += done.length;
    if (taken > this.counters.maxGroupSize) this.counters.maxGroupSize = taken;
    for (const d of done) d.unit.resolve(d.value);
  }
}
