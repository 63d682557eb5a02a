/**
 * Bind ownership by leases (issue 12), on fake clocks over one real SQLite store shared by
 * several BindOwnership instances (the replicas): binds spread to a fair share, move back when a
 * replica joins, are taken over after a replica dies, are stopped on the monotonic deadline when
 * renewals fail, and a replica that was frozen binds none of its old binds again. Each replica has
 * its own monotonic clock; the store has the "database clock" (`wall`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BindOwnership,
  type BindOwnershipOptions,
  fairShare,
  type OwnershipStore,
  type OwnershipTarget,
} from '../../../src/bridge/ownership/bind-ownership.js';
import { OwnershipLeases } from '../../../src/bridge/ownership/ownership-leases.js';
import type { Logger } from '../../../src/logger.js';
import { FakeClock } from '../../../src/session/clock.js';
import { prepare } from '../../../src/store/sqlite-native.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite-store.js';

const TTL = 10_000;
const RENEW = 2_000;

/** The registry as the ownership sees it: which binds run here, which are held for whom. */
class FakeTarget implements OwnershipTarget {
  readonly running = new Set<string>();
  readonly holding = new Map<string, string>();
  readonly runs: string[] = [];
  constructor(public ids: string[]) {}
  desired(): string[] {
    return this.ids;
  }
  run(id: string): void {
    this.running.add(id);
    this.holding.delete(id);
    this.runs.push(id);
  }
  async hold(id: string, owner: string): Promise<void> {
    this.running.delete(id);
    this.holding.set(id, owner);
  }
  heldFor(id: string): string | null {
    return this.holding.get(id) ?? null;
  }
}

/** A registry whose binds take their time to bind: run() leaves a bind starting until told. */
class SlowTarget extends FakeTarget {
  readonly startingIds = new Set<string>();
  mostStarting = 0;
  override run(id: string): void {
    super.run(id);
    this.startingIds.add(id);
    this.mostStarting = Math.max(this.mostStarting, this.startingIds.size);
  }
  starting(id: string): boolean {
    return this.startingIds.has(id);
  }
  /** Bound (or failed): leaves the start window. */
  settle(n: number): void {
    for (const id of [...this.startingIds].slice(0, n)) this.startingIds.delete(id);
  }
}

/** Lets the store calls of passes the timers started finish (no pass is forced). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function cluster(bindCount: number) {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-ownership-'));
  dirs.push(dir);
  let wall = Date.UTC(2026, 0, 1);
  // No fsync: the passes run on the fake clock, and a real fsync in the thread pool would finish
  // at a real time the steps of the fake one cannot wait for (durability is the store suite's).
  const store = openSqliteStore({ path: join(dir, 'store.db'), now: () => wall, synchronous: 'normal' });
  stores.push(store);
  const ids = Array.from({ length: bindCount }, (_, i) => `b${String(i + 1).padStart(2, '0')}`);
  const replicas = new Map<
    string,
    { own: BindOwnership; target: FakeTarget; clock: FakeClock; frozen: boolean; frozenMs: number }
  >();
  const add = (name: string, options: Partial<BindOwnershipOptions> = {}) => {
    const clock = new FakeClock();
    const target = new FakeTarget(ids);
    const own = new BindOwnership({
      store,
      target,
      owner: name,
      ttlMs: TTL,
      renewIntervalMs: RENEW,
      clock,
      ownerGone: () => false,
      ...options,
    });
    const r = { own, target, clock, frozen: false, frozenMs: 0 };
    replicas.set(name, r);
    return r;
  };
  /** Time passes for the database and every replica that is not frozen (their timers fire). */
  const advance = async (ms: number) => {
    wall += ms;
    // A frozen process's monotonic clock moves on too; its timers fire only when it resumes.
    for (const r of replicas.values()) {
      if (r.frozen) r.frozenMs += ms;
      else r.clock.advance(ms);
    }
    await settle();
  };
  /** Waits for every pass in progress (timer-driven ones included). */
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await Promise.all([...replicas.values()].filter((r) => !r.frozen).map((r) => r.own.pass()));
    }
  };
  /** Time passes, and only the timers due run (no pass is forced). */
  const advanceTimersOnly = async (ms: number) => {
    wall += ms;
    for (const r of replicas.values()) {
      if (r.frozen) r.frozenMs += ms;
      else r.clock.advance(ms);
    }
    await turns();
  };
  return { store, ids, replicas, add, advance, advanceTimersOnly, settle, wallNow: () => wall };
}

