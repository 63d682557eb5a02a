/**
 * Who may send on a bind: the engine holds a lease per bind it runs and fences its writes with the
 * lease's epoch. One process: the owner is `${hostname}:${pid}`. The lease source is an injectable
 * piece, so the multi-replica issue can replace it (e.g. with a coordinator) without touching the
 * dispatcher.
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

/** Leases kept in the store itself (single process, or replicas sharing one database). */
export class StoreLeases implements LeaseManager {
  constructor(
    private readonly store: Store,
    readonly owner: string = defaultOwner(),
    readonly ttlMs: number = DEFAULT_LEASE_TTL_MS,
  ) {}

  acquire(bindId: string): Promise<BindLease | undefined> {
    return this.store.acquireBindLease(bindId, this.owner, this.ttlMs);
  }

  renew(lease: BindLease): Promise<BindLease | undefined> {
    return this.store.renewBindLease(lease, this.ttlMs);
  }

  release(lease: BindLease): Promise<void> {
    return this.store.releaseBindLease(lease);
  }
}
