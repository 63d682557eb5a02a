/**
 * BindSupervisor: keeps one configured bind bound for months. It connects (TCP or TLS), binds,
 * lets the session keep the link alive, turns every failure into a clean reconnect with
 * exponential backoff and full jitter, and answers inbound requests. The health bookkeeping
 * (probe outcomes, round trips, counters, the last error, the throttle cooldown, the verdict) is
 * its BindHealthBook's (bind-health.ts); the supervisor tells the book what happened and
 * delegates health reads to it. isBound, windowInUse, windowCapacity, isThrottled() and
 * readState() are the cheap reads for routing messages: no model, no allocation.
 *
 * Invariants:
 * - at most one live connection: a new attempt waits until the previous socket has closed (after
 *   the unbind, for a retired session) and any connect still under way has settled (a stale
 *   connect is destroyed as soon as it completes);
 * - every attempt has an epoch; callbacks of an older attempt change nothing;
 * - 'bound' and 'unbound' alternate: every bound session lost, dropped or retired emits 'unbound';
 * - the supervisor owns one timer (the reconnect delay), cleared by stop(), plus one bound per
 *   inbound request being answered, cleared when the answer goes out or its session closes;
 * - every inbound request with a response gets exactly one answer, from the supervisor, on the
 *   session that received it (or none if that session closed meanwhile: the SMSC redelivers).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ErrorCode, SmppError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { CommandStatus, statusInfo } from '../protocol/command-status.js';
import { type CommandName, responseNameOf } from '../protocol/constants.js';
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
import type { CloseReason } from '../session/state.js';
import { backoffDelayMs, slowRetryDelayMs } from './backoff.js';
import { type BindHealth, BindHealthBook, type HealthTransition, type LoopView } from './bind-health.js';
import type { BindOptions } from './bind-options.js';
import {
  SmppBindStoppedError,
  SmppInboundHandlerError,
  SmppInboundTimeoutError,
  SmppProbeRateLimitedError,
  SmppProbeTimeoutError,
} from './errors.js';
import type { HealthStatus, HealthVerdict } from './health.js';
import { DEFAULT_TRACE_MAX_BYTES, DEFAULT_TRACE_SIZE, PduTrace, type TraceEndpoints } from './pdu-trace.js';

// The health model's types and the cooldown live with the book; importers keep this path.
export {
  type BindHealth,
  type HealthTransition,
  type LastError,
  type LastProbe,
  THROTTLE_COOLDOWN_MS,
} from './bind-health.js';

export type BindRunState =
  | 'idle'
  | 'connecting'
  | 'binding'
  | 'bound'
  | 'backoff'
  | 'stopping'
  | 'stopped'
  | 'standby';

const BIND_COMMAND: Record<BindOptions['bindType'], BindCommand> = {
  transmitter: 'bind_transmitter',
  receiver: 'bind_receiver',
  transceiver: 'bind_transceiver',
};

/**
 * Bind refusals that retrying soon cannot fix, retried at the backoff cap: the `bind` retry class
 * of src/protocol/command-status.ts (ESME_RINVPASWD, ESME_RINVSYSID, ESME_RBINDFAIL,
 * ESME_RINVSYSTYP, ESME_RALYBND), so the table and the supervisor cannot disagree.
 */
export function isSlowRetryStatus(commandStatus: number): boolean {
  return statusInfo(commandStatus).retryClass === 'bind';
}

/** What an inbound handler answers: the response's command_status, and message_id where it has one. */
export interface InboundResult {
  commandStatus: number;
  messageId?: string;
}

/**
 * Takes an inbound request (deliver_sm, data_sm) of a bind and says how to answer it. The
 * supervisor sends the answer; the handler never sees the session. A throw, a rejection, a bad
 * result or no result within inboundTimeoutMs is answered with inboundErrorStatus.
 */
export type InboundHandler = (pdu: Pdu, bind: BindSupervisor) => Promise<InboundResult> | InboundResult;

/**
 * Default inbound handler while nothing stores messages: answer the bind's temporary error status
 * (inboundErrorStatus, default ESME_RSYSERR) so the SMSC retries later; never lose one.
 */
export const refuseInbound: InboundHandler = (_pdu, bind) => ({
  commandStatus: bind.options.inboundErrorStatus ?? DEFAULT_INBOUND_ERROR_STATUS,
});

