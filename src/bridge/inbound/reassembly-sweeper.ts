/**
 * Delivers the MO sets that never completed: a set whose first part is older than
 * mo.reassemblyTimeoutMs becomes one message with `incomplete: true` and the missing part numbers in
 * its metadata, never dropped. Each batch is one transaction (list, store, tell the sink, remove the
 * parts), so a part arriving meanwhile is either in the message or starts a new set.
 *
 * One timer, owned here, on the injected clock; `close()` clears it and waits for a sweep in flight.
 */
import type { Logger } from '../../logger.js';
import type { Clock, TimerHandle } from '../../session/clock.js';
import type { Store } from '../../store/store.js';
import { decideReassembly, type MoPart } from '../mo-reassembly.js';
import type { InboundEventSink } from '../ports.js';
import { deliver, joinedFields } from './store-mo.js';

/** Sets delivered per transaction. */
const SWEEP_BATCH = 50;

export interface ReassemblySweeperDeps {
  store: Store;
  events: InboundEventSink;
  clock: Clock;
  /** Wall-clock ms, the store's time base. */
  now: () => number;
  reassemblyTimeoutMs: number;
  sweepIntervalMs: number;
  routeOfBind: (bindId: string) => string | null;
  newId: () => string;
  logger?: Logger;
}

/** The parts of a set key (moSetKey in mo-reassembly.ts): [scope, source, destination, method, reference, total]. */
function addressesOf(groupKey: string): { from: string; to: string; method?: string; reference?: number } {
  try {
    const [, from, to, method, reference] = JSON.parse(groupKey) as [string, string, string, string, number];
    return { from: String(from), to: String(to), method, reference };
  } catch {
    return { from: '', to: '' };
  }
}

export class ReassemblySweeper {
  private timer: TimerHandle | null = null;
  private running: Promise<number> | null = null;
  private closed = false;

  constructor(private readonly deps: ReassemblySweeperDeps) {}

  start(): void {
    if (this.closed || this.timer) return;
    this.timer = this.deps.clock.setTimer(() => this.tick(), this.deps.sweepIntervalMs);
  }

  private tick(): void {
    void this.sweep().finally(() => {
      if (!this.closed) this.timer?.refresh();
    });
  }

  /** Delivers every set that timed out by now; resolves with how many. Never rejects (logs instead). */
  sweep(): Promise<number> {
    // A sweep under way began at an earlier "now" (its store work waits for the fsync): run
    // another once it is done, so what timed out by this call's now is delivered too.
    if (this.running) return this.running.then(() => this.sweep());
    this.running = this.sweepAll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweepAll(): Promise<number> {
    let delivered = 0;
    try {
      for (;;) {
        const n = await this.sweepBatch();
        delivered += n;
        if (n < SWEEP_BATCH || this.closed) break;
      }
    } catch (error) {
      this.deps.logger?.warn(
        { err: error, delivered },
        'MO reassembly sweep failed; retrying at the next one',
      );
    }
    return delivered;
  }

  private sweepBatch(): Promise<number> {
    const { store, reassemblyTimeoutMs } = this.deps;
    const now = this.deps.now();
    return store.transaction(async (tx) => {
      const groups = await tx.listStaleInboundGroups(now - reassemblyTimeoutMs, SWEEP_BATCH);
      for (const group of groups) {
        const total = group.parts[0]?.total ?? 0;
        const parts: MoPart[] = group.parts.map((p) => ({
          total: p.total,
          seq: p.index + 1,
          dataCoding: p.dataCoding,
          payload: p.payload,
        }));
        const verdict = decideReassembly(parts, group.firstReceivedAt, now, reassemblyTimeoutMs);
        const missing = verdict.status === 'waiting' ? verdict.missing : (verdict.message.missing ?? []);
        const { from, to, method, reference } = addressesOf(group.groupKey);
        const bindId = group.parts[0]?.bindId ?? '';
        await deliver(
          tx,
          this.deps,
          {
            id: this.deps.newId(),
            bindId,
            route: this.deps.routeOfBind(bindId),
            from,
            to,
            ...joinedFields(group.parts),
            incomplete: missing.length > 0,
            metadata: { concat: { method, reference, total }, missing },
          },
          group.groupKey,
        );
        this.deps.logger?.info(
          { bindId, from, to, parts: group.parts.length, total, missing },
          'MO set timed out: delivered incomplete',
        );
      }
      return groups.length;
    });
  }

  /** Stops the timer and waits for a sweep in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.clear();
    this.timer = null;
    await this.running;
  }
}
