/**
 * BindSupervisor: keeps one configured bind bound for months. It connects (TCP or TLS), binds,
 * lets the session keep the link alive, turns every failure into a clean reconnect with
 * exponential backoff and full jitter, and keeps the health facts the rules in health.ts judge.
 *
 * Invariants:
 * - at most one live connection: a new attempt waits until the previous socket has closed (after
 *   the unbind, for a retired session) and any connect still under way has settled (a stale
 *   connect is destroyed as soon as it completes);
 * - every attempt has an epoch; callbacks of an older attempt change nothing;
 * - 'bound' and 'unbound' alternate: every bound session lost, dropped or retired emits 'unbound';
 * - the supervisor owns exactly one timer (the reconnect delay), cleared by stop().
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { type Logger, silentLogger } from '../logger.js';
import { CommandStatus, statusInfo } from '../protocol/command-status.js';
import type { CommandName } from '../protocol/constants.js';
import type { Pdu, PduInit } from '../protocol/pdu.js';
import { type Clock, realClock, type TimerHandle } from '../session/clock.js';
import { type ConnectOptions, connectSocket } from '../session/connect.js';
import { SmppBindError, SmppNotBoundError, SmppResponseTimeoutError } from '../session/errors.js';
import {
  type BindCommand,
  type ProbeOutcome,
  type ProbeResult,
  type ProbeTrigger,
  type RequestOptions,
  SmppSession,
} from '../session/session.js';
import type { CloseReason, SessionState } from '../session/state.js';
import { backoffDelayMs, slowRetryDelayMs } from './backoff.js';
import type { BindOptions } from './bind-options.js';
import { SmppBindStoppedError, SmppProbeRateLimitedError, SmppProbeTimeoutError } from './errors.js';
import {
  evaluateHealth,
  type HealthCode,
  type HealthFacts,
  type HealthStatus,
  type HealthVerdict,
} from './health.js';
import { RttStats, type RttSummary } from './rtt-stats.js';

export type BindRunState = 'idle' | 'connecting' | 'binding' | 'bound' | 'backoff' | 'stopping' | 'stopped';

const BIND_COMMAND: Record<BindOptions['bindType'], BindCommand> = {
  transmitter: 'bind_transmitter',
  receiver: 'bind_receiver',
  transceiver: 'bind_transceiver',
};

/** Bind refusals that retrying soon cannot fix: retried at the backoff cap. */
const SLOW_RETRY_STATUSES: ReadonlySet<number> = new Set([
  CommandStatus.ESME_RINVPASWD,
  CommandStatus.ESME_RINVSYSID,
  CommandStatus.ESME_RBINDFAIL,
  CommandStatus.ESME_RINVSYSTYP,
  CommandStatus.ESME_RALYBND,
]);

/** How long one ESME_RTHROTTLED keeps the bind degraded. */
export const THROTTLE_COOLDOWN_MS = 10_000;

export interface LastProbe {
  at: string;
  ok: boolean;
  rttMs: number | null;
  trigger: ProbeTrigger;
  sequenceNumber: number | null;
  error: string | null;
}

export interface LastError {
  code: string;
  statusName: string | null;
  message: string;
  at: string;
}

export interface BindHealth {
  id: string;
  status: HealthStatus;
  code: HealthCode;
  reason: string;
  /** Since when the status has been what it is (ISO time). */
  since: string;
  state: BindRunState;
  sessionState: SessionState | null;
  bindType: BindOptions['bindType'];
  remoteAddress: string;
  lastProbe: LastProbe | null;
  rtt: RttSummary;
  consecutiveFailures: number;
  counters: {
    probesSent: number;
    probesFailed: number;
    reconnects: number;
    binds: number;
    bindFailures: number;
    pdusIn: Record<string, number>;
    pdusOut: Record<string, number>;
  };
  lastError: LastError | null;
  boundAt: string | null;
  uptimeMs: number | null;
  window: { used: number; capacity: number; waiting: number };
  throttled: boolean;
  reconnect: { attempt: number; nextAttemptAt: string | null };
}

export interface HealthTransition {
  bindId: string;
  from: HealthStatus;
  to: HealthStatus;
  code: HealthCode;
  reason: string;
  at: string;
}