export const DEFAULT_INBOUND_TIMEOUT_MS = 5_000;
/**
 * A temporary error every SMSC retries: some treat ESME_RX_T_APPN as final and drop the message, so it
 * is opt-in per bind (`inboundErrorStatus`).
 */
export const DEFAULT_INBOUND_ERROR_STATUS = CommandStatus.ESME_RSYSERR;

/**
 * What the message router reads of a bind, thousands of times a second: numbers and booleans,
 * filled into an object the caller keeps (readState()), never a new one.
 */
export interface BindReadState {
  /** A bound session is in service (not connecting, binding, unbinding or stopped): requests can go out. */
  bound: boolean;
  /** Requests in flight that count against the window; 0 without a session. */
  inFlight: number;
  /** The window's size: the session's in use, else the configured windowSize. */
  capacity: number;
  /** Requests queued for a window slot. */
  waiting: number;
  /** Within THROTTLE_COOLDOWN_MS of an ESME_RTHROTTLED answer. */
  throttled: boolean;
}

export interface BindEvents {
  transition: [HealthTransition];
  probe: [ProbeOutcome & { bindId: string }];
  bound: [{ bindId: string; session: SmppSession }];
  unbound: [{ bindId: string; reason: CloseReason; error?: Error }];
}

export interface BindSupervisorDeps {
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  /** Uniform in [0, 1): jitters each session's first keepalive after bind (default Math.random). */
  keepaliveRandom?: () => number;
  connect?: (options: ConnectOptions) => Promise<Duplex>;
  /** Answers inbound deliver_sm/data_sm (default: refuseInbound, the bind's inboundErrorStatus). */
  inbound?: InboundHandler;
  /** How long the inbound handler may take before the answer is inboundErrorStatus (default 5000 ms). */
  inboundTimeoutMs?: number;
  /**
   * The answer when the handler throws or is too slow: a temporary error (default ESME_RSYSERR). A
   * bind's own `inboundErrorStatus` option overrides it.
   */
  inboundErrorStatus?: number;
  /** Wall-clock µs for the PDU trace's stamps (tests). */
  traceNowUs?: () => number;
}

/** An inbound request waiting for its handler: the bound on it, and the session to answer on. */
interface InboundCall {
  session: SmppSession;
  timer: TimerHandle | null;
  done: boolean;
}

export class BindSupervisor extends EventEmitter<BindEvents> {
  readonly id: string;
  private opts: BindOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly keepaliveRandom: () => number;
  private readonly connect: (options: ConnectOptions) => Promise<Duplex>;
  private readonly inbound: InboundHandler;
  private readonly inboundTimeoutMs: number;
  private readonly inboundErrorStatus: number;
  private readonly inboundCalls = new Set<InboundCall>();
  /** Set while another replica runs this bind: the owner's name, or '' when unknown. */
  private standbyOwner: string | null = null;

  private epoch = 0;
  private session: SmppSession | null = null;
  private runState: BindRunState = 'idle';
  private reconnectTimer: TimerHandle | null = null;
  private nextAttemptAt: number | null = null;
  private attempt = 0;
  private slowRetry = false;
  private lastManualProbeAt = Number.NEGATIVE_INFINITY;
  /** The health bookkeeping: told what happens, asked how the bind is. */
  private readonly book: BindHealthBook;
  /** The last PDUs in and out (traceSize 0: off, records nothing). */
  readonly trace: PduTrace;
  /** What readState() fills when the caller passes no object of its own. */
  private readonly readout: BindReadState = {
    bound: false,
    inFlight: 0,
    capacity: 0,
    waiting: 0,
    throttled: false,
  };
  /** The options of the connection in use (its session's keepalive settings). */
  private connectedWith: BindOptions | null = null;
  private stopping: Promise<void> | null = null;
  /** start() was called while stopping: start once stopped (a later stop() cancels it). */
  private startWhenStopped = false;
  /** Resolves when the socket of the last connection has closed; null once it has. */
  private socketClosed: Promise<void> | null = null;
  /** The connect of the attempt under way, settled either way. */
  private pendingConnect: Promise<void> | null = null;
  /** Sockets not yet closed, so abort() can destroy them. */
  private readonly openSockets = new Set<Duplex>();

