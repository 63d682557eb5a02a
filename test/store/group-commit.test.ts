import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { type Committer, GroupCommitQueue } from '../../src/store/group-commit.js';

/**
 * A committer that keeps rows in memory the way a database with savepoints would: writes
 * go to the open transaction, a savepoint rollback drops the unit's writes, commit
 * publishes them.
 */
class MemoryCommitter implements Committer<{ write(row: string): void }> {
  committed: string[] = [];
  log: string[] = [];
  failCommit = false;
  failSavepoint = false;
  private txRows: string[] | undefined;
  private savepointAt: number | undefined;

  begin() {
    this.log.push('begin');
    this.txRows = [];
  }
  savepoint() {
    if (this.failSavepoint) throw new Error('savepoint failed');
    this.savepointAt = this.txRows!.length;
  }
  releaseSavepoint() {
    this.savepointAt = undefined;
  }
  rollbackToSavepoint() {
    if (this.savepointAt === undefined) throw new Error('no such savepoint');
    this.txRows!.length = this.savepointAt;
  }
  commit() {
    if (this.failCommit) throw new Error('disk full');
    this.log.push('commit');
    this.committed.push(...this.txRows!);
    this.txRows = undefined;
  }
  rollback() {
    this.log.push('rollback');
    this.txRows = undefined;
  }
  inTransaction() {
    return this.txRows !== undefined;
  }
  openTx() {
    let open = true;
    return {
      tx: {
        write: (row: string) => {
          if (!open) throw new Error('ended');
          this.txRows!.push(row);
        },
      },
      end: () => {
        open = false;
      },
    };
  }
}

describe('GroupCommitQueue', () => {
  it('runs the units queued in one turn as one transaction and resolves them after its commit', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 1000 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        queue
          .run((tx) => {
            tx.write(`r${i}`);
            return i;
          })
          .then((value) => ({ value, visible: committer.committed.includes(`r${i}`) })),
      ),
    );
    expect(results.every((r, i) => r.value === i && r.visible)).toBe(true);
    expect(committer.log).toEqual(['begin', 'commit']);
    expect(queue.stats()).toMatchObject({ commits: 1, units: 20, maxGroupSize: 20, failedCommits: 0 });
  });

  it('splits work into groups of at most maxGroupSize', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 4, maxGroupMs: 1000 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => queue.run((tx) => tx.write(`r${i}`))));
    expect(committer.log.filter((l) => l === 'commit')).toHaveLength(3);
    expect(committer.committed).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(queue.stats().maxGroupSize).toBe(4);
  });

  it('closes a group early once it has run maxGroupMs, keeping the order', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 0 });
    await Promise.all(Array.from({ length: 5 }, (_, i) => queue.run((tx) => tx.write(`r${i}`))));
    expect(committer.log.filter((l) => l === 'commit')).toHaveLength(5);
    expect(committer.committed).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('lets groups run as long as slow commits take (up to slowCommitGroupMs), so more units share each', async () => {
    // A fake monotonic clock: each unit takes 1 ms, each commit 10 ms (an fsync on a busy disk).
    const run = async (slowCommitGroupMs: number | undefined) => {
      let clock = 0;
      const committer = new MemoryCommitter();
      const commit = committer.commit.bind(committer);
      committer.commit = () => {
        clock += 10;
        commit();
      };
      const queue = new GroupCommitQueue(committer, {
        maxGroupSize: 100,
        maxGroupMs: 1,
        ...(slowCommitGroupMs === undefined ? {} : { slowCommitGroupMs }),
        now: () => clock,
      });
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          queue.run((tx) => {
            clock += 1;
            tx.write(`r${i}`);
          }),
        ),
      );
      expect(committer.committed).toEqual(Array.from({ length: 60 }, (_, i) => `r${i}`));
      return queue.stats();
    };
    const fixed = await run(undefined);
    expect(fixed.commits).toBe(60); // 1 ms of units per 10 ms commit: one unit each
    const adaptive = await run(6);
    // The first group has no commit to go by (one unit); then groups grow towards 6 units.
    expect(adaptive.maxGroupSize).toBe(6);
    expect(adaptive.commits).toBeLessThanOrEqual(15);
    expect(adaptive.longestGroupMs).toBe(16); // 6 ms of units + the 10 ms commit, never more
  });

  it('keeps the fixed budget while commits are quick', async () => {
    let clock = 0;
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, {
      maxGroupSize: 100,
      maxGroupMs: 2,
      slowCommitGroupMs: 50,
      now: () => clock,
    });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        queue.run((tx) => {
          clock += 1;
          tx.write(`r${i}`);
        }),
      ),
    );
    expect(queue.stats()).toMatchObject({ commits: 5, maxGroupSize: 2 });
  });

  it('rolls back only the unit that throws and rejects only its caller', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 1000 });
    const boom = new Error('boom');
    const [a, b, c] = await Promise.allSettled([
      queue.run((tx) => tx.write('a')),
      queue.run((tx) => {
        tx.write('b');
        throw boom;
      }),
      queue.run(async (tx) => tx.write('c')),
    ]);
    expect([a.status, b.status, c.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((b as PromiseRejectedResult).reason).toBe(boom);
    expect(committer.committed).toEqual(['a', 'c']);
    expect(committer.log).toEqual(['begin', 'commit']);
  });

  it('rejects every caller of a group whose commit fails, as retriable', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 1000 });
    committer.failCommit = true;
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => queue.run((tx) => tx.write('x'))),
    );
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: ErrorCode.StoreCommit,
        retriable: true,
      });
    }
    expect(committer.committed).toEqual([]);
    expect(committer.log).toEqual(['begin', 'rollback']);
    expect(queue.stats().failedCommits).toBe(1);
  });

  it('rejects the group and carries on when the transaction itself breaks', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 1000 });
    committer.failSavepoint = true;
    const results = await Promise.allSettled([
      queue.run((tx) => tx.write('a')),
      queue.run((tx) => tx.write('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(committer.log).toEqual(['begin', 'rollback', 'begin', 'rollback']);
    committer.failSavepoint = false;
    await queue.run((tx) => tx.write('c'));
    expect(committer.committed).toEqual(['c']);
    expect(queue.stats().failedCommits).toBe(2);
  });

  it('refuses a tx used after its unit ended', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 1000 });
    let leaked: { write(row: string): void } | undefined;
    await queue.run((tx) => {
      leaked = tx;
    });
    expect(() => leaked!.write('late')).toThrow('ended');
  });

  it('close() waits for queued work, then refuses more', async () => {
    const committer = new MemoryCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 2, maxGroupMs: 1000 });
    const pending = Array.from({ length: 5 }, (_, i) => queue.run((tx) => tx.write(`r${i}`)));
    await queue.close();
    expect(committer.committed).toHaveLength(5);
    await Promise.all(pending);
    await expect(queue.run(() => 1)).rejects.toMatchObject({ code: ErrorCode.StoreClosed });
  });
});

