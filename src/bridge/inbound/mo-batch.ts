/**
 * Stores the MO that arrive in one turn of the event loop (every deliver_sm read from every bind's
 * socket in that turn) as ONE unit of work, in order, so a commit — on SQLite with synchronous=FULL
 * an fsync that blocks the event loop — serves all of them, not the few that fit the store's group
 * budget (the store closes a group after ~1 ms of units; one MO unit took ~0.3 ms, so a commit
 * carried ~3.5 MO and the flood ran at a few hundred per second whatever the window).
 *
 * Each caller's promise settles only after the unit's commit returned (durable), as with storeMo:
 * the deliver_sm is answered ESME_ROK only then. A batch that fails (one MO the store refuses, or
 * the commit) is stored again one MO per unit, so only the MO that cannot be stored is answered a
 * temporary error; nothing of the failed batch remained (the unit rolled back), so none of its
 * fingerprints makes a retry look like a redelivery.
 *
 * Owns one setImmediate (the flush of the turn); `close()` flushes what is pending and waits for
 * the batches in flight.
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
  private scheduled: NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Units committed and MO in them (for tests and the bench: MO per unit). */
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
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Refuses new MO, stores what is pending, and waits for every batch in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      const run = this.run(batch).finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [one] = batch as [Pending];
      return storeMo(this.deps, one.arrival).then(one.resolve, one.reject);
    }
    let outcomes: MoOutcome[];
    try {
      outcomes = await this.deps.store.transaction(async (tx) => {
        const out: MoOutcome[] = [];
        for (const p of batch) out.push(await storeMoIn(tx, this.deps, p.arrival));
        return out;
      });
    } catch {
      // One MO spoiled the unit (or the commit failed): each on its own, so only a bad one fails.
      this.stats.fallbacks++;
      await Promise.all(batch.map((p) => storeMo(this.deps, p.arrival).then(p.resolve, p.reject)));
      return;
    }
    this.stats.batches++;
    this.stats.mo += batch.length;
    for (let i = 0; i < batch.length; i++) batch[i]?.resolve(outcomes[i] as MoOutcome);
  }
}