  constructor(options: BindOptions, deps: BindSupervisorDeps = {}) {
    super();
    this.id = options.id;
    this.opts = options;
    this.clock = deps.clock ?? realClock;
    this.log = (deps.logger ?? silentLogger).child({ bind: options.id });
    this.random = deps.random ?? Math.random;
    this.trace = new PduTrace({
      size: options.traceSize ?? DEFAULT_TRACE_SIZE,
      maxBytes: options.traceMaxBytes ?? DEFAULT_TRACE_MAX_BYTES,
      ...(deps.traceNowUs ? { nowUs: deps.traceNowUs } : {}),
    });
    this.keepaliveRandom = deps.keepaliveRandom ?? Math.random;
    this.connect = deps.connect ?? connectSocket;
    this.inbound = deps.inbound ?? refuseInbound;
    this.inboundTimeoutMs = deps.inboundTimeoutMs ?? DEFAULT_INBOUND_TIMEOUT_MS;
    this.inboundErrorStatus = deps.inboundErrorStatus ?? DEFAULT_INBOUND_ERROR_STATUS;
    this.book = new BindHealthBook(options, {
      clock: this.clock,
      log: this.log,
      loop: new BindSupervisor.LoopView(this),
      onTransition: (transition) => this.emit('transition', transition),
    });
  }

  /**
   * The loop as the health book reads it. A class, so every bind's view shares one prototype and
   * the sweep's reads stay monomorphic (getters in an object literal made evaluate() 2-3x slower);
   * declared in here because it reads the supervisor's private state.
   */
  private static readonly LoopView = class implements LoopView {
    constructor(private readonly bind: BindSupervisor) {}
    get runState(): BindRunState {
      return this.bind.runState;
    }
    get session(): SmppSession | null {
      return this.bind.session;
    }
    get standbyOwner(): string | null {
      return this.bind.standbyOwner;
    }
    get options(): BindOptions {
      return this.bind.opts;
    }
    get attempt(): number {
      return this.bind.attempt;
    }
    get nextAttemptAt(): number | null {
      return this.bind.nextAttemptAt;
    }
  };

  get state(): BindRunState {
    return this.runState;
  }

  /** The options the bind runs with (replaced by reconfigure()). */
  get options(): BindOptions {
    return this.opts;
  }

  /** The replica that runs this bind while this process holds it on standby, '' if unknown; null when not on standby. */
  get standbyFor(): string | null {
    return this.standbyOwner;
  }

  /** The bound session, or null. */
  get currentSession(): SmppSession | null {
    return this.session?.bound ? this.session : null;
  }

  /**
   * Starts connecting (also out of standby). Idempotent. While stopping (unbinding), it starts
   * again once the old connection is closed (never two at once): a bind handed away and taken back
   * before its unbind finished would otherwise stay down while this replica holds it.
   */
  start(): void {
    if (this.runState === 'stopping') {
      this.standbyOwner = null;
      this.startWhenStopped = true;
      return;
    }
    if (this.runState !== 'idle' && this.runState !== 'stopped' && this.runState !== 'standby') return;
    this.standbyOwner = null;
    this.stopping = null;
    this.attempt = 0;
    void this.attemptConnect();
  }

  /**
   * Unbinds gracefully (bounded by unbindTimeoutMs), resolves once the connection is closed, and
   * stays down until start(). A connect still under way is destroyed when it completes.
   */
  stop(): Promise<void> {
    this.leaveStandby();
    this.startWhenStopped = false;
    if (this.stopping) return this.stopping;
    this.epoch++;
    this.clearReconnect();
    this.setRunState('stopping');
    // Also waits for a connection an earlier rebind() is still unbinding.
    const closed = this.retire();
    this.stopping = (async () => {
      await closed;
      this.setRunState('stopped');
      if (this.startWhenStopped) {
        this.startWhenStopped = false;
        this.start();
      }
    })();
    return this.stopping;
  }

  /**
   * Leaves the bind to another replica: stops it here (unbinding gracefully) and reports it as
   * `standby` (code STANDBY) rather than stopped, so readiness does not count it. `owner` names
   * the replica that runs it, when known. start() takes the bind back.
   */
  async standby(owner = ''): Promise<void> {
    const stopped = this.stop();
    this.standbyOwner = owner;
    this.refreshHealth();
    await stopped;
    if (this.standbyOwner === owner && this.runState === 'stopped') this.setRunState('standby');
  }

  private leaveStandby(): void {
    if (this.standbyOwner === null) return;
    this.standbyOwner = null;
    if (this.runState === 'standby') this.setRunState('stopped');
    else this.refreshHealth();
  }

