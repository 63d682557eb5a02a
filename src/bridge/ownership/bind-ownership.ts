/**
 * Bind ownership across replicas: one lease per bind in the shared store, so that exactly one
 * replica binds each configured bind, and a bind held by a dead replica comes back within
 * seconds (issue 12).
 *
 * Every `renewIntervalMs` this replica
 *   1. announces itself (heartbeatReplica: live until the database's now + ttlMs) and learns the
 *      live replicas;
 *   2. renews every lease it holds in one statement; a lease missing from the answer was taken
 *      over: the bind is stopped here at once and shown as standby with its new owner;
 *   3. reads every lease and balances: claims free or expired leases up to its fair share
 *      (binds ÷ live replicas, see fairShare), and gives back what it holds above that share (a
 *      replica joined), unbinding first, so binds spread out and move back.
 *
 * Expiry is judged by the database's clock alone (the store writes now + ttlMs with its own
 * clock). This replica also keeps a monotonic deadline per lease: the time the renewal that
 * extended it was *sent* + ttlMs − renewIntervalMs. If renewals fail (database unreachable, this
 * process starved), each bind is stopped when its deadline passes, which is before its lease can
 * expire in the database and be claimed by another replica. The lease epoch is the fencing token
 * for store writes made for the bind (see Store.acquireBindLease).
 *
 * A frozen process (SIGSTOP) cannot stop anything while frozen: its binds are claimed elsewhere
 * after the TTL, and when it resumes the deadline timer (and the failed renewal) stop its stale
 * sessions before anything else runs for them; it binds none of them again.
 *
 * Takeover, fast: a replica that stops renewing (kill -9) leaves its heartbeat and its leases
 * with a fixed expiry. Each pass arms a wake-up just after the earliest expiry among the other
 * replicas' heartbeats and leases, when that comes before the next pass; for a live replica it
 * never does (it renews every interval, its expiry stays a TTL ahead), for a dead one the pass
 * then runs just after its leases expired instead of up to a renew interval later.
 *
 * Binds claimed are started a window at a time (maxStarting connecting or binding at once, the
 * next ones as those bind or fail): thousands of connects at once overflow an SMSC's accept queue
 * and time out, and then come back all together again.
 */