export interface BindEvents {
  transition: [HealthTransition];
  probe: [ProbeOutcome & { bindId: string }];
  bound: [{ bindId: string; session: SmppSession }];
  unbound: [{ bindId: string; reason: CloseReason; error?: Error }];
  /** An inbound request (deliver_sm, data_sm, ...). The listener must answer it via session.respond. */
  inbound: [{ bindId: string; pdu: Pdu; session: SmppSession }];
}

export interface BindSupervisorDeps {
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  connect?: (options: ConnectOptions) => Promise<Duplex>;
}

export class BindSupervisor extends EventEmitter<BindEvents> {
  readonly id: string;
  readonly options: BindOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly connect: (options: ConnectOptions) => Promise<Duplex>;

  private epoch = 0;
  private session: SmppSession | null = null;
  private runState: BindRunState = 'idle';
  private reconnectTimer: TimerHandle | null = null;
  private nextAttemptAt: number | null = null;
  private attempt = 0;
  private slowRetry = false;
  private boundAt: number | null = null;
  private boundAtWall: number | null = null;
  private lastProbeOkAt = Number.NEGATIVE_INFINITY;
  private lastManualProbeAt = Number.NEGATIVE_INFINITY;
  /**
   * The last probe's facts as primitives, made into a LastProbe only when health() asks: with
   * thousands of binds, an object per probe that lives until the next one is promoted by the GC
   * and costs old-space growth (see bench/README.md, binds).
   */
  private probeAtWall = 0;
  private probeOk: boolean | null = null;
  private probeRttMs: number | null = null;
  private probeTrigger: ProbeTrigger = 'keepalive';
  private probeSeq: number | null = null;
  private probeError: string | null = null;
  private readonly rtt: RttStats;
  private throttledUntil = Number.NEGATIVE_INFINITY;
  private lastError: LastError | null = null;
  private readonly counters = { probesSent: 0, probesFailed: 0, reconnects: 0, binds: 0, bindFailures: 0 };
  private readonly closedIn: Record<string, number> = Object.create(null);
  private readonly closedOut: Record<string, number> = Object.create(null);
  private verdict: HealthVerdict;
  private readonly facts: HealthFacts = {
    stopped: false,
    bound: false,
    notBoundReason: undefined,
    consecutiveMisses: 0,
    lastAliveAt: Number.NEGATIVE_INFINITY,
    lastRttMs: null,
    throttledUntil: Number.NEGATIVE_INFINITY,
  };
  private verdictSince = Date.now();
  private stopping: Promise<void> | null = null;
  /** Resolves when the socket of the last connection has closed; null once it has. */
  private socketClosed: Promise<void> | null = null;
  /** The connect of the attempt under way, settled either way. */
  private pendingConnect: Promise<void> | null = null;
  /** Sockets not yet closed, so abort() can destroy them. */
  private readonly openSockets = new Set<Duplex>();

  constructor(options: BindOptions, deps: BindSupervisorDeps = {}) {
    super();
    this.id = options.id;
    this.options = options;
    this.clock = deps.clock ?? realClock;
    this.log = (deps.logger ?? silentLogger).child({ bind: options.id });
    this.random = deps.random ?? Math.random;
    this.connect = deps.connect ?? connectSocket;
    this.rtt = new RttStats(options.rttWindowSize);
    this.verdict = { status: 'unhealthy', code: 'NOT_BOUND', reason: 'not started' };
  }

  get state(): BindRunState {
    return this.runState;
  }

  /** The bound session, or null. */
  get currentSession(): SmppSession | null {
    return this.session?.bound ? this.session : null;
  }

  /** Starts connecting. Idempotent. */
  start(): void {
    if (this.runState !== 'idle' && this.runState !== 'stopped') return;
    this.stopping = null;
    this.attempt = 0;
    void this.attemptConnect();
  }

  /**
   * Unbinds gracefully (bounded by unbindTimeoutMs), resolves once the connection is closed, and
   * stays down until start(). A connect still under way is destroyed when it completes.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.epoch++;
    this.clearReconnect();
    this.setRunState('stopping');
    // Also waits for a connection an earlier rebind() is still unbinding.
    const closed = this.retire();
    this.stopping = (async () => {
      await closed;
      this.setRunState('stopped');
    })();
    return this.stopping;
  }

  /**
   * Gives up a stop() that is taking too long (shutdown's bound): destroys every socket the bind
   * still has open, without waiting for unbind_resp. stop()'s promise then resolves.
   */
  abort(): void {
    if (this.runState !== 'stopping' && this.runState !== 'stopped') void this.stop();
    for (const socket of [...this.openSockets]) socket.destroy();
  }

