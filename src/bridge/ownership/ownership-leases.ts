/**
 * The outbound engine's lease source when bind ownership runs: the engine sends on a bind only
 * while this replica owns it, and fences its writes with the ownership lease's epoch. Nothing
 * here talks to the store: BindOwnership takes, renews and gives back the leases.
 */
import type { BindLease } from '../../store/store.js';
import type { LeaseManager } from '../outbound/leases.js';
import type { BindOwnership } from './bind-ownership.js';

export class OwnershipLeases implements LeaseManager {
  constructor(private readonly ownership: BindOwnership) {}

  get owner(): string {
    return this.ownership.owner;
  }

  /** The engine re-reads its leases this often; ownership changes also wake it (leasesChanged). */
  get ttlMs(): number {
    return this.ownership.ttlMs;
  }

  async acquire(bindId: string): Promise<BindLease | undefined> {
    const lease = this.ownership.leaseOf(bindId);
    if (lease === undefined) return undefined;
    const { recovered: _ignored, ...held } = lease;
    const recovered = this.ownership.takeRecovered(bindId);
    return recovered !== undefined && recovered.length > 0 ? { ...held, recovered } : held;
  }

  async renew(lease: BindLease): Promise<BindLease | undefined> {
    const current = this.ownership.leaseOf(lease.bindId);
    if (current === undefined || current.epoch !== lease.epoch) return undefined;
    const { recovered: _ignored, ...held } = current;
    return held;
  }

  /** The ownership gives leases back (it unbinds first); the engine only stops using it. */
  async release(_lease: BindLease): Promise<void> {}
}
