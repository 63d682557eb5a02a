/**
 * Who may send on a bind: the engine holds a lease per bind it runs and fences its writes with the
 * lease's epoch. One process: the owner is `${hostname}:${pid}`. The lease source is an injectable
 * piece, so the multi-replica issue can replace it (e.g. with a coordinator) without touching the
 * dispatcher.
 *
 * A process restarted after a crash would wait for its predecessor's lease to expire (up to
 * `ttlMs`) before sending. When the holder is an owner of this host whose process is gone (its pid
 * is not running), the lease is taken at once instead; a holder on another host, or one whose pid
 * still runs, is waited for as before.
 */
import { hostname } from 'node:os';
import type { BindLease, Store } from '../../store/store.js';

export interface LeaseManager {
  /** The owner name written to the store. */
  readonly owner: string;
  readonly ttlMs: number;
  /** Takes the bind (recovering what an older epoch left: see BindLease.recovered); undefined when held elsewhere. */
  acquire(bindId: string): Promise<BindLease | undefined>;
  /** Extends it; undefined when lost. */
  renew(lease: BindLease): Promise<BindLease | undefined>;
  release(lease: BindLease): Promise<void>;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `owner` names a process of this host (`${hostname}:${pid}`, as defaultOwner writes it)
 * other than this one that no longer runs. Anything else (another host, another form) is not gone.
 */
export function ownerGoneHere(owner: string, runs: (pid: number) => boolean = pidRuns): boolean {
  const at = owner.lastIndexOf(':');
  if (at <= 0 || owner.slice(0, at) !== hostname()) return false;
  const text = owner.slice(at + 1);
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return false;
  const pid = Number(text);
  return pid !== process.pid && !runs(pid);
}

/** Leases kept in the store itself (single process, or replicas sharing one database). */
export class StoreLeases implements LeaseManager {
  constructor(
    private readonly store: Store,
    readonly owner: string = defaultOwner(),
    readonly ttlMs: number = DEFAULT_LEASE_TTL_MS,
    private readonly ownerGone: (owner: string) => boolean = ownerGoneHere,
  ) {}

  async acquire(bindId: string): Promise<BindLease | undefined> {
    const lease = await this.store.acquireBindLease(bindId, this.owner, this.ttlMs);
    if (lease !== undefined || this.store.bindLeaseHolder === undefined) return lease;
    const holder = await this.store.bindLeaseHolder(bindId);
    if (holder === undefined || !this.ownerGone(holder.owner)) return undefined;
    return this.store.acquireBindLease(bindId, this.owner, this.ttlMs, holder.owner);
  }

  renew(lease: BindLease): Promise<BindLease | undefined> {
    return this.store.renewBindLease(lease, this.ttlMs);
  }

  release(lease: BindLease): Promise<void> {
    return this.store.releaseBindLease(lease);
  }
}