  /**
   * Forces a fresh connection: closes the current one (gracefully), then connects at once; the
   * new connection opens only once the old one is closed. A connect already under way is fresh
   * enough and is kept. Resolves when the old connection is closed.
   */
  async rebind(): Promise<void> {
    if (this.runState === 'stopping' || this.runState === 'stopped' || this.runState === 'idle') {
      throw new SmppBindStoppedError(this.id);
    }
    this.attempt = 0;
    if (this.runState === 'connecting') return;
    this.epoch++;
    this.clearReconnect();
    const closed = this.retire();
    this.counters.reconnects++;
    void this.attemptConnect();
    await closed;
  }

  /**
   * Takes the current session out of service and closes it gracefully (unbind). Resolves when
   * its socket has closed.
   */
  private retire(): Promise<void> {
    const old = this.session;
    this.session = null;
    if (old) {
      if (this.boundAt !== null) this.markUnbound({ bindId: this.id, reason: 'local_close' });
      void old.close();
    }
    return this.socketClosed ?? Promise.resolve();
  }

  /** Remembers a socket until it has closed, so the next connection waits for it. */
  private track(socket: Duplex): void {
    const s = socket as Duplex & { closed?: boolean };
    if (!s.closed) {
      this.openSockets.add(socket);
      socket.once('close', () => this.openSockets.delete(socket));
    }
    const mine = s.closed
      ? Promise.resolve()
      : new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const previous = this.socketClosed;
    const closed = previous ? Promise.all([previous, mine]).then(() => {}) : mine;
    this.socketClosed = closed;
    void closed.then(() => {
      if (this.socketClosed === closed) this.socketClosed = null;
    });
  }

  /** Forgets the bound session's facts and tells listeners it is gone. */
  private markUnbound(event: BindEvents['unbound'][0]): void {
    this.boundAt = null;
    this.boundAtWall = null;
    this.emit('unbound', event);
  }

  /**
   * Sends an enquire_link now and resolves with its round trip. Joins a probe already in flight;
   * refuses a new manual probe within minProbeIntervalMs of the previous one.
   */
  probe(options: { timeoutMs?: number; trigger?: ProbeTrigger } = {}): Promise<ProbeResult> {
    const session = this.session;
    if (this.runState === 'stopped' || this.runState === 'stopping') {
      return Promise.reject(new SmppBindStoppedError(this.id));
    }
    if (!session?.bound) return Promise.reject(new SmppNotBoundError('enquire_link', this.runState));
    const timeoutMs = options.timeoutMs ?? this.options.enquireLinkTimeoutMs;
    if (!session.probing) {
      const now = this.clock.now();
      const waitMs = this.lastManualProbeAt + this.options.minProbeIntervalMs - now;
      if (waitMs > 0) return Promise.reject(new SmppProbeRateLimitedError(this.id, Math.ceil(waitMs)));
      this.lastManualProbeAt = now;
    }
    return session.probe({ timeoutMs, trigger: options.trigger ?? 'manual' }).catch((error: unknown) => {
      // A probe cut short by stop() (shutdown) reports that, not the closed session.
      if (this.runState === 'stopping' || this.runState === 'stopped') {
        throw new SmppBindStoppedError(this.id, { cause: error });
      }
      if (error instanceof SmppResponseTimeoutError)
        throw new SmppProbeTimeoutError(this.id, error.timeoutMs, error);
      throw error;
    });
  }

  /**
   * Sends a request on the bound session (submit_sm and friends). Resolves with the response,
   * whatever its status; records ESME_RTHROTTLED for the health model.
   */
  async request<K extends CommandName>(command: K, init: PduInit<K>, options?: RequestOptions): Promise<Pdu> {
    const session = this.session;
    if (!session?.bound) throw new SmppNotBoundError(command, this.runState);
    const resp = await session.request(command, init, options);
    if (resp.command_status === CommandStatus.ESME_RTHROTTLED) {
      this.throttledUntil = this.clock.now() + THROTTLE_COOLDOWN_MS;
      this.refreshHealth();
    }
    return resp;
  }