/** A MemoryCommitter whose commits become durable only when the test says so (an fsync in flight). */
class DeferredSyncCommitter extends MemoryCommitter {
  syncs: { resolve(): void; reject(error: Error): void }[] = [];
  durable(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.syncs.push({ resolve, reject }));
  }
}

const settledState = async (p: Promise<unknown>): Promise<string> => {
  let state = 'pending';
  p.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return state;
};

describe('GroupCommitQueue with a durable() step', () => {
  it('answers a group only once its commit is durable, and runs the next group meanwhile', async () => {
    const committer = new DeferredSyncCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 1000 });
    const first = queue.run((tx) => tx.write('a'));
    expect(await settledState(first)).toBe('pending');
    expect(committer.committed).toEqual(['a']);
    // The fsync of the first group is still running: the second group commits anyway.
    const second = queue.run((tx) => tx.write('b'));
    await settledState(second);
    expect(committer.committed).toEqual(['a', 'b']);
    expect(committer.syncs).toHaveLength(2);
    committer.syncs[0]?.resolve();
    expect(await settledState(first)).toBe('resolved');
    expect(await settledState(second)).toBe('pending');
    let closed = false;
    const closing = queue.close().then(() => {
      closed = true;
    });
    await settledState(closing);
    expect(closed).toBe(false); // close waits for the fsync in flight
    committer.syncs[1]?.resolve();
    await closing;
    expect(await settledState(second)).toBe('resolved');
  });

  it('rejects a group whose commit could not be made durable, as a commit error', async () => {
    const committer = new DeferredSyncCommitter();
    const queue = new GroupCommitQueue(committer, { maxGroupSize: 100, maxGroupMs: 1000 });
    const unit = queue.run((tx) => tx.write('a'));
    await settledState(unit);
    committer.syncs[0]?.reject(new Error('EIO'));
    await expect(unit).rejects.toMatchObject({ code: ErrorCode.StoreCommit });
    expect(queue.stats().failedCommits).toBe(1);
  });
});