import type { OwnershipGate } from '../../binds/registry.js';
import { ErrorCode, SmppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { type Clock, realClock, type TimerHandle } from '../../session/clock.js';
import type { BindLease, BindLeaseState, LiveReplica, Store } from '../../store/store.js';
import { defaultOwner, ownerGoneHere } from '../outbound/leases.js';

/** Binds named in the one warning of a pass that lost leases (the count is always given). */
const LOST_BINDS_LOGGED = 20;

export const DEFAULT_OWNERSHIP_TTL_MS = 10_000;
export const DEFAULT_RENEW_INTERVAL_MS = 2_000;
/** Binds connecting or binding at once on one replica (see BindOwnershipOptions.maxStarting). */
export const DEFAULT_MAX_STARTING = 200;
/** How often the start window is looked at while binds wait to start. */
const START_CHECK_MS = 50;
/**
 * A wake-up for another replica's expiry comes this long after the expiry as estimated here (the
 * estimate can be early by the heartbeat's round trip; a pass too early only finds nothing to do).
 */
const EXPIRY_MARGIN_MS = 100;
/** Leases claimed in one transaction (one statement on PostgreSQL). */
const CLAIM_BATCH = 5_000;

export type OwnershipStore = Pick<
  Store,
  | 'heartbeatReplica'
  | 'leaveReplica'
  | 'renewBindLeases'
  | 'listBindLeases'
  | 'acquireBindLease'
  | 'acquireBindLeases'
  | 'releaseBindLease'
>;

/** The binds this replica may run, and how to run or hold one (the registry, through serve). */
export interface OwnershipTarget {
  /** Ids of the binds every replica should run between them (enabled ones), in a stable order. */
  desired(): string[];
  /** This replica owns it now: connect and bind. */
  run(id: string): void;
  /** Another replica (owner, '' when none yet) runs it: stop here (unbinding) and show standby. */
  hold(id: string, owner: string): Promise<void>;
  /** The owner the bind is shown held for, or null when it is not on standby here. */
  heldFor(id: string): string | null;
  /**
   * Whether a bind run here is still connecting or binding (neither bound nor failed yet): such
   * binds fill the start window. Without it every claimed bind starts at once.
   */
  starting?(id: string): boolean;
}

export interface BindOwnershipOptions {
  store: OwnershipStore;
  target: OwnershipTarget;
  /** This replica's name in the store (default `${hostname}:${pid}`). */
  owner?: string;
  ttlMs?: number;
  renewIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Whether a lease holder is known gone (same host, pid not running): its leases are taken at once. */
  ownerGone?: (owner: string) => boolean;
  /** Random in [0, 1): the order free leases are tried in, so replicas starting together spread. */
  random?: () => number;
  /**
   * How long start() waits after its first heartbeat before claiming, so that replicas starting
   * together see each other and split the binds at once instead of the first taking them all and
   * giving most back (default 0: one process alone on its store).
   */
  joinDelayMs?: number;
  /**
   * The most binds connecting or binding at once here (default DEFAULT_MAX_STARTING); more wait
   * their turn, holding their lease, and start as earlier ones bind or fail.
   */
  maxStarting?: number;
}

interface Held {
  lease: BindLease;
  /** Monotonic ms: stop the bind by then unless a renewal succeeded. */
  deadline: number;
  /** The recovery the store reported when this lease was taken, handed once to the engine. */
  recovered: string[] | undefined;
}

/** What one pass did (tests and logs). */
export interface OwnershipPass {
  ok: boolean;
  live: number;
  share: number;
  claimed: string[];
  released: string[];
  lost: string[];
}

export interface OwnershipSnapshot {
  owner: string;
  /** Live replicas as of the last successful pass. */
  replicas: LiveReplica[];
  held: string[];
  share: number;
}

/**
 * This replica's fair share of `binds` over the live replicas: binds ÷ replicas, and one more for
 * the first (binds mod replicas) replicas in name order, so the shares add up to the bind count
 * exactly and every replica computes the same split (10 binds over 3: 4, 3, 3).
 */
export function fairShare(binds: number, live: readonly string[], self: string): number {
  const names = [...new Set([...live, self])].sort();
  const base = Math.floor(binds / names.length);
  return base + (names.indexOf(self) < binds % names.length ? 1 : 0);
}

export class BindOwnership implements OwnershipGate {
  readonly owner: string;
  readonly ttlMs: number;
  readonly renewIntervalMs: number;
  private readonly store: OwnershipStore;
  private readonly target: OwnershipTarget;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly ownerGone: (owner: string) => boolean;
  private readonly random: () => number;
  private readonly joinDelayMs: number;
  private readonly maxStarting: number;
  private readonly held = new Map<string, Held>();
  /** Binds claimed and not started yet, in the order they start (see pumpStarts). */
  private readonly toStart = new Set<string>();
  /** Binds started and still connecting or binding: the start window. */
  private readonly startingNow = new Set<string>();
  private startTimer: TimerHandle | null = null;
  /** Runs a pass just after another replica's heartbeat or leases expire (see armWake). */
  private wakeTimer: TimerHandle | null = null;
  /**
   * Binds being given back: unbinding (down: false), then their lease is released by the next
   * pass (never while a renewal is under way, which would extend it again). Not claimed meanwhile.
   */
  private readonly releasing = new Map<string, { lease: BindLease; down: boolean }>();
  /** Who holds each lease elsewhere (held leases of other live owners), from the last pass. */
  private elsewhere = new Map<string, string>();
  private replicas: LiveReplica[] = [];
  private share = 0;
  private tickTimer: TimerHandle | null = null;
  /** When the last pass sent its renewal (monotonic ms). */
  private lastRenewSentAt = Number.NEGATIVE_INFINITY;
  private deadlineTimer: TimerHandle | null = null;
  private running: Promise<OwnershipPass> | null = null;
  private stopped = false;
  private draining = false;
  private started = false;
  private failing = false;
  private readonly listeners = new Set<() => void>();
  private beforePass: (() => Promise<unknown>) | null = null;

  constructor(options: BindOwnershipOptions) {
    this.store = options.store;
    this.target = options.target;
    this.owner = options.owner ?? defaultOwner();
    this.ttlMs = options.ttlMs ?? DEFAULT_OWNERSHIP_TTL_MS;
    this.renewIntervalMs = options.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS;
    if (!(this.ttlMs > 2 * this.renewIntervalMs)) {
      throw new SmppError(
        ErrorCode.Config,
        `the lease TTL (${this.ttlMs} ms) must be more than twice the renew interval (${this.renewIntervalMs} ms)`,
      );
    }
    this.clock = options.clock ?? realClock;
    this.log = options.logger;
    this.ownerGone = options.ownerGone ?? ownerGoneHere;
    this.random = options.random ?? Math.random;
    this.joinDelayMs = options.joinDelayMs ?? 0;
    this.maxStarting = Math.max(1, options.maxStarting ?? DEFAULT_MAX_STARTING);
  }

  /**
   * OwnershipGate: null when this replica runs the bind, else who does ('' when nobody yet). A
   * bind whose lease is held here but that still waits its turn in the start window is '' too,
   * so that the registry (startAll, a bind added) does not start it around the window.
   */
  standbyOwner(id: string): string | null {
    if (this.held.has(id)) return this.toStart.has(id) ? '' : null;
    return this.elsewhere.get(id) ?? '';
  }

  /** The owner of a bind as this replica last saw it: itself, another replica, or null (nobody). */
  ownerOf(id: string): string | null {
    if (this.held.has(id)) return this.owner;
    return this.elsewhere.get(id) ?? null;
  }

  /** The lease this replica holds for a bind (the engine fences its writes with it). */
  leaseOf(id: string): BindLease | undefined {
    return this.held.get(id)?.lease;
  }

  /** The recovery reported when the lease was taken, once (the engine recomputes those messages). */
  takeRecovered(id: string): string[] | undefined {
    const h = this.held.get(id);
    if (h === undefined) return undefined;
    const recovered = h.recovered;
    h.recovered = undefined;
    return recovered;
  }

  /**
   * Runs before each pass, e.g. to pick up binds other replicas created through the API, so every
   * replica balances the same desired set. A failure is logged; the pass goes on.
   */
  setBeforePass(fn: (() => Promise<unknown>) | null): void {
    this.beforePass = fn;
  }

  /** Called after every pass that changed which binds this replica holds. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): OwnershipSnapshot {
    return {
      owner: this.owner,
      replicas: this.replicas.map((r) => ({ ...r })),
      held: [...this.held.keys()].sort(),
      share: this.share,
    };
  }

  /** Runs the first pass (claims this replica's share) and then one every renewIntervalMs. */
  async start(): Promise<OwnershipPass> {
    if (this.started) throw new Error('BindOwnership already started');
    this.started = true;
    if (this.joinDelayMs > 0) {
      await this.store.heartbeatReplica(this.owner, this.ttlMs).catch(() => undefined);
      await new Promise<void>((resolve) => this.clock.setTimer(resolve, this.joinDelayMs));
    }
    return this.pass();
  }

  /** Runs a pass now (after the one in progress, if any). */
  pass(): Promise<OwnershipPass> {
    const run = (this.running ?? Promise.resolve()).then(() => this.runPass());
    const settled = run.finally(() => {
      if (this.running === settled) this.running = null;
      this.arm();
    });
    this.running = settled;
    return run;
  }

  /**
   * Shutdown began: keep renewing what is held (the binds are still unbinding) but claim, give
   * back and hold nothing any more. stop() releases the leases once the binds are down.
   */
  drain(): void {
    this.draining = true;
    this.clearStarts();
    this.wakeTimer?.clear();
    this.wakeTimer = null;
  }

  /**
   * Stops renewing, unbinds nothing itself (the caller stops the binds), then gives every lease
   * back and leaves the replica set, so the others take the binds at their next pass instead of
   * after the TTL. Call after the binds were stopped.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.tickTimer?.clear();
    this.tickTimer = null;
    this.deadlineTimer?.clear();
    this.deadlineTimer = null;
    this.wakeTimer?.clear();
    this.wakeTimer = null;
    this.clearStarts();
    await this.running?.catch(() => undefined);
    const leases = [...this.held.values(), ...this.releasing.values()].map((h) => h.lease);
    this.held.clear();
    this.releasing.clear();
    await Promise.all(leases.map((l) => this.store.releaseBindLease(l).catch(() => undefined)));
    await this.store.leaveReplica(this.owner).catch(() => undefined);
  }

  /**
   * The next pass renewIntervalMs after the last renewal was sent, not after the pass ended: a
   * pass slowed by its balancing (claims, binds starting) must not stretch the renewal interval
   * towards the lease deadline.
   */
  private arm(): void {
    if (this.stopped) return;
    const ms = Math.max(0, this.lastRenewSentAt + this.renewIntervalMs - this.clock.now());
    if (this.tickTimer === null) {
      this.tickTimer = this.clock.setTimer(() => {
        this.tickTimer = null;
        void this.pass().catch(() => undefined);
      }, ms);
    } else this.tickTimer.refresh(ms);
  }

  /** The deadline timer: at the earliest deadline of a held lease, stops the binds past theirs. */
  private armDeadline(): void {
    if (this.stopped) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const h of this.held.values()) earliest = Math.min(earliest, h.deadline);
    if (!Number.isFinite(earliest)) {
      this.deadlineTimer?.clear();
      this.deadlineTimer = null;
      return;
    }
    const ms = Math.max(0, earliest - this.clock.now());
    this.deadlineTimer?.clear();
    this.deadlineTimer = this.clock.setTimer(() => {
      this.deadlineTimer = null;
      this.enforceDeadlines();
    }, ms);
  }

  private enforceDeadlines(): string[] {
    const now = this.clock.now();
    const expired: string[] = [];
    for (const [id, h] of this.held) if (h.deadline <= now) expired.push(id);
    if (expired.length > 0) {
      for (const id of expired) this.held.delete(id);
      this.log?.error(
        { binds: expired.length, ttlMs: this.ttlMs },
        `bind leases could not be renewed in time: ${expired.length} binds stopped here before another replica may take them`,
      );
      for (const id of expired) this.holdQuietly(id, '');
      this.changed();
    }
    this.armDeadline();
    return expired;
  }

  private async runPass(): Promise<OwnershipPass> {
    const result: OwnershipPass = { ok: false, live: 0, share: 0, claimed: [], released: [], lost: [] };
    if (this.stopped) return result;
    if (this.beforePass !== null) {
      try {
        await this.beforePass();
      } catch (error) {
        this.log?.warn({ err: error }, 'bind ownership: refreshing the bind set failed');
      }
      if (this.stopped) return result;
    }
    const sentAt = this.clock.now();
    this.lastRenewSentAt = sentAt;
    let replicas: LiveReplica[];
    let leases: BindLeaseState[];
    try {
      replicas = await this.store.heartbeatReplica(this.owner, this.ttlMs);
      // Binds given back and down by now: their leases go, so another replica may take them.
      const down = [...this.releasing].filter(([, r]) => r.down);
      await Promise.all(down.map(([, r]) => this.store.releaseBindLease(r.lease)));
      for (const [id] of down) this.releasing.delete(id);
      const mine = [...this.held.values()].map((h) => h.lease);
      // Binds still unbinding keep their lease until they are down (no one else binds meanwhile).
      const unbinding = [...this.releasing.values()].map((r) => r.lease);
      const renewed = await this.store.renewBindLeases(this.owner, [...mine, ...unbinding], this.ttlMs);
      if (this.stopped) return result;
      const byId = new Map(renewed.map((l) => [l.bindId, l]));
      for (const sent of mine) {
        const h = this.held.get(sent.bindId);
        // Stopped at its deadline while the renewal was under way: claimed again below if free.
        if (h === undefined || h.lease.epoch !== sent.epoch) continue;
        const lease = byId.get(sent.bindId);
        if (lease !== undefined) {
          h.lease = lease;
          h.deadline = sentAt + this.ttlMs - this.renewIntervalMs;
        } else result.lost.push(sent.bindId); // another replica took it over
      }
      const renewedAt = this.clock.now();
      leases = await this.store.listBindLeases();
      const slowMs = renewedAt - sentAt;
      if (slowMs > this.renewIntervalMs) {
        this.log?.warn(
          {
            renewalMs: Math.round(slowMs),
            listMs: Math.round(this.clock.now() - renewedAt),
            held: mine.length,
          },
          `bind leases: a renewal took ${Math.round(slowMs)} ms (more than the renew interval): the store or this process is slow`,
        );
      }
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        this.log?.warn(
          { err: error, code: (error as { code?: string }).code },
          'bind leases: cannot reach the store; binds stop at their lease deadline unless it comes back',
        );
      }
      this.enforceDeadlines();
      return result;
    }
    if (this.stopped) return result;
    if (this.failing) {
      this.failing = false;
      this.log?.info('bind leases: the store answers again');
    }
    result.ok = true;
    for (const id of result.lost) this.held.delete(id);
    if (this.draining) {
      this.armDeadline();
      return result;
    }

    // A replica of this host whose process is gone is not counted, though its row has not expired.
    this.replicas = replicas.filter((r) => r.owner === this.owner || !this.ownerGone(r.owner));
    const live = new Set(this.replicas.map((r) => r.owner));
    live.add(this.owner);
    const desired = this.target.desired();
    const wanted = new Set(desired);
    const leaseOf = new Map(leases.map((l) => [l.bindId, l]));
    this.elsewhere = new Map();
    for (const l of leases) {
      if (l.held && l.owner !== this.owner && wanted.has(l.bindId)) this.elsewhere.set(l.bindId, l.owner);
    }
    result.live = live.size;
    result.share = fairShare(desired.length, [...live], this.owner);
    this.share = result.share;

    // Binds no longer wanted (removed, disabled): give their leases back.
    for (const [id, h] of this.held) {
      if (wanted.has(id)) continue;
      this.held.delete(id);
      result.released.push(id);
      await this.store.releaseBindLease(h.lease).catch(() => undefined);
    }

    if (this.held.size < result.share) {
      await this.claim(desired, wanted, leaseOf, live, result.claimed);
    } else if (this.held.size > result.share) {
      // A replica joined: give back what is above the share, unbinding before the lease goes.
      // Not awaited: an unbind may take unbindTimeoutMs, and the pass must not hold up the
      // renewals of the binds kept. The lease is given back once the bind is down (until then
      // nobody else may take it; it expires by itself should the release fail).
      const extra = [...this.held.keys()].sort().slice(result.share);
      for (const id of extra) {
        const h = this.held.get(id);
        if (h === undefined) continue;
        this.held.delete(id);
        const entry = { lease: h.lease, down: false };
        this.releasing.set(id, entry);
        result.released.push(id);
        void this.holdQuietly(id, '').then(() => {
          entry.down = true;
        });
      }
    }

    // Everything wanted and not held here is shown standby with its owner (stopped if running).
    for (const id of desired) {
      if (this.held.has(id) || this.releasing.has(id)) continue;
      const owner = this.elsewhere.get(id) ?? '';
      if (this.target.heldFor(id) !== owner) void this.holdQuietly(id, owner);
    }
    if (result.lost.length > 0) {
      // One line per pass, not per bind: a frozen replica that resumes loses its whole share at once.
      const shown = result.lost.slice(0, LOST_BINDS_LOGGED);
      this.log?.warn(
        {
          lost: result.lost.length,
          binds: shown.map((id) => ({ bind: id, owner: this.elsewhere.get(id) ?? null })),
          ...(result.lost.length > shown.length ? { more: result.lost.length - shown.length } : {}),
        },
        `${result.lost.length} bind lease(s) lost to another replica; stopped here`,
      );
    }
    if (result.claimed.length + result.released.length + result.lost.length > 0) {
      this.log?.info(
        {
          owner: this.owner,
          live: result.live,
          share: result.share,
          held: this.held.size,
          claimed: result.claimed.length,
          released: result.released.length,
          lost: result.lost.length,
        },
        `bind ownership: ${this.held.size} of ${desired.length} binds run here (${result.live} live replicas)`,
      );
      this.changed();
    }
    this.armWake(replicas, leases, sentAt);
    this.armDeadline();
    return result;
  }

  private async claim(
    desired: readonly string[],
    wanted: ReadonlySet<string>,
    leaseOf: ReadonlyMap<string, BindLeaseState>,
    live: ReadonlySet<string>,
    claimed: string[],
  ): Promise<void> {
    const free: { id: string; replacing?: string; rank: number }[] = [];
    for (const id of desired) {
      if (this.held.has(id) || this.releasing.has(id)) continue;
      const l = leaseOf.get(id);
      if (l === undefined || !l.held || l.owner === this.owner) free.push({ id, rank: this.random() });
      else if (!live.has(l.owner) && this.ownerGone(l.owner)) {
        // Its holder is a process of this host that no longer runs: no need to wait for the TTL.
        free.push({ id, replacing: l.owner, rank: this.random() });
      }
    }
    free.sort((a, b) => a.rank - b.rank);
    let next = 0;
    const startedAt = this.clock.now();
    while (!this.stopped && this.held.size < this.share && next < free.length) {
      // Claiming must leave room for the next renewal: the rest waits for the next pass.
      if (next > 0 && this.clock.now() - startedAt > this.renewIntervalMs) break;
      // As many as there is room for, in one transaction (the ones another replica took meanwhile
      // are skipped by the store, and the next candidates tried).
      const batch = free.slice(next, next + Math.min(CLAIM_BATCH, this.share - this.held.size));
      next += batch.length;
      const sentAt = this.clock.now();
      let leases: BindLease[];
      try {
        const plain = batch.filter((f) => f.replacing === undefined).map((f) => f.id);
        leases = await this.store.acquireBindLeases(this.owner, plain, this.ttlMs);
        for (const f of batch) {
          if (f.replacing === undefined) continue;
          const lease = await this.store.acquireBindLease(f.id, this.owner, this.ttlMs, f.replacing);
          if (lease !== undefined) leases.push(lease);
        }
      } catch (error) {
        this.log?.warn({ err: error, binds: batch.length }, 'bind lease claim failed');
        return;
      }
      for (const lease of leases) {
        if (this.stopped || this.held.size >= this.share || !wanted.has(lease.bindId)) {
          await this.store.releaseBindLease(lease).catch(() => undefined);
          continue;
        }
        this.held.set(lease.bindId, {
          lease,
          deadline: sentAt + this.ttlMs - this.renewIntervalMs,
          recovered: lease.recovered,
        });
        this.elsewhere.delete(lease.bindId);
        claimed.push(lease.bindId);
        this.toStart.add(lease.bindId);
      }
      this.pumpStarts();
    }
  }

  /**
   * Starts queued binds while the start window has room: a bind leaves the window once it is
   * bound or failed (target.starting). A queued bind whose lease went meanwhile is not started.
   * Looks again every START_CHECK_MS while binds wait or are starting.
   */
  private pumpStarts(): void {
    if (this.startTimer !== null) {
      this.startTimer.clear();
      this.startTimer = null;
    }
    if (this.stopped || this.draining) return;
    const starting = this.target.starting?.bind(this.target);
    for (const id of this.startingNow) {
      if (!this.held.has(id) || starting === undefined || !starting(id)) this.startingNow.delete(id);
    }
    for (const id of this.toStart) {
      if (this.startingNow.size >= this.maxStarting) break;
      this.toStart.delete(id);
      if (!this.held.has(id)) continue;
      this.target.run(id);
      if (starting?.(id)) this.startingNow.add(id);
    }
    if (this.toStart.size > 0 || this.startingNow.size > 0) {
      this.startTimer = this.clock.setTimer(() => {
        this.startTimer = null;
        this.pumpStarts();
      }, START_CHECK_MS);
    }
  }

  private clearStarts(): void {
    this.startTimer?.clear();
    this.startTimer = null;
    this.toStart.clear();
    this.startingNow.clear();
  }

  /**
   * Arms a pass just after the earliest expiry among the other replicas' heartbeats and held
   * leases, when that comes before the next regular pass (a replica that stopped renewing). The
   * database's expiry times are turned into this replica's clock through its own heartbeat: it
   * was written as the database's now + ttlMs, at about `sentAt` here.
   */
  private armWake(replicas: readonly LiveReplica[], leases: readonly BindLeaseState[], sentAt: number): void {
    this.wakeTimer?.clear();
    this.wakeTimer = null;
    if (this.stopped || this.draining) return;
    const self = replicas.find((r) => r.owner === this.owner);
    if (self === undefined) return;
    let earliest = Number.POSITIVE_INFINITY;
    // Per replica, the latest of its heartbeat and its leases: its binds are all free after that.
    const lastExpiry = new Map<string, number>();
    for (const r of replicas) if (r.owner !== this.owner) lastExpiry.set(r.owner, r.expiresAt);
    for (const l of leases) {
      if (!l.held || l.owner === this.owner) continue;
      lastExpiry.set(l.owner, Math.max(lastExpiry.get(l.owner) ?? 0, l.expiresAt));
    }
    for (const e of lastExpiry.values()) earliest = Math.min(earliest, e);
    if (!Number.isFinite(earliest)) return;
    const dbAtSent = self.expiresAt - this.ttlMs;
    const now = this.clock.now();
    const at = Math.max(sentAt + (earliest - dbAtSent), now) + EXPIRY_MARGIN_MS;
    if (at >= this.lastRenewSentAt + this.renewIntervalMs) return;
    this.wakeTimer = this.clock.setTimer(() => {
      this.wakeTimer = null;
      void this.pass().catch(() => undefined);
    }, at - now);
  }

  private holdQuietly(id: string, owner: string): Promise<void> {
    return this.target.hold(id, owner).catch((error: unknown) => {
      this.log?.warn({ err: error, bind: id }, 'could not stop a bind this replica does not own');
    });
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.log?.warn({ err: error }, 'bind ownership listener failed');
      }
    }
  }
}