function owners(c: ReturnType<typeof cluster>): Map<string, string[]> {
  const byBind = new Map<string, string[]>();
  for (const [name, r] of c.replicas) {
    for (const id of r.target.running) byBind.set(id, [...(byBind.get(id) ?? []), name]);
  }
  return byBind;
}

describe('bind ownership', () => {
  it('spreads the binds over the live replicas, each running its fair share and no bind twice', async () => {
    const c = cluster(10);
    const a = c.add('a');
    const b = c.add('b');
    const x = c.add('c');
    await Promise.all([a.own.start(), b.own.start(), x.own.start()]);
    await c.advance(RENEW);
    await c.advance(RENEW);
    // 10 over 3: one more for the first in name order.
    expect([a, b, x].map((r) => r.target.running.size)).toEqual([4, 3, 3]);
    for (const [, names] of owners(c)) expect(names).toHaveLength(1);
    // Each replica shows the others' binds as standby with the owner's name.
    for (const [name, r] of c.replicas) {
      for (const id of c.ids) {
        if (r.target.running.has(id)) {
          expect(r.own.ownerOf(id)).toBe(name);
          expect(r.own.standbyOwner(id)).toBeNull();
        } else {
          const owner = owners(c).get(id)![0]!;
          expect(r.target.heldFor(id)).toBe(owner);
          expect(r.own.ownerOf(id)).toBe(owner);
        }
      }
    }
    expect(a.own.snapshot()).toMatchObject({ owner: 'a', share: 4 });
    expect(a.own.snapshot().replicas.map((r) => r.owner)).toEqual(['a', 'b', 'c']);
  });

  it('with a join delay, replicas starting together split the binds at once: nobody takes more than its share', async () => {
    const c = cluster(10);
    const rs = ['a', 'b', 'c'].map((name) => c.add(name, { joinDelayMs: RENEW }));
    const starts = rs.map((r) => r.own.start());
    // Each has sent its first heartbeat and waits on its clock.
    while (rs.some((r) => r.clock.pending === 0)) await new Promise((resolve) => setImmediate(resolve));
    for (const r of rs) r.clock.advance(RENEW);
    await Promise.all(starts);
    expect(rs.map((r) => r.target.running.size)).toEqual([4, 3, 3]);
    // Nothing was run and given back.
    expect(rs.map((r) => r.target.runs.length)).toEqual([4, 3, 3]);
  });

  it('moves binds back when a replica joins: the first gives back what is above its share', async () => {
    const c = cluster(10);
    const a = c.add('a');
    await a.own.start();
    expect(a.target.running.size).toBe(10);
    const b = c.add('b');
    await b.own.start();
    await c.advance(RENEW);
    await c.advance(RENEW);
    expect(a.target.running.size).toBe(5);
    expect(b.target.running.size).toBe(5);
    for (const [, names] of owners(c)) expect(names).toHaveLength(1);
    // A given-back bind was unbound (held) before the other replica ran it.
    const moved = [...b.target.running];
    for (const id of moved) expect(a.target.holding.get(id)).toBe('b');
  });

  it('takes a dead replica’s binds within TTL + one renew interval, with a higher epoch', async () => {
    const c = cluster(6);
    const a = c.add('a');
    const b = c.add('b');
    await Promise.all([a.own.start(), b.own.start()]);
    await c.advance(RENEW);
    const bs = [...b.target.running];
    expect(bs.length).toBe(3);
    const epochs = new Map(bs.map((id) => [id, b.own.leaseOf(id)!.epoch]));
    // kill -9: b stops renewing, its sockets are gone.
    b.frozen = true;
    b.target.running.clear();
    let waited = 0;
    while (a.target.running.size < 6) {
      await c.advance(RENEW);
      waited += RENEW;
      expect(waited, 'takeover time').toBeLessThanOrEqual(TTL + RENEW);
    }
    expect(waited).toBeGreaterThanOrEqual(TTL - RENEW);
    for (const id of bs) expect(a.own.leaseOf(id)!.epoch).toBe(epochs.get(id)! + 1);
  });

  it('takes a dead replica’s binds just after its leases expire, not at its own next pass', async () => {
    const c = cluster(6);
    const a = c.add('a');
    const b = c.add('b');
    await Promise.all([a.own.start(), b.own.start()]);
    await c.advance(RENEW);
    expect([a.target.running.size, b.target.running.size]).toEqual([3, 3]);
    // b's passes run 1 s out of step with a's; its last renewal is at lastRenewal.
    await c.advanceTimersOnly(RENEW / 2);
    await b.own.pass();
    const lastRenewal = c.wallNow();
    const expiry = Math.max(
      ...(await c.store.listBindLeases()).filter((l) => l.owner === 'b').map((l) => l.expiresAt),
    );
    expect(expiry).toBe(lastRenewal + TTL);
    // kill -9 of b; from here on only a's timers run its passes (nothing forces one).
    b.frozen = true;
    b.target.running.clear();
    c.replicas.delete('b');
    const step = 50;
    let wall = lastRenewal;
    while (a.target.running.size < 6 && wall < lastRenewal + 2 * TTL) {
      const at = c.wallNow();
      await c.advanceTimersOnly(step);
      wall = at + step;
      await turns();
      // Never before b's leases expired in the database.
      if (wall < expiry) expect(a.target.running.size).toBe(3);
    }
    // a's own passes fall 1 s after the expiry (at lastRenewal + 11 s): it woke up for it instead.
    expect(a.target.running.size).toBe(6);
    expect(wall - expiry).toBeLessThanOrEqual(300);
  });

  it('runs no extra pass while every replica renews: the wake-up is only for a replica that stopped', async () => {
    const c = cluster(6);
    let passes = 0;
    const counting: OwnershipStore = new Proxy(c.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (prop === 'heartbeatReplica' && args[0] === 'a') passes++;
          return value.apply(target, args);
        };
      },
    });
    const a = c.add('a', { store: counting });
    const b = c.add('b');
    await Promise.all([a.own.start(), b.own.start()]);
    // b's passes 1 s out of step with a's, so its expiries never line up with a's passes.
    await c.advanceTimersOnly(RENEW / 2);
    await b.own.pass();
    passes = 0;
    for (let t = 0; t < 10 * RENEW; t += 50) await c.advanceTimersOnly(50);
    expect(passes).toBe(10);
    expect(a.target.running.size + b.target.running.size).toBe(6);
  });

  it('starts claimed binds a window at a time: the next ones as earlier ones bind or fail', async () => {
    const c = cluster(10);
    const slow = new SlowTarget(c.ids);
    const a = c.add('a', { target: slow, maxStarting: 3 });
    await a.own.start();
    // All ten leases are held, three binds connect.
    expect(a.own.snapshot().held).toHaveLength(10);
    expect(slow.runs).toHaveLength(3);
    // The registry asks the gate (startAll): the ones waiting their turn are not to be started.
    const waiting = c.ids.filter((id) => !slow.runs.includes(id));
    for (const id of waiting) expect(a.own.standbyOwner(id)).toBe('');
    for (const id of slow.runs) expect(a.own.standbyOwner(id)).toBeNull();
    slow.settle(2);
    await c.advanceTimersOnly(50);
    expect(slow.runs).toHaveLength(5);
    // Until every bind is started, never more than three at once.
    while (slow.runs.length < 10) {
      slow.settle(1);
      await c.advanceTimersOnly(50);
    }
    expect(slow.mostStarting).toBe(3);
    expect(new Set(slow.runs).size).toBe(10);
  });

  it('starts no bind still waiting in the window once shutdown began', async () => {
    const c = cluster(4);
    const slow = new SlowTarget(c.ids);
    const a = c.add('a', { target: slow, maxStarting: 1 });
    await a.own.start();
    expect(slow.runs).toHaveLength(1);
    a.own.drain();
    slow.settle(1);
    await c.advanceTimersOnly(1_000);
    expect(slow.runs).toHaveLength(1);
  });

  it('stops every bind on its monotonic deadline when renewals fail, before the lease can expire in the database', async () => {
    const c = cluster(4);
    let failing = false;
    const flaky: OwnershipStore = new Proxy(c.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          failing ? Promise.reject(new Error('connection refused')) : value.apply(target, args);
      },
    });
    const a = c.add('a', { store: flaky });
    await a.own.start();
    expect(a.target.running.size).toBe(4);
    const renewedAtWall = c.wallNow();
    const expiresAt = (await c.store.listBindLeases())[0]!.expiresAt;
    expect(expiresAt).toBe(renewedAtWall + TTL);
    failing = true;
    // Deadline: renewal sent at t0 → t0 + TTL − RENEW = 8 s; passes fail at 2, 4, 6 s.
    await c.advance(TTL - RENEW - 1);
    expect(a.target.running.size).toBe(4);
    await c.advance(1);
    expect(a.target.running.size).toBe(0);
    expect([...a.target.holding.values()]).toEqual(['', '', '', '']);
    // Stopped 2 s before another replica could take the lease.
    expect(c.wallNow()).toBeLessThan(expiresAt);
    // The store comes back: the binds are taken again (nobody else took them).
    failing = false;
    await c.advance(RENEW);
    expect(a.target.running.size).toBe(4);
  });

  it('a frozen replica (SIGSTOP) loses its binds after the TTL; when it resumes it stops them at once and binds none again', async () => {
    const c = cluster(4);
    const a = c.add('a');
    const b = c.add('b');
    await a.own.start();
    expect(a.target.running.size).toBe(4);
    await b.own.start();
    await c.advance(RENEW);
    const frozenHeld = [...a.target.running];
    const frozenEpochs = new Map(frozenHeld.map((id) => [id, a.own.leaseOf(id)!.epoch]));
    a.frozen = true;
    // Frozen: nothing of a runs; b takes its binds once the leases expire.
    for (let i = 0; i < 8; i++) await c.advance(RENEW);
    expect(b.target.running.size).toBe(4);
    // a resumes: its timers are overdue. The deadline timer stops its stale binds before anything.
    a.frozen = false;
    a.clock.advance(a.frozenMs);
    expect(a.target.running.size).toBe(0);
    for (const id of frozenHeld) expect(a.target.heldFor(id)).toBe('');
    await a.own.pass();
    // Its renewal found them taken: shown as b's.
    for (const id of frozenHeld) expect(a.target.heldFor(id) ?? 'runs here').toMatch(/^(b|runs here)$/);
    for (const [, names] of owners(c)) expect(names).toHaveLength(1);
    // Later the two share the binds again, each through a fresh lease: never one bind on both.
    for (let i = 0; i < 3; i++) {
      await c.advance(RENEW);
      for (const [, names] of owners(c)) expect(names).toHaveLength(1);
    }
    expect(a.target.running.size).toBe(2);
    for (const id of a.target.running) {
      expect(a.own.leaseOf(id)!.epoch).toBeGreaterThan((frozenEpochs.get(id) ?? 0) + 1);
    }
  });

  it('leases taken from under a replica are stopped and told in one warning per pass, not one per bind', async () => {
    const c = cluster(30);
    const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
    const log = {
      warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }),
      info: () => {},
      error: () => {},
      debug: () => {},
    } as unknown as Logger;
    const a = c.add('a', { logger: log });
    await a.own.start();
    expect(a.target.running.size).toBe(30);
    // Someone else holds every lease now (an operator's hand, a clock gone wrong): a's renewal finds none.
    const writer = (c.store as unknown as { writer: Parameters<typeof prepare>[0] }).writer;
    prepare(writer, "UPDATE bind_leases SET owner = 'intruder', epoch = epoch + 1").run();
    await a.own.pass();
    expect(a.target.running.size).toBe(0);
    const lost = warnings.filter((w) => /lost to another replica/.test(w.msg));
    expect(lost).toHaveLength(1);
    expect(lost[0]?.obj).toMatchObject({ lost: 30, more: 10 });
    expect(lost[0]?.obj.binds).toHaveLength(20);
  });

  it('gives every lease back and leaves on stop, so another replica takes the binds at its next pass', async () => {
    const c = cluster(4);
    const a = c.add('a');
    const b = c.add('b');
    await a.own.start();
    await b.own.start();
    await c.advance(RENEW);
    expect(a.target.running.size).toBe(2);
    a.target.running.clear(); // serve unbinds first
    c.replicas.delete('a');
    await a.own.stop();
    await c.advance(RENEW);
    expect(b.target.running.size).toBe(4);
    expect(b.own.snapshot().replicas.map((r) => r.owner)).toEqual(['b']);
  });

  it('gives back the lease of a bind that is no longer wanted (removed or disabled)', async () => {
    const c = cluster(3);
    const a = c.add('a');
    await a.own.start();
    a.target.ids = ['b01', 'b02'];
    await a.own.pass();
    expect(a.own.leaseOf('b03')).toBeUndefined();
    const leases = await c.store.listBindLeases();
    expect(leases.find((l) => l.bindId === 'b03')?.held).toBe(false);
  });

  it('takes at once the leases of a holder known gone (same host, process not running)', async () => {
    const c = cluster(2);
    const a = c.add('a');
    await a.own.start();
    a.frozen = true; // killed: never renews again
    c.replicas.delete('a');
    const b = c.add('b', { ownerGone: (owner) => owner === 'a' });
    await b.own.start();
    expect(b.target.running.size).toBe(2);
  });

  it('is the engine’s lease source: the engine holds a lease only while the replica owns the bind', async () => {
    const c = cluster(2);
    const a = c.add('a');
    await a.own.start();
    const leases = new OwnershipLeases(a.own);
    const lease = await leases.acquire('b01');
    expect(lease).toMatchObject({ bindId: 'b01', owner: 'a', epoch: 1 });
    expect(lease).not.toHaveProperty('recovered');
    await c.advance(RENEW);
    expect(await leases.renew(lease!)).toMatchObject({ epoch: 1 });
    a.target.ids = ['b02'];
    await a.own.pass();
    expect(await leases.renew(lease!)).toBeUndefined();
    expect(await leases.acquire('b01')).toBeUndefined();
  });

  it('splits the binds so the shares add up exactly and every replica computes the same split', () => {
    expect(['a', 'b', 'c'].map((self) => fairShare(10, ['c', 'a', 'b'], self))).toEqual([4, 3, 3]);
    expect(['a', 'b', 'c'].map((self) => fairShare(2, ['a', 'b', 'c'], self))).toEqual([1, 1, 0]);
    expect(fairShare(7, [], 'a')).toBe(7);
    // A replica counts itself even before its own heartbeat shows.
    expect(fairShare(9, ['b', 'c'], 'a')).toBe(3);
  });

  it('refuses a TTL that is not more than twice the renew interval', () => {
    const c = cluster(1);
    expect(() => c.add('a', { ttlMs: 4_000, renewIntervalMs: 2_000 })).toThrow(/twice the renew interval/);
  });
});