  /**
   * Replaces the options (same id). When a field of the connection itself changed (host, port,
   * TLS, credentials, bind type, interface version, address range: CONNECTION_FIELDS) a running
   * bind closes its connection gracefully and connects again with the new options ('rebind').
   * Anything else is tuning ('tuned') and needs no reconnect: the supervisor's own settings
   * (degradedLatencyMs, minProbeIntervalMs, reconnect) apply at once; the session's (keepalive,
   * timeouts, window) from the next connection on, because a session cannot change them live,
   * and until then health is judged by the keepalive settings the connection runs with.
   * rttWindowSize applies only to a bind added anew. traceSize and traceMaxBytes resize the trace
   * at once (the newest PDUs that fit stay); turning the trace on or off applies from the next
   * connection on.
   */
  reconfigure(options: BindOptions): 'rebind' | 'tuned' | 'unchanged' {
    if (options.id !== this.id) {
      throw new SmppError(
        ErrorCode.InvalidBindOptions,
        `bind ${this.id}: cannot change the id to '${options.id}'`,
      );
    }
    const change = optionsChange(this.opts, options);
    if (change === 'unchanged') return change;
    this.opts = options;
    this.book.judgeBy(options, this.session ? this.connectedWith : null);
    const traceSize = options.traceSize ?? DEFAULT_TRACE_SIZE;
    const traceMaxBytes = options.traceMaxBytes ?? DEFAULT_TRACE_MAX_BYTES;
    if (traceSize !== this.trace.size || traceMaxBytes !== this.trace.maxBytes)
      this.trace.resize(traceSize, traceMaxBytes);
    const running = this.runState !== 'idle' && this.runState !== 'stopped' && this.runState !== 'standby';
    if (change === 'rebind' && running && this.runState !== 'stopping') {
      this.log.info('connection options changed; reconnecting');
      this.attempt = 0;
      this.epoch++;
      this.clearReconnect();
      void this.retire();
      this.book.countReconnect();
      void this.attemptConnect();
    } else {
      this.refreshHealth();
    }
    return change;
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
    this.book.countReconnect();
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
      if (this.book.boundAt !== null) this.markUnbound({ bindId: this.id, reason: 'local_close' });
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
    this.book.markUnbound();
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
    this.book.responseStatus(resp.command_status);
    return resp;
  }

  // ------------------------------------------------------------------ connection lifecycle

  private async attemptConnect(): Promise<void> {
    const epoch = ++this.epoch;
    const o = this.opts;
    this.connectedWith = o;
    this.book.judgeBy(o);
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
      this.book.recordError(error as Error);
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
    this.trace.connection(socketEndpoints(socket, o.host, o.port));
    const session = new SmppSession(socket, {
      role: 'esme',
      ...(this.trace.enabled ? { recorder: this.trace } : {}),
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
      writeHighWaterMarkBytes: o.writeHighWaterMarkBytes,
      writeStallTimeoutMs: o.writeStallTimeoutMs ?? o.responseTimeoutMs,
      frameTimeoutMs: o.frameTimeoutMs ?? o.responseTimeoutMs,
      random: this.keepaliveRandom,
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
      this.book.bindFailed(error as Error);
      this.slowRetry = error instanceof SmppBindError && isSlowRetryStatus(error.commandStatus);
      // Refused or timed out: the socket goes; onSessionClose schedules the retry.
      session.destroy('bind_failed', error as Error);
      return;
    }
    if (epoch !== this.epoch) {
      await session.close();
      return;
    }
    this.book.markBound();
    this.slowRetry = false;
    this.log.info(
      { host: o.host, port: o.port, bindType: o.bindType, smsc: session.peerSystemId },
      `bound as ${o.bindType} to ${o.host}:${o.port}`,
    );
    this.setRunState('bound');
    this.emit('bound', { bindId: this.id, session });
  }

  private onSessionClose(session: SmppSession, epoch: number, reason: CloseReason, error?: Error): void {
    this.dropInbound(session);
    this.book.sessionClosed(session);
    if (this.session === session) this.session = null;
    if (epoch !== this.epoch || this.runState === 'stopping' || this.runState === 'stopped') return;
    const boundAt = this.book.boundAt;
    if (boundAt !== null) {
      // A bind that stayed up long enough earns a fresh backoff.
      if (this.clock.now() - boundAt >= this.options.reconnect.stableAfterMs) this.attempt = 0;
      this.markUnbound(error ? { bindId: this.id, reason, error } : { bindId: this.id, reason });
    }
    if (reason !== 'bind_failed') {
      this.book.recordError(error ?? new Error(`session closed: ${reason}`), reason);
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
      this.book.countReconnect();
      void this.attemptConnect();
    }, delay);
  }