  // ------------------------------------------------------------------ connection lifecycle

  private async attemptConnect(): Promise<void> {
    const epoch = ++this.epoch;
    const o = this.options;
    this.setRunState('connecting');
    // One connection at a time: the previous one must be gone first.
    while (this.pendingConnect || this.socketClosed) {
      await this.pendingConnect;
      await this.socketClosed;
      if (epoch !== this.epoch) return;
    }
    let socket: Duplex;
    // A connect function that throws instead of rejecting must not escape as an unhandled rejection.
    const connecting = new Promise<Duplex>((resolve) =>
      resolve(this.connect({ host: o.host, port: o.port, connectTimeoutMs: o.connectTimeoutMs, tls: o.tls })),
    );
    const settled = connecting.then(
      () => {},
      () => {},
    );
    this.pendingConnect = settled;
    try {
      socket = await connecting;
    } catch (error) {
      if (epoch !== this.epoch) return;
      this.recordError(error as Error);
      this.scheduleReconnect();
      return;
    } finally {
      if (this.pendingConnect === settled) this.pendingConnect = null;
    }
    this.track(socket);
    if (epoch !== this.epoch) {
      socket.destroy();
      return;
    }
    const session = new SmppSession(socket, {
      role: 'esme',
      clock: this.clock,
      logger: this.log,
      windowSize: o.windowSize,
      responseTimeoutMs: o.responseTimeoutMs,
      windowWaitTimeoutMs: o.windowWaitTimeoutMs,
      enquireLinkIntervalMs: o.enquireLinkIntervalMs,
      enquireLinkTimeoutMs: o.enquireLinkTimeoutMs,
      maxMissedProbes: o.maxMissedProbes,
      inactivityTimeoutMs: o.inactivityTimeoutMs,
      bindTimeoutMs: o.bindTimeoutMs,
      unbindTimeoutMs: o.unbindTimeoutMs,
      onRequest: (pdu, s) => this.onInbound(pdu, s),
    });
    this.session = session;
    session.on('close', ({ reason, error }) => this.onSessionClose(session, epoch, reason, error));
    session.on('probe', (outcome) => {
      if (epoch === this.epoch) this.onProbe(outcome);
    });
    this.setRunState('binding');
    try {
      await session.bind(BIND_COMMAND[o.bindType], {
        system_id: o.systemId,
        password: o.password,
        system_type: o.systemType,
        interface_version: o.interfaceVersion,
        addr_ton: o.addrTon,
        addr_npi: o.addrNpi,
        address_range: o.addressRange,
      });
    } catch (error) {
      if (epoch !== this.epoch) return;
      this.counters.bindFailures++;
      this.recordError(error as Error);
      this.slowRetry = error instanceof SmppBindError && SLOW_RETRY_STATUSES.has(error.commandStatus);
      // Refused or timed out: the socket goes; onSessionClose schedules the retry.
      session.destroy('bind_failed', error as Error);
      return;
    }
    if (epoch !== this.epoch) {
      await session.close();
      return;
    }
    this.counters.binds++;
    this.boundAt = this.clock.now();
    this.boundAtWall = Date.now();
    this.slowRetry = false;
    this.log.info(
      { host: o.host, port: o.port, bindType: o.bindType, smsc: session.peerSystemId },
      `bound as ${o.bindType} to ${o.host}:${o.port}`,
    );
    this.setRunState('bound');
    this.emit('bound', { bindId: this.id, session });
  }

