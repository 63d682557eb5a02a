/**
 * The bind set of the service. The registry owns it: add, remove, start, stop, replace and
 * reconcile (apply a desired set) are the only ways binds come and go, whoever asks (config
 * reload, the bind API, the lease owner). It also answers every bind's inbound requests through
 * one handler, merges the binds' health transitions into one stream, and runs one sweep timer
 * that re-evaluates the time-based health rules (stale probes, throttle expiry) so a transition
 * is emitted even when no event happens. The HTTP layer and metrics consume this.
 *
 * Events: 'transition' and 'probe' of every bind, 'added' and 'removed' with the bind id (a
 * consumer keeping per-bind state, such as a metric label series, drops it on 'removed').
 */
import { EventEmitter } from 'node:events';
import { ErrorCode, SmppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type Clock, realClock, type TimerHandle } from '../session/clock.js';
import {
  type BindEvents,
  BindSupervisor,
  type BindSupervisorDeps,
  type HealthTransition,
  type InboundHandler,
  refuseInbound,
} from './bind.js';
import type { BindOptions } from './bind-options.js';
import { SmppBindExistsError, SmppInvalidBindOptionsError, SmppUnknownBindError } from './errors.js';
import type { HealthStatus } from './health.js';
import { bindOptionsIssues } from './validate-options.js';

export type ReadinessPolicy = 'all' | 'any' | 'quorum' | 'atLeast';

export interface ReadinessResult {
  ready: boolean;
  policy: ReadinessPolicy;
  required: number;
  healthy: number;
  total: number;
  binds: { id: string; status: HealthStatus; reason: string }[];
}

export interface RegistryEvents {
  transition: [HealthTransition];
  probe: BindEvents['probe'];
  added: [{ bindId: string }];
  /** The bind is gone for good: forget everything kept under its id. */
  removed: [{ bindId: string }];
}

export interface BindRegistryOptions extends BindSupervisorDeps {
  /** How often time-based health rules are re-checked (default 1000 ms). */
  sweepIntervalMs?: number;
}

/** What add() may say about a new bind besides its options. */
export interface AddBindOptions {
  /** Another replica runs it: hold it as standby (with the owner's name, if known) instead of running it. */
  standby?: { owner?: string };
}

/**
 * Who runs each bind when replicas share them (bind ownership by leases). With a gate set, a bind
 * starts only when this process owns it; every other bind is held as standby.
 */
export interface OwnershipGate {
  /** null: this process runs the bind; otherwise the replica that does ('' when nobody does yet). */
  standbyOwner(id: string): string | null;
  /** The replica that runs the bind (this one's name when it runs here), null when none does. */
  ownerOf(id: string): string | null;
}

/** What replace() did: reconnected with new connection options, applied tuning only, or nothing. */
export type ReplaceOutcome = 'rebound' | 'tuned' | 'unchanged';

/** How reconcile() treats the desired set. */
export interface ReconcileOptions {
  /**
   * Binds of the desired set the operator disabled: added without starting, stopped when
   * running, and left out of readiness. A bind that leaves this set starts again.
   */
  disabled?: ReadonlySet<string>;
}

/** What reconcile() did, by bind id (each list in the desired set's order; removed in the old order). */
export interface ReconcileResult {
  added: string[];
  removed: string[];
  rebound: string[];
  tuned: string[];
  unchanged: string[];
}

export class BindRegistry extends EventEmitter<RegistryEvents> {
  private readonly binds = new Map<string, BindSupervisor>();
  private readonly deps: BindSupervisorDeps;
  private readonly clock: Clock;
  private readonly sweepIntervalMs: number;
  private sweepTimer: TimerHandle | null = null;
  private draining = false;
  /** startAll() ran: binds added from now on start at once (unless standby). */
  private running = false;
  private inboundHandler: InboundHandler | null;
  /** Binds the operator disabled (reconcile's `disabled`): kept stopped, not counted by readiness. */
  private readonly disabled = new Set<string>();
  /** Decides which binds this process runs (null: all of them). */
  private gate: OwnershipGate | null = null;
  /** One reconcile at a time: each waits for the previous one. */
  private reconciling: Promise<unknown> = Promise.resolve();

  constructor(options: BindRegistryOptions = {}) {
    super();
    // The registry is the hub every consumer listens on (each HTTP app adds a few 'removed' and
    // 'transition' listeners, the message path and the SSE fan-outs theirs): more than Node's
    // default of 10 is expected, and every one of them is removed by its owner on close.
    this.setMaxListeners(64);
    this.inboundHandler = options.inbound ?? null;
    // Every bind answers through the registry's one handler, looked up per request.
    this.deps = { ...options, inbound: (pdu, bind) => (this.inboundHandler ?? refuseInbound)(pdu, bind) };
    this.clock = options.clock ?? realClock;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 1_000;
  }

  get logger(): Logger | undefined {
    return this.deps.logger;
  }