  private clearReconnect(): void {
    this.reconnectTimer?.clear();
    this.reconnectTimer = null;
    this.nextAttemptAt = null;
  }

  /**
   * Answers an inbound request with the handler's result, on the session that received it. Runs
   * inside the socket's data handler, so nothing here may throw: a throwing, rejecting or slow
   * handler, or a result that is not a valid command_status, is answered with inboundErrorStatus.
   */
  private onInbound(pdu: Pdu, session: SmppSession): void {
    if (responseNameOf(pdu.command) === undefined) {
      // alert_notification has no response; nothing takes it yet.
      this.log.debug({ command: pdu.command }, 'inbound request without a response ignored');
      return;
    }
    const errorStatus = this.opts.inboundErrorStatus ?? this.inboundErrorStatus;
    const call: InboundCall = { session, timer: null, done: false };
    this.inboundCalls.add(call);
    const answer = (commandStatus: number, messageId?: string): void => {
      if (call.done) return;
      call.done = true;
      call.timer?.clear();
      call.timer = null;
      this.inboundCalls.delete(call);
      // Closed meanwhile: no answer; the SMSC redelivers on the next bind.
      if (session.closed) return;
      try {
        session.respond(
          pdu,
          messageId === undefined
            ? { command_status: commandStatus }
            : { command_status: commandStatus, message_id: messageId },
        );
      } catch (error) {
        // The handler's answer cannot be encoded (a message_id over 64 characters): answer the
        // error status instead, so the PDU still gets exactly one answer.
        this.log.warn(
          { err: error, code: ErrorCode.InboundHandler, command: pdu.command, seq: pdu.sequence_number },
          `the inbound handler's answer cannot be sent; answering ${statusInfo(errorStatus).name}`,
        );
        session.respond(pdu, { command_status: errorStatus });
      }
    };
    const fail = (error: SmppError): void => {
      if (call.done) return;
      this.log.warn(
        { err: error, code: error.code, command: pdu.command, seq: pdu.sequence_number },
        `${error.message}; answering ${statusInfo(errorStatus).name}`,
      );
      answer(errorStatus);
    };
    call.timer = this.clock.setTimer(() => {
      call.timer = null;
      fail(new SmppInboundTimeoutError(this.id, pdu.command, this.inboundTimeoutMs));
    }, this.inboundTimeoutMs);
    let pending: Promise<InboundResult>;
    try {
      pending = Promise.resolve(this.inbound(pdu, this));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (result) => {
        const status = (result as Partial<InboundResult> | null | undefined)?.commandStatus;
        if (!Number.isInteger(status) || (status as number) < 0 || (status as number) > 0xffffffff) {
          fail(new SmppInboundHandlerError(this.id, pdu.command, `returned no valid commandStatus`));
          return;
        }
        const messageId = result.messageId;
        answer(status as number, typeof messageId === 'string' ? messageId : undefined);
      },
      (error: unknown) => fail(new SmppInboundHandlerError(this.id, pdu.command, 'threw', error)),
    );
  }

  /** Forgets the inbound requests of a closed session: their answers could go nowhere. */
  private dropInbound(session: SmppSession): void {
    for (const call of this.inboundCalls) {
      if (call.session !== session) continue;
      call.done = true;
      call.timer?.clear();
      call.timer = null;
      this.inboundCalls.delete(call);
    }
  }

  private onProbe(outcome: ProbeOutcome): void {
    this.book.recordProbe(outcome);
    this.emit('probe', { ...outcome, bindId: this.id });
    this.refreshHealth();
  }

  private setRunState(state: BindRunState): void {
    if (this.runState === state) return;
    this.runState = state;
    this.refreshHealth();
  }

  // ------------------------------------------------------------------ health (the book's)

  /** The rules' verdict now (read-only). */
  evaluate(now = this.clock.now()): HealthVerdict {
    return this.book.evaluate(now);
  }

  /** Re-evaluates the rules and emits a transition when the status changed. Returns the verdict. */
  refreshHealth(now = this.clock.now()): HealthVerdict {
    return this.book.refresh(now);
  }

  /** The full health model of this bind. */
  health(now = this.clock.now()): BindHealth {
    return this.book.health(now);
  }

