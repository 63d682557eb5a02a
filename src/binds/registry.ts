/**
 * The binds of the service by id, their combined event stream of health transitions, and one
 * sweep timer that re-evaluates the time-based health rules (stale probes, throttle expiry) so a
 * transition is emitted even when no event happens. The HTTP layer and metrics consume this.
 */
import { EventEmitter } from 'node:events';
import { ErrorCode, SmppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type Clock, realClock, type TimerHandle } from '../session/clock.js';
import { type BindEvents, BindSupervisor, type BindSupervisorDeps, type HealthTransition } from './bind.js';
import type { BindOptions } from './bind-options.js';
import type { HealthStatus } from './health.js';

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
}

export interface BindRegistryOptions extends BindSupervisorDeps {
  /** How often time-based health rules are re-checked (default 1000 ms). */
  sweepIntervalMs?: number;
}

export class BindRegistry extends EventEmitter<RegistryEvents> {
  private readonly binds = new Map<string, BindSupervisor>();
  private readonly deps: BindSupervisorDeps;
  private readonly clock: Clock;
  private readonly sweepIntervalMs: number;
  private sweepTimer: TimerHandle | null = null;
  private draining = false;

  constructor(options: BindRegistryOptions = {}) {
    super();
    this.deps = options;
    this.clock = options.clock ?? realClock;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 1_000;
  }

  get logger(): Logger | undefined {
    return this.deps.logger;
  }

  add(options: BindOptions): BindSupervisor {
    if (this.binds.has(options.id)) {
      throw new SmppError(ErrorCode.Config, `duplicate bind id '${options.id}'`);
    }
    const bind = new BindSupervisor(options, this.deps);
    bind.on('transition', (t) => this.emit('transition', t));
    bind.on('probe', (p) => this.emit('probe', p));
    this.binds.set(options.id, bind);
    return bind;
  }

  get(id: string): BindSupervisor | undefined {
    return this.binds.get(id);
  }

  list(): BindSupervisor[] {
    return [...this.binds.values()];
  }

  get size(): number {
    return this.binds.size;
  }

  /** True once shutdown began: readiness reports not ready from then on. */
  get isDraining(): boolean {
    return this.draining;
  }

  startAll(): void {
    for (const bind of this.binds.values()) bind.start();
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

  /** Readiness by policy: all binds passing, any, a majority (quorum) or at least `minHealthy`. */
  readiness(policy: ReadinessPolicy, minHealthy = 1, strict = false): ReadinessResult {
    const binds = this.list().map((b) => {
      const v = b.evaluate();
      return { id: b.id, status: v.status, reason: v.reason };
    });
    const total = binds.length;
    const healthy = binds.filter(
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
