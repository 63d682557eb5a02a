/**
 * The outbound engine: one BindWorker per bind that is in a route, the bind leases that fence
 * their writes, the receipt correlation, and the slow timers (poll, lease renewal, validity
 * sweep). It is the OutboundPort the HTTP routes notify, and the ReceiptSink the inbound handler
 * calls.
 *
 * Start: every bind's lease is acquired (after a crash, the new owner's acquire turns parts left
 * `sending` into `unknown` and requeues claimed ones; their messages' statuses are recomputed
 * here, so nothing accepted is lost or silently stuck). A lease held by another owner is tried
 * again at every renewal.
 *
 * Stop (shutdown order): stop claiming (held parts go back to the queue) → let responses in
 * flight land, up to `drainMs` → release the leases. The caller then unbinds and closes the store.
 */
import type { BindRegistry } from '../../binds/registry.js';
import type { Logger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import { type Clock, realClock, type TimerHandle } from '../../session/clock.js';
import type { BindLease, Store } from '../../store/store.js';
import type { MessagePath, OutboundPort, ReceiptSink, SendReservation, StatusEventSink } from '../ports.js';
import type { Route, RouteTable } from '../routing.js';
import { BindWorker } from './bind-worker.js';
import { type LeaseManager, StoreLeases } from './leases.js';
import { DEFAULT_OUTBOUND, type OutboundOptions } from './options.js';
import { ReceiptCorrelator } from './receipts.js';
import { type StatusListener, StatusRecorder } from './status.js';

/** Binds named in one lease log line (the count is always given). */
const BINDS_LOGGED = 20;

/** Counters the metrics read (plain numbers: no per-message labels). */
export interface OutboundCounters {
  /** submit_sm responses by route and command status name. */
  readonly responses: Map<string, number>;
  receiptsMatched: number;
  receiptsOrphaned: number;
  /** Messages stored `sending` on a reserved bind and written without the queue (reserveSend). */
  directSends: number;
}

export type SubmitLatencyListener = (route: string, bindId: string, latencyMs: number) => void;

export interface OutboundEngineDeps {
  store: Store;
  registry: BindRegistry;
  routes: RouteTable;
  options?: OutboundOptions;
  /** Told of every status change in the store transaction (the webhook fan-out). Default: none. */
  sink?: StatusEventSink;
  /** Default: store leases owned by `${hostname}:${pid}`. */
  leases?: LeaseManager;
  /** Timers and the token buckets (monotonic). */
  clock?: Clock;
  /** Wall-clock ms, as the store's (retry times, validity). */
  wallNow?: () => number;
  logger?: Logger;
  random?: () => number;
}

export class OutboundEngine implements OutboundPort {
  readonly receipts: ReceiptSink;
  readonly recorder: StatusRecorder;
  readonly counters: OutboundCounters = {
    responses: new Map(),
    receiptsMatched: 0,
    receiptsOrphaned: 0,
    directSends: 0,
  };
  readonly options: OutboundOptions;
  readonly leases: LeaseManager;
  private readonly store: Store;
  private readonly registry: BindRegistry;
  private readonly routeTable: RouteTable;
  private readonly clock: Clock;
  private readonly wallNow: () => number;
  private readonly log: Logger;
  private readonly workers = new Map<string, BindWorker>();
  /** Route id → the workers of its binds. */
  private readonly byRoute = new Map<string, BindWorker[]>();
  /** Route id → where round_robin reservations start next. */
  private readonly reserveCursor = new Map<string, number>();
  private readonly latencyListeners = new Set<SubmitLatencyListener>();
  private pollTimer: TimerHandle | null = null;
  private leaseTimer: TimerHandle | null = null;
  private sweepTimer: TimerHandle | null = null;
  private openParts = 0;
  private counting = false;
  private started = false;
  private stopped = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(deps: OutboundEngineDeps) {
    this.store = deps.store;
    this.registry = deps.registry;
    this.routeTable = deps.routes;
    this.options = deps.options ?? DEFAULT_OUTBOUND;
    this.clock = deps.clock ?? realClock;
    this.wallNow = deps.wallNow ?? Date.now;
    this.log = deps.logger ?? silentLogger;
    this.leases = deps.leases ?? new StoreLeases(deps.store, undefined, this.options.leaseTtlMs);
    this.recorder = new StatusRecorder(deps.store, deps.sink, this.wallNow);
    this.receipts = new ReceiptCorrelator(this.recorder, deps.routes, {
      matched: (n) => {
        this.counters.receiptsMatched += n;
      },
      orphaned: (n) => {
        this.counters.receiptsOrphaned += n;
      },
    });
    const random = deps.random ?? Math.random;
    const bindRoutes = new Map<string, (typeof deps.routes.routes)[number][]>();
    for (const route of deps.routes.routes) {
      for (const bindId of route.binds) {
        const list = bindRoutes.get(bindId) ?? [];
        list.push(route);
        bindRoutes.set(bindId, list);
      }
    }
    for (const [bindId, routes] of bindRoutes) {
      const worker = new BindWorker({
        bindId,
        routes,
        store: this.store,
        recorder: this.recorder,
        bind: () => this.registry.get(bindId),
        clock: this.clock,
        wallNow: this.wallNow,
        options: this.options,
        logger: this.log,
        random,
        observer: {
          submitted: (route, bind, latencyMs, commandStatus) => {
            const key = `${route}\u0000${commandStatus}`;
            this.counters.responses.set(key, (this.counters.responses.get(key) ?? 0) + 1);
            for (const listener of this.latencyListeners) listener(route, bind, latencyMs);
          },
          receiptsMatched: (n) => {
            this.counters.receiptsMatched += n;
          },
          settled: (n) => {
            this.openParts = Math.max(0, this.openParts - n);
          },
        },
        onFenced: () => this.armLeases(0),
        mayTake: (route, id) => this.mayTake(route, id),
      });
      this.workers.set(bindId, worker);
      for (const route of routes) {
        const list = this.byRoute.get(route.id) ?? [];
        list.push(worker);
        this.byRoute.set(route.id, list);
      }
    }
  }

  /**
   * Whether the bind may take the route's messages now: always for round_robin and
   * least_outstanding; for failover only while no bind listed before it is usable.
   */
  private mayTake(route: Route, bindId: string): boolean {
    if (route.strategy !== 'failover') return true;
    for (const other of route.binds) {
      if (other === bindId) return true;
      if (this.workers.get(other)?.usable) return false;
    }
    return true;
  }

  /** The message path for the HTTP layer. */
  messagePath(): MessagePath {
    return { store: this.store, outbound: this, routes: () => this.routeTable };
  }

  routes(): RouteTable {
    return this.routeTable;
  }

  /** Status changes after their commit (SSE, metrics). Returns the unsubscribe. */
  onStatusChange(listener: StatusListener): () => void {
    return this.recorder.onChange(listener);
  }

  /** Every submit_sm response's latency. Returns the unsubscribe. */
  onSubmitLatency(listener: SubmitLatencyListener): () => void {
    this.latencyListeners.add(listener);
    return () => this.latencyListeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // A transition of one bind may hand a failover route to another: wake the workers that may
    // send. Once per burst: thousands of binds starting together make thousands of transitions in
    // one turn, and waking every worker for each of them was quadratic (seconds at 10,000 binds).
    const onTransition = (): void => {
      if (this.wakeAllTimer !== null || this.stopped) return;
      this.wakeAllTimer = this.clock.setTimer(() => {
        this.wakeAllTimer = null;
        if (this.stopped) return;
        for (const worker of this.workers.values()) if (worker.lease !== null) worker.poke();
      }, 0);
    };
    this.registry.on('transition', onTransition);
    this.unsubscribe.push(() => this.registry.off('transition', onTransition));
    for (const worker of this.workers.values()) this.followBind(worker.bindId);
    const onAdded = ({ bindId }: { bindId: string }): void => this.followBind(bindId);
    this.registry.on('added', onAdded);
    this.unsubscribe.push(() => this.registry.off('added', onAdded));
    await this.refreshLeases();
    await this.countOpenParts();
    this.pollTimer = this.clock.setTimer(() => this.poll(), this.options.pollIntervalMs);
    this.sweepTimer = this.clock.setTimer(() => void this.sweepValidity(), 0);
    this.armLeases(Math.floor(this.leases.ttlMs / 3));
    for (const worker of this.workers.values()) worker.wake();
  }

  private readonly followed = new Set<string>();
  /** A wake of every worker after a burst of bind transitions, pending (see start()). */
  private wakeAllTimer: TimerHandle | null = null;

  private followBind(bindId: string): void {
    const bind = this.registry.get(bindId);
    const worker = this.workers.get(bindId);
    if (!bind || !worker || this.followed.has(bindId)) return;
    this.followed.add(bindId);
    const onBound = (): void => worker.poke();
    bind.on('bound', onBound);
    this.unsubscribe.push(() => {
      bind.off('bound', onBound);
      this.followed.delete(bindId);
    });
  }

  notifyQueued(route: string, parts = 1): void {
    this.openParts += parts;
    const workers = this.byRoute.get(route);
    if (workers) for (const worker of workers) worker.poke();
  }

  reserveSend(routeId: string, parts: number): SendReservation | undefined {
    const workers = this.byRoute.get(routeId);
    const route = this.routeTable.byId.get(routeId);
    if (this.stopped || workers === undefined || route === undefined) return undefined;
    const worker = this.reserveOn(route, workers, parts);
    if (worker === undefined) {
      // It will be queued: until a claim finds the queue empty, nothing of this route may overtake it.
      for (const w of workers) w.poke();
      return undefined;
    }
    const lease = worker.lease as BindLease;
    let settled = false;
    return {
      fence: lease,
      send: (message, stored) => {
        if (settled) return;
        settled = true;
        this.openParts += stored.length;
        this.counters.directSends++;
        worker.sendReserved(lease, route, message, stored);
      },
      release: () => {
        if (settled) return;
        settled = true;
        worker.unreserve(parts);
      },
    };
  }

  /** The route's bind that takes the reservation, in the route's strategy order. */
  private reserveOn(route: Route, workers: readonly BindWorker[], parts: number): BindWorker | undefined {
    const n = workers.length;
    if (route.strategy === 'least_outstanding') {
      const order = [...workers].sort((a, b) => a.busy - b.busy);
      return order.find((w) => w.reserve(parts));
    }
    if (route.strategy === 'failover') {
      return workers.find((w) => this.mayTake(route, w.bindId) && w.reserve(parts));
    }
    // round_robin: the cursor moves once per turn of the event loop, so the messages of one
    // commit go to one bind and leave in one write (a PDU per bind per write costs the SMSC too).
    const start = this.reserveCursor.get(route.id) ?? 0;
    for (let k = 0; k < n; k++) {
      const worker = workers[(start + k) % n]!;
      if (worker.reserve(parts)) {
        if (k > 0) this.reserveCursor.set(route.id, (start + k) % n);
        this.advanceCursorLater(route.id);
        return worker;
      }
    }
    return undefined;
  }

  private readonly cursorsToAdvance = new Set<string>();
  private advanceCursorLater(routeId: string): void {
    if (this.cursorsToAdvance.size === 0) {
      setImmediate(() => {
        for (const id of this.cursorsToAdvance) {
          const n = this.byRoute.get(id)?.length ?? 1;
          this.reserveCursor.set(id, ((this.reserveCursor.get(id) ?? 0) + 1) % n);
        }
        this.cursorsToAdvance.clear();
      });
    }
    this.cursorsToAdvance.add(routeId);
  }

  queuedParts(): number {
    return this.openParts;
  }

  get maxQueuedParts(): number {
    return this.options.maxQueuedParts;
  }

  /** Parts held by the workers or waiting for a response (for tests and the shutdown log). */
  get inFlight(): number {
    let n = 0;
    for (const worker of this.workers.values()) n += worker.outstanding;
    return n;
  }

  /** Every worker is out of its send loop with nothing outstanding. */
  get idle(): boolean {
    for (const worker of this.workers.values()) if (!worker.idle) return false;
    return true;
  }

  private poll(): void {
    if (this.stopped) return;
    // Scheduled and retried parts come due, other replicas queue: claim before any direct send.
    for (const worker of this.workers.values()) worker.poke();
    if (++this.pollsSinceCount >= this.countEveryPolls) void this.countOpenParts();
    this.pollTimer?.refresh(this.options.pollIntervalMs);
  }

  /** Polls since the open parts were last counted, and how many polls a count waits (recountEvery). */
  private pollsSinceCount = 0;
  private countEveryPolls = 1;

  /**
   * The store's count of open parts (the queue bound's truth: other replicas, cancels and expiries
   * change it too); between counts, this engine adds what it queues or sends and subtracts what
   * settles. A count reads every open part: with a deep queue it takes milliseconds of the event
   * loop, so it runs less often the longer it took (recountEvery).
   */
  private async countOpenParts(): Promise<void> {
    if (this.counting) return;
    this.counting = true;
    this.pollsSinceCount = 0;
    const started = this.clock.now();
    try {
      this.openParts = await this.store.countOpenParts();
      this.countEveryPolls = recountEvery(this.clock.now() - started);
    } catch (error) {
      this.log.warn({ err: error }, 'outbound: cannot count the open parts');
    } finally {
      this.counting = false;
    }
  }

  /** Bind ownership changed (a lease taken, lost or given back): re-read the leases now. */
  leasesChanged(): void {
    this.armLeases(0);
  }

  private armLeases(ms: number): void {
    if (this.stopped) return;
    if (this.leaseTimer === null) {
      this.leaseTimer = this.clock.setTimer(() => {
        void this.refreshLeases().finally(() => this.armLeases(Math.floor(this.leases.ttlMs / 3)));
      }, ms);
    } else this.leaseTimer.refresh(ms);
  }

  /**
   * Acquires missing leases (recovering what an older owner left) and renews held ones. What
   * changed is logged once per pass, not once per bind: when a replica's share moves, thousands of
   * binds change hands at once.
   */
  private async refreshLeases(): Promise<void> {
    const lost: string[] = [];
    const recovered: { bindId: string; messages: number }[] = [];
    const failed: { bindId: string; error: unknown }[] = [];
    for (const worker of this.workers.values()) {
      if (this.stopped) break;
      try {
        if (worker.lease === null) {
          const lease = await this.leases.acquire(worker.bindId);
          if (lease === undefined) continue;
          if (lease.recovered && lease.recovered.length > 0) {
            await this.recover(lease);
            recovered.push({ bindId: lease.bindId, messages: lease.recovered.length });
          }
          worker.lease = lease;
          worker.poke();
        } else {
          const renewed = await this.leases.renew(worker.lease);
          if (renewed === undefined) {
            lost.push(worker.bindId);
            worker.dropLease();
          } else worker.lease = renewed;
        }
      } catch (error) {
        failed.push({ bindId: worker.bindId, error });
      }
    }
    if (lost.length > 0) {
      this.log.warn(
        { binds: lost.length, first: lost.slice(0, BINDS_LOGGED) },
        'outbound: bind leases lost; this process stops sending on those binds',
      );
    }
    if (recovered.length > 0) {
      this.log.warn(
        {
          binds: recovered.length,
          messages: recovered.reduce((n, r) => n + r.messages, 0),
          first: recovered.slice(0, BINDS_LOGGED).map((r) => r.bindId),
        },
        'outbound: took binds over from an earlier owner; parts it was sending are unknown, claimed ones queued again',
      );
    }
    if (failed.length > 0) {
      this.log.warn(
        {
          err: failed[0]?.error,
          binds: failed.length,
          first: failed.slice(0, BINDS_LOGGED).map((f) => f.bindId),
        },
        'outbound: bind lease refresh failed',
      );
    }
  }

  /** Recomputes the messages whose parts an older owner left behind. */
  private async recover(lease: BindLease): Promise<void> {
    const ids = lease.recovered ?? [];
    await this.recorder.transaction(async (_tx, recompute) => {
      for (const id of ids) await recompute(id);
    });
  }

  /** Fails queued messages whose validity ended (once each), wherever their route stands. */
  private async sweepValidity(): Promise<void> {
    if (this.stopped) return;
    try {
      for (;;) {
        const expired = await this.store.listMessagesPastValidity(this.wallNow(), 100);
        if (expired.length === 0) break;
        await this.recorder.transaction(async (_tx, recompute) => {
          for (const message of expired) await recompute(message.id, { failure: 'VALIDITY_EXPIRED' });
        });
        if (expired.length < 100) break;
      }
    } catch (error) {
      this.log.warn({ err: error }, 'outbound: validity sweep failed');
    }
    if (this.stopped) return;
    if (this.sweepTimer === null) {
      this.sweepTimer = this.clock.setTimer(
        () => void this.sweepValidity(),
        this.options.validitySweepIntervalMs,
      );
    } else this.sweepTimer.refresh(this.options.validitySweepIntervalMs);
  }

  /**
   * Stops claiming, lets responses in flight land (up to drainMs), releases the leases. Resolves
   * with the number of responses still outstanding when the drain ended.
   */
  async stop(drainMs = 5_000): Promise<{ outstanding: number }> {
    if (this.stopped) return { outstanding: this.inFlight };
    this.stopped = true;
    this.wakeAllTimer?.clear();
    this.wakeAllTimer = null;
    this.pollTimer?.clear();
    this.leaseTimer?.clear();
    this.sweepTimer?.clear();
    for (const off of this.unsubscribe.splice(0)) off();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    const drained = Promise.all([...this.workers.values()].map((w) => w.whenIdle()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      drained,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drainMs);
      }),
    ]);
    clearTimeout(timer);
    const outstanding = this.inFlight;
    for (const worker of this.workers.values()) {
      const lease = worker.lease;
      if (lease === null) continue;
      worker.dropLease();
      await this.leases.release(lease).catch(() => {});
    }
    return { outstanding };
  }
}

/**
 * How many polls apart the open parts are counted, from how long the last count held the event
 * loop: every poll while it takes under 2 ms, else one poll per 2 ms it took (a 12 ms count of a
 * 40,000-part queue runs every 6th poll), at most every 30th.
 */
export function recountEvery(countMs: number): number {
  return Math.min(30, Math.max(1, Math.ceil(countMs / 2)));
}