  /** The current status without building the whole model (cheap, for readiness and metrics). */
  get status(): HealthStatus {
    return this.book.refresh().status;
  }

  /** Last probe's round trip in ms, or null. */
  get lastRttMs(): number | null {
    return this.book.lastRttMs;
  }

  /**
   * What a metrics scrape reads of this bind, without building the health model: with 10,000
   * binds a scrape must not allocate a model (and sort an RTT ring) per bind.
   */
  metricsCounts(): { reconnects: number; probesSent: number; probesFailed: number; windowInFlight: number } {
    return this.book.metricsCounts();
  }

  /** Adds this bind's PDU counts by command (closed sessions and the current one) into the targets. */
  addPduCounts(pdusIn: Record<string, number>, pdusOut: Record<string, number>): void {
    this.book.addPduCounts(pdusIn, pdusOut);
  }

  /** Ms since something last proved the link alive, or null when not bound. */
  aliveAgeMs(now = this.clock.now()): number | null {
    return this.book.aliveAgeMs(now);
  }

  // ------------------------------------------------------------------ cheap reads (message routing)

  /** A bound session is in service: not connecting, binding, unbinding, stopping or on standby. */
  get isBound(): boolean {
    return this.runState === 'bound' && this.session !== null && this.session.bound;
  }

  /** Requests in flight on the session that count against its window; 0 without a session. */
  get windowInUse(): number {
    return this.session?.windowUsed ?? 0;
  }

  /** The window's size: the session's in use, else the configured windowSize (what the next one gets). */
  get windowCapacity(): number {
    return this.session?.windowCapacity ?? this.opts.windowSize;
  }

  /** Within THROTTLE_COOLDOWN_MS of the last ESME_RTHROTTLED answer to a request of ours. */
  isThrottled(now = this.clock.now()): boolean {
    return this.book.isThrottled(now);
  }

  /**
   * The routing facts in one call, filled into `out` (by default one object this bind keeps and
   * refills: read it before the next call, do not keep it). Allocates nothing.
   */
  readState(out: BindReadState = this.readout, now = this.clock.now()): BindReadState {
    const session = this.session;
    if (session === null) {
      out.bound = false;
      out.inFlight = 0;
      out.capacity = this.opts.windowSize;
      out.waiting = 0;
    } else {
      out.bound = this.runState === 'bound' && session.bound;
      out.inFlight = session.windowUsed;
      out.capacity = session.windowCapacity;
      out.waiting = session.windowWaiting;
    }
    out.throttled = this.book.isThrottled(now);
    return out;
  }
}

/** Fields whose change needs a new connection (a bind is made with them). */
export const CONNECTION_FIELDS = [
  'host',
  'port',
  'tls',
  'systemId',
  'password',
  'systemType',
  'bindType',
  'interfaceVersion',
  'addrTon',
  'addrNpi',
  'addressRange',
] as const satisfies readonly (keyof BindOptions)[];

/**
 * The addresses and ports of a connection for the trace's pcap. A socket without them (a test's
 * in-memory duplex) gets 127.0.0.1, an ephemeral-looking local port and the configured port.
 */
function socketEndpoints(socket: Duplex, host: string, port: number): TraceEndpoints {
  const s = socket as Duplex & {
    localAddress?: string;
    localPort?: number;
    remoteAddress?: string;
    remotePort?: number;
  };
  const fallbackRemote = /^[\d.]+$/.test(host) || host.includes(':') ? host : '127.0.0.1';
  return {
    localAddress: s.localAddress ?? '127.0.0.1',
    localPort: s.localPort ?? 49152,
    remoteAddress: s.remoteAddress ?? fallbackRemote,
    remotePort: s.remotePort ?? port,
  };
}

/** How options differ: a connection field ('rebind'), only tuning ('tuned'), or not at all. */
export function optionsChange(a: BindOptions, b: BindOptions): 'rebind' | 'tuned' | 'unchanged' {
  for (const key of CONNECTION_FIELDS) {
    if (!sameValue(a[key], b[key])) return 'rebind';
  }
  for (const key of Object.keys({ ...a, ...b }) as (keyof BindOptions)[]) {
    if (!sameValue(a[key], b[key])) return 'tuned';
  }
  return 'unchanged';
}

/** Deep equality of option values (numbers, strings, booleans and plain objects of them). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) {
    if (ra[key] === undefined && rb[key] === undefined) continue;
    if (!sameValue(ra[key], rb[key])) return false;
  }
  return true;
}
