/**
 * A process restarted after a crash takes its bind leases at once when their holder is a process
 * of this host that no longer runs, instead of waiting up to leaseTtlMs before sending; a holder
 * that still runs, or one on another host, keeps the bind until its lease expires.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ownerGoneHere, StoreLeases } from '../../../src/bridge/outbound/leases.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite-store.js';

let store: SqliteStore | undefined;
let dir: string | undefined;
let t = 1_000_000;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function open(): SqliteStore {
  dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-leases-'));
  store = openSqliteStore({ path: join(dir, 'store.db'), now: () => t });
  return store;
}

/** The pid of a process that ran and exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '0']);
  return pid!;
}

describe('bind leases after a restart', () => {
  it('takes a lease at once from a process of this host that is gone, raising the epoch (the old one is fenced off)', async () => {
    const s = open();
    const gone = `${hostname()}:${deadPid()}`;
    const old = await s.acquireBindLease('b1', gone, 30_000);
    expect(old?.epoch).toBe(1);
    const leases = new StoreLeases(s, `${hostname()}:${process.pid}`, 30_000);
    const lease = await leases.acquire('b1');
    expect(lease).toMatchObject({ bindId: 'b1', owner: `${hostname()}:${process.pid}`, epoch: 2 });
    // The old epoch is fenced off.
    expect(await s.renewBindLease(old!, 30_000)).toBeUndefined();
  });

  it('waits for the expiry of a holder whose process runs, or of another host', async () => {
    const s = open();
    const leases = new StoreLeases(s, `${hostname()}:${process.pid}`, 30_000);
    await s.acquireBindLease('b1', `${hostname()}:${process.ppid}`, 30_000);
    await s.acquireBindLease('b2', `another-host-${hostname()}:${deadPid()}`, 30_000);
    expect(await leases.acquire('b1')).toBeUndefined();
    expect(await leases.acquire('b2')).toBeUndefined();
    t += 30_001;
    expect((await leases.acquire('b1'))?.epoch).toBe(2);
    expect((await leases.acquire('b2'))?.epoch).toBe(2);
  });

  it('reads an owner as gone only in the form defaultOwner writes, on this host, not this process', () => {
    const dead = () => false;
    expect(ownerGoneHere(`${hostname()}:4242`, dead)).toBe(true);
    expect(ownerGoneHere(`${hostname()}:4242`, () => true)).toBe(false);
    expect(ownerGoneHere(`${hostname()}:${process.pid}`, dead)).toBe(false);
    expect(ownerGoneHere(`other:4242`, dead)).toBe(false);
    expect(ownerGoneHere(`${hostname()}:0`, dead)).toBe(false);
    expect(ownerGoneHere(`${hostname()}:x1`, dead)).toBe(false);
    expect(ownerGoneHere('replica-a', dead)).toBe(false);
  });
});