  private onSessionClose(session: SmppSession, epoch: number, reason: CloseReason, error?: Error): void {
    addCounts(this.closedIn, session.pdusIn);
    addCounts(this.closedOut, session.pdusOut);
    if (this.session === session) this.session = null;
    if (epoch !== this.epoch || this.runState === 'stopping' || this.runState === 'stopped') return;
    if (this.boundAt !== null) {
      // A bind that stayed up long enough earns a fresh backoff.
      if (this.clock.now() - this.boundAt >= this.options.reconnect.stableAfterMs) this.attempt = 0;
      this.markUnbound(error ? { bindId: this.id, reason, error } : { bindId: this.id, reason });
    }
    if (reason !== 'bind_failed') {
      this.recordError(error ?? new Error(`session closed: ${reason}`), reason);
      this.slowRetry = false;
    }
    this.log.warn({ reason, err: error?.message }, `connection lost (${reason}); reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.clearReconnect();
    const policy = this.options.reconnect;
    const delay = this.slowRetry
      ? slowRetryDelayMs(policy, this.random)
      : backoffDelayMs(policy, this.attempt, this.random);
    this.attempt++;
    this.nextAttemptAt = Date.now() + delay;
    this.setRunState('backoff');
    const epoch = this.epoch;
    this.reconnectTimer = this.clock.setTimer(() => {
      this.reconnectTimer = null;
      this.nextAttemptAt = null;
      if (epoch !== this.epoch) return;
      this.counters.reconnects++;
      void this.attemptConnect();
    }, delay);
  }

  private clearReconnect(): void {
    this.reconnectTimer?.clear();
    this.reconnectTimer = null;
    this.nextAttemptAt = null;
  }

  private recordError(error: Error, reason?: CloseReason): void {
    const status = error instanceof SmppBindError ? error.commandStatus : undefined;
    const code = (error as { code?: unknown }).code;
    this.lastError = {
      code: typeof code === 'string' ? code : reason ? `SESSION_${reason.toUpperCase()}` : 'ERROR',
      statusName: status === undefined ? null : statusInfo(status).name,
      message: error.message,
      at: new Date().toISOString(),
    };
  }

  private onInbound(pdu: Pdu, session: SmppSession): void {
    if (this.listenerCount('inbound') > 0) {
      this.emit('inbound', { bindId: this.id, pdu, session });
      return;
    }
    // Nobody takes messages yet: ask the SMSC to retry later rather than accept and lose them.
    session.respond(pdu, { command_status: CommandStatus.ESME_RX_T_APPN });
  }

  private onProbe(outcome: ProbeOutcome): void {
    this.counters.probesSent++;
    this.probeAtWall = outcome.at;
    this.probeTrigger = outcome.trigger;
    if (outcome.ok) {
      this.lastProbeOkAt = this.clock.now();
      this.rtt.add(outcome.rttMs);
      this.probeOk = true;
      this.probeRttMs = outcome.rttMs;
      this.probeSeq = outcome.sequenceNumber;
      this.probeError = null;
    } else {
      this.counters.probesFailed++;
      // The session counts misses after it reports the probe: judge health once it has.
      if (outcome.error instanceof SmppResponseTimeoutError) queueMicrotask(() => this.refreshHealth());
      this.probeOk = false;
      this.probeRttMs = null;
      this.probeSeq = outcome.sequenceNumber ?? null;
      this.probeError = outcome.error.message;
    }
    this.emit('probe', { ...outcome, bindId: this.id });
    this.refreshHealth();
  }

  // ------------------------------------------------------------------ health

  private setRunState(state: BindRunState): void {
    if (this.runState === state) return;
    this.runState = state;
    this.refreshHealth();
  }

  private notBoundReason(): string {
    const o = this.options;
    switch (this.runState) {
      case 'idle':
        return 'not started';
      case 'connecting':
        return `connecting to ${o.host}:${o.port}${this.lastError ? ` (last error: ${this.lastError.message})` : ''}`;
      case 'binding':
        return `binding as ${o.bindType} to ${o.host}:${o.port}`;
      case 'backoff': {
        const inMs = this.nextAttemptAt === null ? 0 : Math.max(0, this.nextAttemptAt - Date.now());
        return `${this.lastError?.message ?? 'not bound'}; reconnecting in ${(inMs / 1000).toFixed(1)} s`;
      }
      default:
        return 'not bound';
    }
  }

  /** The rules' verdict now (read-only). */
  evaluate(now = this.clock.now()): HealthVerdict {
    const session = this.session;
    const bound = this.runState === 'bound' && session?.bound === true;
    // One facts object per bind, refilled: the registry's sweep evaluates every bind every second.
    const facts = this.facts;
    facts.stopped = this.runState === 'stopped' || this.runState === 'stopping';
    facts.bound = bound;
    facts.notBoundReason = bound ? undefined : this.notBoundReason();
    // The session owns the count: a miss, or a PDU that proves the peer is there, resetting it.
    facts.consecutiveMisses = session?.missed ?? 0;
    facts.lastAliveAt = this.lastAliveAt();
    facts.lastRttMs = this.probeOk ? this.probeRttMs : null;
    facts.throttledUntil = this.throttledUntil;
    return evaluateHealth(facts, this.options, now);
  }

  /** Re-evaluates the rules and emits a transition when the status changed. Returns the verdict. */
  refreshHealth(now = this.clock.now()): HealthVerdict {
    const verdict = this.evaluate(now);
    const previous = this.verdict;
    // Keep the verdict held when nothing changed, so the sweep leaves no long-lived garbage.
    if (verdict.code === previous.code && verdict.reason === previous.reason) return previous;
    this.verdict = verdict;
    if (verdict.status !== previous.status) {
      this.verdictSince = Date.now();
      const transition: HealthTransition = {
        bindId: this.id,
        from: previous.status,
        to: verdict.status,
        code: verdict.code,
        reason: verdict.reason,
        at: new Date(this.verdictSince).toISOString(),
      };
      const level = verdict.status === 'healthy' || verdict.status === 'stopped' ? 'info' : 'warn';
      this.log[level](
        { from: previous.status, to: verdict.status, code: verdict.code },
        `health ${previous.status} -> ${verdict.status}: ${verdict.reason}`,
      );
      this.emit('transition', transition);
    }
    return verdict;
  }

  private lastProbeView(): LastProbe | null {
    if (this.probeOk === null) return null;
    return {
      at: new Date(this.probeAtWall).toISOString(),
      ok: this.probeOk,
      rttMs: this.probeRttMs,
      trigger: this.probeTrigger,
      sequenceNumber: this.probeSeq,
      error: this.probeError,
    };
  }

  /** The full health model of this bind. */
  health(now = this.clock.now()): BindHealth {
    const verdict = this.refreshHealth(now);
    const session = this.session;
    const pdusIn: Record<string, number> = { ...this.closedIn };
    const pdusOut: Record<string, number> = { ...this.closedOut };
    if (session) {
      addCounts(pdusIn, session.pdusIn);
      addCounts(pdusOut, session.pdusOut);
    }
    return {
      id: this.id,
      status: verdict.status,
      code: verdict.code,
      reason: verdict.reason,
      since: new Date(this.verdictSince).toISOString(),
      state: this.runState,
      sessionState: session ? session.state : null,
      bindType: this.options.bindType,
      remoteAddress: `${this.options.host}:${this.options.port}`,
      lastProbe: this.lastProbeView(),
      rtt: this.rtt.summary(),
      consecutiveFailures: session?.missed ?? 0,
      counters: { ...this.counters, pdusIn, pdusOut },
      lastError: this.lastError,
      boundAt: this.boundAtWall === null ? null : new Date(this.boundAtWall).toISOString(),
      uptimeMs: this.boundAt === null ? null : Math.round(now - this.boundAt),
      window: session ? session.windowUsage : { used: 0, capacity: this.options.windowSize, waiting: 0 },
      throttled: now < this.throttledUntil,
      reconnect: {
        attempt: this.attempt,
        nextAttemptAt: this.nextAttemptAt === null ? null : new Date(this.nextAttemptAt).toISOString(),
      },
    };
  }

  /** The current status without building the whole model (cheap, for readiness and metrics). */
  get status(): HealthStatus {
    return this.refreshHealth().status;
  }

  /** Last probe's round trip in ms, or null. */
  get lastRttMs(): number | null {
    return this.probeOk ? this.probeRttMs : null;
  }

  /** Ms since something last proved the link alive, or null when not bound. */
  aliveAgeMs(now = this.clock.now()): number | null {
    if (this.boundAt === null) return null;
    return now - this.lastAliveAt();
  }

  /** The last proof of life: an answered probe, any bytes from the SMSC, or the bind itself. */
  private lastAliveAt(): number {
    return Math.max(
      this.lastProbeOkAt,
      this.boundAt ?? Number.NEGATIVE_INFINITY,
      this.session?.lastReceivedAt ?? 0,
    );
  }
}

/** Adds per-command counts into `target`. */
function addCounts(target: Record<string, number>, source: Readonly<Record<string, number>>): void {
  for (const k in source) target[k] = (target[k] ?? 0) + source[k]!;
}