  /**
   * Sets the one handler that answers every bind's inbound deliver_sm and data_sm. There is only
   * ever one, so two parts of the service cannot both answer a PDU: setting a second one while
   * one is set throws; pass null first to hand over. Without one, binds answer ESME_RX_T_APPN.
   */
  setInboundHandler(handler: InboundHandler | null): void {
    if (handler !== null && this.inboundHandler !== null && handler !== this.inboundHandler) {
      throw new SmppError(
        ErrorCode.InboundHandler,
        'an inbound handler is already set; set null first to replace it',
      );
    }
    this.inboundHandler = handler;
  }

  /** Checks options the way add() and replace() do; throws SmppInvalidBindOptionsError. */
  static validate(options: BindOptions): void {
    const issues = bindOptionsIssues(options);
    if (issues.length > 0) {
      const id = typeof options?.id === 'string' ? options.id : undefined;
      throw new SmppInvalidBindOptionsError(id, issues);
    }
  }

  /**
   * Adds a bind. It starts at once when the registry runs (after startAll) unless held as
   * standby. Throws SmppBindExistsError for a taken id, SmppInvalidBindOptionsError for bad options.
   */
  add(options: BindOptions, extra: AddBindOptions = {}): BindSupervisor {
    BindRegistry.validate(options);
    if (this.binds.has(options.id)) throw new SmppBindExistsError(options.id);
    const bind = new BindSupervisor(options, this.deps);
    bind.on('transition', (t) => this.emit('transition', t));
    bind.on('probe', (p) => this.emit('probe', p));
    this.binds.set(options.id, bind);
    this.emit('added', { bindId: options.id });
    if (extra.standby) void bind.standby(extra.standby.owner);
    else if (this.running && !this.draining && !this.disabled.has(options.id)) this.startOrHold(bind);
    else this.holdIfOwnedElsewhere(bind);
    return bind;
  }

  /**
   * Sets who decides which binds this process runs (bind ownership by leases); null runs them all.
   * Binds added later, startAll() and binds enabled again ask it; the owner itself starts and holds
   * binds as its leases come and go (start(), standby()).
   */
  setOwnershipGate(gate: OwnershipGate | null): void {
    this.gate = gate;
  }

  /** The replica that runs the bind (named by bind ownership); null without ownership or owner. */
  ownerOf(id: string): string | null {
    return this.gate?.ownerOf(id) ?? null;
  }

  /** Starts the bind, or holds it as standby when another replica (or nobody yet) owns it. */
  private startOrHold(bind: BindSupervisor): void {
    const owner = this.gate?.standbyOwner(bind.id) ?? null;
    if (owner === null) bind.start();
    else void bind.standby(owner);
  }

  /** A bind added before startAll(): shown as standby at once when this process does not own it. */
  private holdIfOwnedElsewhere(bind: BindSupervisor): void {
    if (this.disabled.has(bind.id)) return;
    const owner = this.gate?.standbyOwner(bind.id) ?? null;
    if (owner !== null) void bind.standby(owner);
  }

  /** The bind, or SmppUnknownBindError. */
  private require(id: string): BindSupervisor {
    const bind = this.binds.get(id);
    if (!bind) throw new SmppUnknownBindError(id);
    return bind;
  }

  /**
   * Removes a bind: unbinds it gracefully, detaches every listener, forgets the id, and emits
   * 'removed' once it is gone. Resolves when its connection has closed.
   */
  async remove(id: string): Promise<void> {
    const bind = this.require(id);
    this.binds.delete(id);
    this.disabled.delete(id);
    try {
      await bind.stop();
    } finally {
      bind.removeAllListeners();
      this.emit('removed', { bindId: id });
    }
  }

  /** Starts (or takes back from standby) one bind. */
  start(id: string): void {
    this.require(id).start();
  }

  /** Stops one bind, unbinding gracefully; it stays in the set, stopped, until start(). */
  stop(id: string): Promise<void> {
    return this.require(id).stop();
  }

  /** Holds one bind as standby: another replica (`owner`, if known) runs it. */
  standby(id: string, owner?: string): Promise<void> {
    return this.require(id).standby(owner);
  }

  /**
   * Replaces a bind's options (the id stays). Reconnects only when a connection field changed
   * (host, port, TLS, credentials, bind type, interface version, address range); tuning applies
   * without a reconnect (see BindSupervisor.reconfigure).
   */
  replace(id: string, options: BindOptions): ReplaceOutcome {
    const bind = this.require(id);
    BindRegistry.validate(options);
    if (options.id !== id) {
      throw new SmppInvalidBindOptionsError(id, [{ field: 'id', message: `must stay '${id}'` }]);
    }
    const change = bind.reconfigure(options);
    return change === 'rebind' ? 'rebound' : change;
  }

  /**
   * Makes the running set match `desired`: adds binds that are new, removes those not in it,
   * replaces those whose options changed. Every option is checked first, so bad input changes
   * nothing. Calls run one after another. `options.disabled` names binds to keep stopped.
   */
  reconcile(desired: readonly BindOptions[], options: ReconcileOptions = {}): Promise<ReconcileResult> {
    const run = this.reconciling.then(() => this.applyDesired(desired, options.disabled ?? new Set()));
    this.reconciling = run.catch(() => {});
    return run;
  }

