/**
 * Stores the MO that arrive while the store is busy as ONE unit of work, in order, so a commit — on
 * SQLite with synchronous=FULL an fsync that blocks the event loop — serves all of them, not the few
 * that fit the store's group budget (the store closes a group after ~1 ms of units; one MO unit took
 * ~0.3 ms, so a commit carried ~3.5 MO and the flood ran at a few hundred per second whatever the
 * window).
 *
 * The unit is queued at the first MO and takes, when the store runs it, every MO that arrived by
 * then (up to maxBatch; the rest go in the next unit): batching adds no wait of its own, so an SMSC
 * with a small window (latency-bound) is answered as soon as without it.
 *
 * Each caller's promise settles only after the unit's commit returned (durable), as with storeMo:
 * the deliver_sm is answered ESME_ROK only then. A batch that fails (one MO the store refuses, or
 * the commit) is stored again one MO per unit, so only the MO that cannot be stored is answered a
 * temporary error; nothing of the failed batch remained (the unit rolled back), so none of its
 * fingerprints makes a retry look like a redelivery.
 *
 * Owns no timer; `close()` waits for the units in flight (which take what is pending).
 */
import { storeClosedError } from '../../store/errors.js';
import type { MoArrival, MoOutcome, StoreMoDeps } from './store-mo.js';
import { storeMo, storeMoIn } from './store-mo.js';

/** Most MO in one unit: bounds how long one unit holds the writer (and blocks the event loop). */
export const DEFAULT_MAX_MO_BATCH = 256;

interface Pending {
  arrival: MoArrival;
  resolve(outcome: MoOutcome): void;
  reject(error: unknown): void;
}

export class MoBatcher {
  private pending: Pending[] = [];
  /** A unit is queued in the store and has not yet taken its MO. */
  private queued = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Units committed, MO in them, and batches stored again one by one (for tests and the bench). */
  readonly stats = { batches: 0, mo: 0, fallbacks: 0 };

  constructor(
    private readonly deps: StoreMoDeps,
    private readonly maxBatch = DEFAULT_MAX_MO_BATCH,
  ) {}

  /** Resolves once the MO is durably stored (or recognised as a redelivery). */
  store(arrival: MoArrival): Promise<MoOutcome> {
    if (this.closed) return Promise.reject(storeClosedError());
    return new Promise<MoOutcome>((resolve, reject) => {
      this.pending.push({ arrival, resolve, reject });
      if (!this.queued) this.queueUnit();
    });
  }

  /** Refuses new MO and waits until every MO given was stored (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private take(): Pending[] {
    const batch = this.pending.splice(0, this.maxBatch);
    // What did not fit goes in a unit of its own, queued behind this one.
    if (this.pending.length > 0) this.queueUnit();
    return batch;
  }

  private queueUnit(): void {
    this.queued = true;
    let batch: Pending[] | null = null;
    const unit = this.deps.store.transaction(async (tx) => {
      this.queued = false;
      batch = this.take();
      const out: MoOutcome[] = [];
      for (const p of batch) out.push(await storeMoIn(tx, this.deps, p.arrival));
      return out;
    });
    const settled = unit.then(
      (outcomes) => {
        const taken = batch ?? [];
        this.stats.batches++;
        this.stats.mo += taken.length;
        for (let i = 0; i < taken.length; i++) taken[i]?.resolve(outcomes[i] as MoOutcome);
      },
      async (error: unknown) => {
        // Refused before it ran (it took nothing yet: take now), or one MO spoiled the unit, or the
        // commit failed: each on its own, so only an MO that cannot be stored fails.
        if (batch === null) {
          this.queued = false;
          batch = this.take();
        }
        const taken: Pending[] = batch;
        if (taken.length === 1) return taken[0]?.reject(error);
        this.stats.fallbacks++;
        await Promise.all(taken.map((p) => storeMo(this.deps, p.arrival).then(p.resolve, p.reject)));
      },
    );
    const tracked = settled.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
