/**
 * BindHealthBook: the health bookkeeping of one bind, owned by its BindSupervisor. It keeps the
 * facts the rules in health.ts judge (probe outcomes, round trips, the last error, the throttle
 * cooldown, when the bind was bound), the counters, and the verdict with since when it holds; it
 * builds the BindHealth model on demand and reports status transitions.
 *
 * It owns no timer, socket or listener: the supervisor tells it what happened (a probe, a bind, a
 * loss, a throttled answer) and it reads the reconnect loop through a narrow view (LoopView).
 * Reads that run often (evaluate, status, metricsCounts, isThrottled) allocate nothing for a
 * healthy bind: the registry sweeps thousands of binds every second.
 */
import { ErrorCode, isErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { CommandStatus, statusInfo } from '../protocol/command-status.js';
import type { Clock } from '../session/clock.js';
import { SmppBindError, SmppProbeRejectedError, SmppResponseTimeoutError } from '../session/errors.js';
import type { ProbeOutcome, ProbeTrigger, SmppSession } from '../session/session.js';
import type { CloseReason, SessionState } from '../session/state.js';
import type { BindRunState } from './bind.js';
import type { BindOptions } from './bind-options.js';
import {
  evaluateHealth,
  type HealthCode,
  type HealthFacts,
  type HealthRules,
  type HealthStatus,
  type HealthVerdict,
} from './health.js';
import { RttStats, type RttSummary } from './rtt-stats.js';

/** How long one ESME_RTHROTTLED keeps the bind degraded (and isThrottled() true). */
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
  /** A registered code (src/errors.ts); never a raw errno. */
  code: ErrorCode;
  statusName: string | null;
  message: string;
  at: string;
  /** Facts for a program: the OS errno (ECONNREFUSED, ...) and the session's close reason. */
  details?: { errno?: string; closeReason?: CloseReason };
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

/** What the book reads of the reconnect loop; the supervisor implements it with getters (no allocation). */
export interface LoopView {
  readonly runState: BindRunState;
  /** The session of the connection in use (bound or not), or null. */
  readonly session: SmppSession | null;
  /** Set while another replica runs the bind: its name, '' when unknown; null otherwise. */
  readonly standbyOwner: string | null;
  readonly options: BindOptions;
  readonly attempt: number;
  /** When the next connect is due (wall ms), or null. */
  readonly nextAttemptAt: number | null;
}

export interface BindHealthBookDeps {
  clock: Clock;
  log: Logger;
  loop: LoopView;
  /** Told of every status change (the supervisor emits it as 'transition'). */
  onTransition: (transition: HealthTransition) => void;
}

export class BindHealthBook {
  private readonly id: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly loop: LoopView;
  private readonly onTransition: (transition: HealthTransition) => void;

  /** When the bound session was bound, on the clock and on the wall; null while not bound. */
  private boundAtMs: number | null = null;
  private boundAtWall: number | null = null;
  private lastProbeOkAt = Number.NEGATIVE_INFINITY;
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
  /** The status name the last probe of the bound session was refused with, or null. */
  private probeRejectedStatus: string | null = null;
  private readonly rtt: RttStats;
  private throttledUntil = Number.NEGATIVE_INFINITY;
  private lastErrorSeen: LastError | null = null;
  private readonly counters = { probesSent: 0, probesFailed: 0, reconnects: 0, binds: 0, bindFailures: 0 };
  /** PDU counts by command of the sessions already closed. */
  private readonly closedIn: Record<string, number> = Object.create(null);
  private readonly closedOut: Record<string, number> = Object.create(null);
  private verdict: HealthVerdict = { status: 'unhealthy', code: 'NOT_BOUND', reason: 'not started' };
  private verdictSince = Date.now();
  private readonly facts: HealthFacts = {
    stopped: false,
    bound: false,
    notBoundReason: undefined,
    consecutiveMisses: 0,
    lastAliveAt: Number.NEGATIVE_INFINITY,
    outputBlocked: false,
    probeRejectedStatus: null,
    lastRttMs: null,
    throttledUntil: Number.NEGATIVE_INFINITY,
  };
  /** The rules health is judged by. */
  private rules: HealthRules;

  constructor(options: BindOptions, deps: BindHealthBookDeps) {
    this.id = options.id;
    this.clock = deps.clock;
    this.log = deps.log;
    this.loop = deps.loop;
    this.onTransition = deps.onTransition;
    this.rtt = new RttStats(options.rttWindowSize);
    this.rules = options;
  }

  // ------------------------------------------------------------------ what the loop reports

  /**
   * Judges health by `options`, except the keepalive settings while a connection made with
   * `live` runs: a session cannot change them, so its misses are counted by the old ones.
   */
  judgeBy(options: BindOptions, live: BindOptions | null = null): void {
    this.rules = live
      ? {
          ...options,
          enquireLinkIntervalMs: live.enquireLinkIntervalMs,
          enquireLinkTimeoutMs: live.enquireLinkTimeoutMs,
          maxMissedProbes: live.maxMissedProbes,
        }
      : options;
  }

  /** A new connection attempt after a loss, a rebind or a reconfigure. */
  countReconnect(): void {
    this.counters.reconnects++;
  }

  /** A bind was refused or timed out. */
  bindFailed(error: Error): void {
    this.counters.bindFailures++;
    this.recordError(error);
  }

  /** The session is bound now. */
  markBound(): void {
    this.counters.binds++;
    this.boundAtMs = this.clock.now();
    this.boundAtWall = Date.now();
  }

  /** The bound session is gone: forget its facts. */
  markUnbound(): void {
    this.boundAtMs = null;
    this.probeRejectedStatus = null;
    this.boundAtWall = null;
  }

  /** When the bound session was bound (clock ms), or null while not bound. */
  get boundAt(): number | null {
    return this.boundAtMs;
  }

  /** A session closed: keep its PDU counts. */
  sessionClosed(session: SmppSession): void {
    addCounts(this.closedIn, session.pdusIn);
    addCounts(this.closedOut, session.pdusOut);
  }

  /** A response arrived for a request of ours: ESME_RTHROTTLED starts the cooldown. */
  responseStatus(commandStatus: number): void {
    if (commandStatus !== CommandStatus.ESME_RTHROTTLED) return;
    this.throttledUntil = this.clock.now() + THROTTLE_COOLDOWN_MS;
    this.refresh();
  }

  /**
   * Keeps the last error for the health model with a registered code: an SmppError keeps its own;
   * a lost connection is SMPP_ERR_SESSION_CLOSED with the close reason; the OS errno
   * (ECONNRESET, ...) goes to details.errno, never to code.
   */
  recordError(error: Error, reason?: CloseReason): void {
    const status =
      error instanceof SmppBindError || error instanceof SmppProbeRejectedError
        ? error.commandStatus
        : undefined;
    const own = (error as { code?: unknown }).code;
    const code: ErrorCode = isErrorCode(own)
      ? own
      : reason !== undefined
        ? ErrorCode.ConnectionClosed
        : ErrorCode.Connect;
    const errno = errnoOf(error);
    const details: NonNullable<LastError['details']> = {};
    if (errno !== undefined) details.errno = errno;
    if (reason !== undefined) details.closeReason = reason;
    this.lastErrorSeen = {
      code,
      statusName: status === undefined ? null : statusInfo(status).name,
      message: error.message,
      at: new Date().toISOString(),
      ...(errno === undefined && reason === undefined ? {} : { details }),
    };
  }

  /** A probe of the current session completed (answered, refused or unanswered). Judge health after. */
  recordProbe(outcome: ProbeOutcome): void {
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
      this.probeRejectedStatus = null;
    } else if (outcome.rejected) {
      // Answered, but refused: a proof of life (never a miss), and a failed probe.
      this.lastProbeOkAt = this.clock.now();
      this.counters.probesFailed++;
      this.probeOk = false;
      this.probeRttMs = outcome.rttMs;
      this.probeSeq = outcome.sequenceNumber;
      this.probeError = outcome.error.message;
      this.probeRejectedStatus = outcome.statusName;
      this.recordError(outcome.error);
    } else {
      this.counters.probesFailed++;
      // The session counts misses after it reports the probe: judge health once it has.
      if (outcome.error instanceof SmppResponseTimeoutError) queueMicrotask(() => this.refresh());
      this.probeOk = false;
      this.probeRttMs = null;
      this.probeSeq = outcome.sequenceNumber ?? null;
      this.probeError = outcome.error.message;
    }
  }

  // ------------------------------------------------------------------ verdicts

  /** The rules' verdict now (read-only). */
  evaluate(now = this.clock.now()): HealthVerdict {
    const loop = this.loop;
    const runState = loop.runState;
    const session = loop.session;
    const bound = runState === 'bound' && session?.bound === true;
    // One facts object per bind, refilled: the registry's sweep evaluates every bind every second.
    const facts = this.facts;
    facts.standbyOwner = loop.standbyOwner;
    facts.stopped = runState === 'stopped' || runState === 'stopping';
    facts.bound = bound;
    facts.notBoundReason = bound ? undefined : this.notBoundReason();
    // The session owns the count: a miss, or a PDU that proves the peer is there, resetting it.
    facts.consecutiveMisses = session?.missed ?? 0;
    facts.lastAliveAt = this.lastAliveAt();
    facts.outputBlocked = bound && session?.readingPaused === true;
    facts.probeRejectedStatus = bound ? this.probeRejectedStatus : null;
    facts.lastRttMs = this.lastRttMs;
    facts.throttledUntil = this.throttledUntil;
    return evaluateHealth(facts, this.rules, now);
  }

  /** Re-evaluates the rules and reports a transition when the status changed. Returns the verdict. */
  refresh(now = this.clock.now()): HealthVerdict {
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
      // Standby is a normal state (another replica runs the bind), not a problem.
      const level = verdict.status === 'unhealthy' || verdict.status === 'degraded' ? 'warn' : 'info';
      this.log[level](
        { from: previous.status, to: verdict.status, code: verdict.code },
        `health ${previous.status} -> ${verdict.status}: ${verdict.reason}`,
      );
      this.onTransition(transition);
    }
    return verdict;
  }

  private notBoundReason(): string {
    const loop = this.loop;
    const o = loop.options;
    const lastError = this.lastErrorSeen;
    switch (loop.runState) {
      case 'idle':
        return 'not started';
      case 'connecting':
        return `connecting to ${o.host}:${o.port}${lastError ? ` (last error: ${lastError.message})` : ''}`;
      case 'binding':
        return `binding as ${o.bindType} to ${o.host}:${o.port}`;
      case 'backoff': {
        const next = loop.nextAttemptAt;
        const inMs = next === null ? 0 : Math.max(0, next - Date.now());
        return `${lastError?.message ?? 'not bound'}; reconnecting in ${(inMs / 1000).toFixed(1)} s`;
      }
      default:
        return 'not bound';
    }
  }

  // ------------------------------------------------------------------ reads

  /** Within the cooldown of an ESME_RTHROTTLED answer. */
  isThrottled(now = this.clock.now()): boolean {
    return now < this.throttledUntil;
  }

  /** Last probe's round trip in ms, or null. */
  get lastRttMs(): number | null {
    return this.probeOk ? this.probeRttMs : null;
  }

  get lastError(): LastError | null {
    return this.lastErrorSeen;
  }

  /** Ms since something last proved the link alive, or null when not bound. */
  aliveAgeMs(now = this.clock.now()): number | null {
    if (this.boundAtMs === null) return null;
    return now - this.lastAliveAt();
  }

  /** The last proof of life: an answered probe, any whole PDU from the SMSC, or the bind itself. */
  private lastAliveAt(): number {
    return Math.max(
      this.lastProbeOkAt,
      this.boundAtMs ?? Number.NEGATIVE_INFINITY,
      this.loop.session?.lastReceivedAt ?? 0,
    );
  }

  /** What a metrics scrape reads, without building the health model. */
  metricsCounts(): { reconnects: number; probesSent: number; probesFailed: number; windowInFlight: number } {
    return {
      reconnects: this.counters.reconnects,
      probesSent: this.counters.probesSent,
      probesFailed: this.counters.probesFailed,
      windowInFlight: this.loop.session?.windowUsed ?? 0,
    };
  }

  /** Adds the PDU counts by command (closed sessions and the current one) into the targets. */
  addPduCounts(pdusIn: Record<string, number>, pdusOut: Record<string, number>): void {
    addCounts(pdusIn, this.closedIn);
    addCounts(pdusOut, this.closedOut);
    const session = this.loop.session;
    if (session) {
      addCounts(pdusIn, session.pdusIn);
      addCounts(pdusOut, session.pdusOut);
    }
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

  /** The full health model of the bind (refreshes the verdict first). */
  health(now = this.clock.now()): BindHealth {
    const verdict = this.refresh(now);
    const loop = this.loop;
    const session = loop.session;
    const options = loop.options;
    const pdusIn: Record<string, number> = { ...this.closedIn };
    const pdusOut: Record<string, number> = { ...this.closedOut };
    if (session) {
      addCounts(pdusIn, session.pdusIn);
      addCounts(pdusOut, session.pdusOut);
    }
    const nextAttemptAt = loop.nextAttemptAt;
    return {
      id: this.id,
      status: verdict.status,
      code: verdict.code,
      reason: verdict.reason,
      since: new Date(this.verdictSince).toISOString(),
      state: loop.runState,
      sessionState: session ? session.state : null,
      bindType: options.bindType,
      remoteAddress: `${options.host}:${options.port}`,
      lastProbe: this.lastProbeView(),
      rtt: this.rtt.summary(),
      consecutiveFailures: session?.missed ?? 0,
      counters: { ...this.counters, pdusIn, pdusOut },
      lastError: this.lastErrorSeen,
      boundAt: this.boundAtWall === null ? null : new Date(this.boundAtWall).toISOString(),
      uptimeMs: this.boundAtMs === null ? null : Math.round(now - this.boundAtMs),
      window: session ? session.windowUsage : { used: 0, capacity: options.windowSize, waiting: 0 },
      throttled: this.isThrottled(now),
      reconnect: {
        attempt: loop.attempt,
        nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
      },
    };
  }
}

/** The OS error code (ECONNREFUSED, ECONNRESET, ...) of an error or the error it wraps. */
function errnoOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) && !isErrorCode(code)) return code;
  }
  return undefined;
}

/** Adds per-command counts into `target`. */
function addCounts(target: Record<string, number>, source: Readonly<Record<string, number>>): void {
  for (const k in source) target[k] = (target[k] ?? 0) + source[k]!;
}