  private async applyDesired(
    desired: readonly BindOptions[],
    disabled: ReadonlySet<string>,
  ): Promise<ReconcileResult> {
    const seen = new Set<string>();
    for (const options of desired) {
      BindRegistry.validate(options);
      if (seen.has(options.id)) throw new SmppBindExistsError(options.id);
      seen.add(options.id);
    }
    const result: ReconcileResult = { added: [], removed: [], rebound: [], tuned: [], unchanged: [] };
    const gone = [...this.binds.keys()].filter((id) => !seen.has(id));
    await Promise.all(gone.map((id) => this.remove(id)));
    result.removed.push(...gone);
    // Disabled first, so a new disabled bind is added without starting.
    const enabledAgain = [...this.disabled].filter((id) => !disabled.has(id));
    const newlyDisabled = [...disabled].filter((id) => seen.has(id) && !this.disabled.has(id));
    for (const id of newlyDisabled) this.disabled.add(id);
    for (const id of enabledAgain) this.disabled.delete(id);
    for (const options of desired) {
      if (!this.binds.has(options.id)) {
        this.add(options);
        result.added.push(options.id);
        continue;
      }
      const outcome = this.replace(options.id, options);
      result[outcome].push(options.id);
    }
    if (this.running && !this.draining) {
      for (const id of enabledAgain) {
        const bind = this.binds.get(id);
        if (bind) this.startOrHold(bind);
      }
    }
    // Shown as stopped (not "not started"), running or not.
    await Promise.all(newlyDisabled.map((id) => this.binds.get(id)?.stop()));
    return result;
  }

  get(id: string): BindSupervisor | undefined {
    return this.binds.get(id);
  }

  list(): BindSupervisor[] {
    return [...this.binds.values()];
  }

  /** Whether the operator disabled the bind (kept stopped, left out of readiness). */
  isDisabled(id: string): boolean {
    return this.disabled.has(id);
  }

  get size(): number {
    return this.binds.size;
  }

  /** True once shutdown began: readiness reports not ready from then on. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Starts every bind except those held as standby, and from now on every bind added. */
  startAll(): void {
    this.running = true;
    for (const bind of this.binds.values()) {
      if (bind.standbyFor === null && !this.disabled.has(bind.id)) this.startOrHold(bind);
    }
    this.armSweep();
  }

  /** Marks the registry as draining (readiness fails at once) without stopping anything yet. */
  drain(): void {
    this.draining = true;
  }

  /**
   * Stops every bind, unbinding gracefully; resolves when all are stopped or after `timeoutMs`,
   * whatever each bind's own unbindTimeoutMs: binds still stopping then are abandoned (their
   * sockets destroyed) and named in `abandoned`.
   */
  async stopAll(timeoutMs = 5_000): Promise<{ timedOut: boolean; abandoned: string[] }> {
    this.draining = true;
    this.sweepTimer?.clear();
    this.sweepTimer = null;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimer(() => resolve('timeout'), timeoutMs);
    });
    const all = Promise.all(this.list().map((b) => b.stop())).then(() => 'done' as const);
    const outcome = await Promise.race([all, timeout]);
    timer?.clear();
    const abandoned: string[] = [];
    if (outcome === 'timeout') {
      for (const bind of this.binds.values()) {
        if (bind.state === 'stopped') continue;
        abandoned.push(bind.id);
        bind.abort();
      }
    }
    return { timedOut: outcome === 'timeout', abandoned };
  }

  private armSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = this.clock.setTimer(() => {
      this.sweepTimer = null;
      const now = this.clock.now();
      for (const bind of this.binds.values()) bind.refreshHealth(now);
      if (!this.draining) this.armSweep();
    }, this.sweepIntervalMs);
  }

  /**
   * Readiness by policy: all binds passing, any, a majority (quorum) or at least `minHealthy`.
   * Only the binds this process is meant to run count: standby binds (run by another replica)
   * are listed but not counted, so a replica holding only standby binds is ready; nor are binds
   * the operator disabled.
   */
  readiness(policy: ReadinessPolicy, minHealthy = 1, strict = false): ReadinessResult {
    const binds = this.list().map((b) => {
      const v = b.evaluate();
      return { id: b.id, status: v.status, reason: v.reason };
    });
    const counted = binds.filter((b) => b.status !== 'standby' && !this.disabled.has(b.id));
    const total = counted.length;
    if (total === 0 && binds.length > 0) {
      return { ready: !this.draining, policy, required: 0, healthy: 0, total, binds };
    }
    const healthy = counted.filter(
      (b) => b.status === 'healthy' || (!strict && b.status === 'degraded'),
    ).length;
    // The number of passing binds each policy needs. With no binds at all only `all` holds
    // (vacuously); any, quorum and atLeast need at least one passing bind.
    const required =
      policy === 'all'
        ? total
        : policy === 'any'
          ? 1
          : policy === 'quorum'
            ? Math.floor(total / 2) + 1
            : minHealthy;
    const ready = !this.draining && healthy >= required;
    return { ready, policy, required, healthy, total, binds };
  }
}
