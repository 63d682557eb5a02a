/**
 * SmppSession: one TCP/TLS connection, used once, as ESME or as SMSC. It is the only code that
 * touches a socket and its timers. It frames and decodes what arrives, matches responses to the
 * in-flight window, answers enquire_link, unbind and anything it cannot handle by itself, keeps
 * the link alive, and turns every socket failure into a typed close reason — never an exception.
 *
 * Timers: one deadline timer (responses, window waits, session init, frame and write stalls),
 * re-armed to the earliest deadline, and the keepalive and inactivity timers, re-armed on every
 * whole PDU received. Each is created once and re-armed with refresh() (no new timer per
 * deadline), and all are cleared in one place (`destroy`).
 *
 * Hostile peers: only whole PDUs count as proof of life; a PDU that starts and does not
 * complete within frameTimeoutMs closes the session (`frame_stalled`). Unsent output is bounded:
 * above writeHighWaterMarkBytes the session stops reading (and handling what it already read)
 * until the socket drains, and closes with `write_stalled` if it does not drain within
 * writeStallTimeoutMs. Warnings a peer can trigger per PDU are rate-limited per kind.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { type Logger, silentLogger } from '../logger.js';
import { decodePdu, encodePdu } from '../protocol/codec.js';
import { CommandStatus } from '../protocol/command-status.js';
import {
  CommandId,
  type CommandName,
  commandName,
  DEFAULT_MAX_PDU_LENGTH,
  isResponseId,
  MAX_SEQUENCE_NUMBER,
  responseNameOf,
  TlvTag,
} from '../protocol/constants.js';
import type { SmppDecodeError } from '../protocol/errors.js';
import { Framer } from '../protocol/framer.js';
import { createPdu, type Pdu, type PduInit, type PduOf } from '../protocol/pdu.js';
import type { Tlv } from '../protocol/tlv.js';
import { type Clock, realClock, type TimerHandle } from './clock.js';
import {
  SmppBindError,
  SmppConnectionClosedError,
  SmppFrameStalledError,
  SmppNotBoundError,
  SmppProbeRejectedError,
  SmppResponseTimeoutError,
  SmppWindowWaitTimeoutError,
  SmppWriteStalledError,
} from './errors.js';
import { firstProbeDelayMs, keepaliveDecision } from './keepalive.js';
import { LogRateLimiter } from './log-limiter.js';
import { SequenceGenerator } from './sequence.js';
import {
  BIND_STATE,
  type CloseReason,
  canTransition,
  inboundAllowed,
  isBound,
  outboundAllowed,
  type SessionRole,
  type SessionState,
} from './state.js';
import { InflightWindow, type PendingRequest } from './window.js';

export type BindCommand = 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver';
export type ProbeTrigger = 'keepalive' | 'manual' | 'external';

/**
 * Sees the bytes of every whole PDU the session receives (`out` false, before it is decoded) and
 * of everything it writes (`out` true). Called on the hot path: it must be cheap, must not throw,
 * and must copy what it keeps (the session reuses nothing, but the caller owns the buffer).
 */
export interface PduRecorder {
  record(out: boolean, pdu: Uint8Array): void;
}

export interface SessionOptions {
  role: SessionRole;
  clock?: Clock;
  logger?: Logger;
  maxPduLength?: number;
  /** Requests in flight at once (enquire_link and unbind do not count). */
  windowSize?: number;
  responseTimeoutMs?: number;
  windowWaitTimeoutMs?: number;
  /** Idle time before an enquire_link goes out (0 = no keepalive). Starts once bound. */
  enquireLinkIntervalMs?: number;
  enquireLinkTimeoutMs?: number;
  /**
   * Consecutive unanswered enquire_links that close the session. A request from the peer or an
   * answer to one of our requests in between resets the count; stray answers (unknown
   * sequence_number) and partial PDUs do not.
   */
  maxMissedProbes?: number;
  /** No whole PDU received for this long closes the session (0 = off). */
  inactivityTimeoutMs?: number;
  /**
   * Unsent output above this many bytes stops reading from the peer until the socket drains
   * (default 1 MiB; never below the socket's own writableHighWaterMark, so 'drain' always comes).
   */
  writeHighWaterMarkBytes?: number;
  /** Output still above the high-water mark after this long closes the session (default responseTimeoutMs). */
  writeStallTimeoutMs?: number;
  /** A PDU that started arriving and is not complete after this long closes the session (default responseTimeoutMs; 0 = off). */
  frameTimeoutMs?: number;
  /** At most one line per kind of per-PDU warning per this long (default 10 s). */
  logRateLimitMs?: number;
  /** Uniform in [0, 1): jitters the first keepalive after bind (default Math.random). */
  random?: () => number;
  bindTimeoutMs?: number;
  /** SMSC role: close a connection that has not bound within this long (0 = off). */
  sessionInitTimeoutMs?: number;
  unbindTimeoutMs?: number;
  /** SMSC role: answer enquire_link before bind (5.0 allows it; some 3.4 SMSCs ignore it). */
  answerEnquireLinkUnbound?: boolean;
  /**
   * Sees every decoded inbound PDU first. Returning true means "handled": the session does
   * nothing more with it (the simulator's faults use this). Responses still count as activity.
   */
  interceptor?: (pdu: Pdu) => boolean;
  /**
   * Sees every answer (a _resp or generic_nack, its own enquire_link_resp and unbind_resp
   * included) encoded, just before it is written. Returning true means "taken over": the hook
   * writes the bytes later with sendRaw, rewrites them, or drops them (the simulator's response
   * faults use this). Answers still count in pdusOut.
   */
  answerHook?: (answer: Buffer, pdu: Pdu) => boolean;
  /** Inbound requests the session does not answer itself (deliver_sm, submit_sm, bind_* at an SMSC, ...). */
  onRequest?: (pdu: Pdu, session: SmppSession) => void;
  /** Sees every PDU in and out as bytes (the bind's PDU trace). */
  recorder?: PduRecorder;
}

export interface ProbeResult {
  ok: true;
  rttMs: number;
  sequenceNumber: number;
  commandStatus: number;
  /** Wall-clock time (ms since epoch) the response arrived. */
  at: number;
  trigger: ProbeTrigger;
}

/** An enquire_link answered with generic_nack or a non-zero command_status: alive, but refused. */
export interface ProbeRejected {
  ok: false;
  rejected: true;
  error: SmppProbeRejectedError;
  rttMs: number;
  commandStatus: number;
  /** The status's name, e.g. ESME_RINVCMDID. */
  statusName: string;
  at: number;
  trigger: ProbeTrigger;
  sequenceNumber: number;
}

export type ProbeOutcome =
  | ProbeResult
  | ProbeRejected
  | { ok: false; rejected?: false; error: Error; at: number; trigger: ProbeTrigger; sequenceNumber?: number };

export interface RequestOptions {
  timeoutMs?: number;
}

export interface SessionEvents {
  state: [{ from: SessionState; to: SessionState }];
  probe: [ProbeOutcome];
  close: [{ reason: CloseReason; error?: Error }];
  outbind: [PduOf<'outbind'>];
  unexpected: [{ pdu: Pdu; reason: string }];
  decodeError: [SmppDecodeError];
}

export interface BindParams {
  system_id: string;
  password: string;
  system_type?: string;
  interface_version?: number;
  addr_ton?: number;
  addr_npi?: number;
  address_range?: string;
}

const ESME_RINVBNDSTS = CommandStatus.ESME_RINVBNDSTS;

/** One blank PDU per command (every field at its empty value), copied by buildPdu. */
const BLANKS = new Map<CommandName, Readonly<Record<string, unknown>>>();

/**
 * createPdu(command, { ...init, sequence_number, command_status }) for the hot path. createPdu
 * adds each field under a computed name, and past a dozen such properties V8 turns the object
 * into a slow dictionary: building and encoding a submit_sm that way cost about 5 µs. A spread
 * of a blank made once gives a fast object whose shape every request shares. Same result: given
 * fields win unless undefined or null, the others keep their empty values.
 */
function buildPdu(command: CommandName, init: object, sequenceNumber: number, commandStatus: number): Pdu {
  let blank = BLANKS.get(command);
  if (blank === undefined) {
    blank = { ...createPdu(command) };
    BLANKS.set(command, blank);
  }
  const pdu: Record<string, unknown> = { ...blank };
  const given = init as Record<string, unknown>;
  for (const key in given) {
    const value = given[key];
    if (value !== undefined && value !== null) pdu[key] = value;
  }
  pdu.command = command;
  pdu.command_status = commandStatus;
  pdu.sequence_number = sequenceNumber;
  return pdu as unknown as Pdu;
}

let nextSessionId = 1;

export class SmppSession extends EventEmitter<SessionEvents> {
  readonly id = nextSessionId++;
  readonly role: SessionRole;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The peer's system_id once bound (ESME: from bind_resp; SMSC: from the bind request). */
  peerSystemId: string | undefined;
  /** The interface_version the peer announced (sc_interface_version or the bind's interface_version). */
  peerInterfaceVersion: number | undefined;
  readonly pdusIn: Record<string, number> = Object.create(null);
  readonly pdusOut: Record<string, number> = Object.create(null);
  closeReason: CloseReason | undefined;

  private _state: SessionState = 'open';
  private readonly socket: Duplex;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly framer: Framer;
  private readonly window: InflightWindow;
  private readonly seq = new SequenceGenerator();
  private readonly opts: Required<
    Omit<
      SessionOptions,
      'clock' | 'logger' | 'interceptor' | 'answerHook' | 'onRequest' | 'role' | 'random' | 'recorder'
    >
  >;
  private readonly random: () => number;
  private readonly limiter: LogRateLimiter;
  private readonly interceptor: ((pdu: Pdu) => boolean) | undefined;
  private readonly answerHook: ((answer: Buffer, pdu: Pdu) => boolean) | undefined;
  private onRequest: ((pdu: Pdu, session: SmppSession) => void) | undefined;
  private readonly recorder: PduRecorder | undefined;

  /** The deadline timer: created once, re-armed with refresh(); `timerAt` is when it fires (Infinity: idle). */
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private keepaliveTimer: TimerHandle | null = null;
  private inactivityTimer: TimerHandle | null = null;
  private lingerTimer: TimerHandle | null = null;
  /** When the last whole PDU arrived (ms, session clock): the session's proof of life. */
  private lastRxAt: number;
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  /** Idle time before the next keepalive: jittered after bind, then the interval. */
  private probeDelayMs = 0;
  private keepaliveOn = false;
  /** Set when a bind_resp bound the session, until the end of the chunk it came in (see onProofOfLife). */
  private keepaliveJustStarted = false;
  /** When the PDU being received must be complete (Infinity: none partly received). */
  private frameDeadline = Number.POSITIVE_INFINITY;
  /** Reading is paused because our unsent output is above the high-water mark. */
  private readPaused = false;
  /** When output above the high-water mark closes the session (Infinity: below it). */
  private writeStallDeadline = Number.POSITIVE_INFINITY;
  private readonly writeHwm: number;
  /** The most octets ever queued in the socket (tests and diagnostics). */
  maxQueuedBytes = 0;
  private initDeadline = Number.POSITIVE_INFINITY;
  private probeInFlight: Promise<ProbeResult> | null = null;
  private missedProbes = 0;
  private corked = false;
  private closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private closing: Promise<void> | null = null;

  constructor(socket: Duplex, options: SessionOptions) {
    super();
    this.socket = socket;
    this.role = options.role;
    this.clock = options.clock ?? realClock;
    this.interceptor = options.interceptor;
    this.answerHook = options.answerHook;
    this.onRequest = options.onRequest;
    this.recorder = options.recorder;
    this.opts = {
      maxPduLength: options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
      windowSize: options.windowSize ?? 10,
      responseTimeoutMs: options.responseTimeoutMs ?? 30_000,
      windowWaitTimeoutMs: options.windowWaitTimeoutMs ?? 30_000,
      enquireLinkIntervalMs: options.enquireLinkIntervalMs ?? 30_000,
      enquireLinkTimeoutMs: options.enquireLinkTimeoutMs ?? 10_000,
      maxMissedProbes: options.maxMissedProbes ?? 2,
      inactivityTimeoutMs: options.inactivityTimeoutMs ?? 0,
      writeHighWaterMarkBytes: options.writeHighWaterMarkBytes ?? 1024 * 1024,
      writeStallTimeoutMs: options.writeStallTimeoutMs ?? options.responseTimeoutMs ?? 30_000,
      frameTimeoutMs: options.frameTimeoutMs ?? options.responseTimeoutMs ?? 30_000,
      logRateLimitMs: options.logRateLimitMs ?? 10_000,
      bindTimeoutMs: options.bindTimeoutMs ?? 10_000,
      sessionInitTimeoutMs: options.sessionInitTimeoutMs ?? (options.role === 'smsc' ? 10_000 : 0),
      unbindTimeoutMs: options.unbindTimeoutMs ?? 5_000,
      answerEnquireLinkUnbound: options.answerEnquireLinkUnbound ?? true,
    };
    this.framer = new Framer({ maxPduLength: this.opts.maxPduLength });
    this.window = new InflightWindow(this.opts.windowSize);
    const net = socket as Duplex & {
      remoteAddress?: string;
      remotePort?: number;
      setNoDelay?: (v: boolean) => void;
    };
    this.remoteAddress = net.remoteAddress;
    this.remotePort = net.remotePort;
    net.setNoDelay?.(true);
    this.log = (options.logger ?? silentLogger).child({ session: this.id, role: this.role });
    this.random = options.random ?? Math.random;
    this.limiter = new LogRateLimiter(this.log, () => this.clock.now(), this.opts.logRateLimitMs);
    const socketHwm = (socket as Duplex & { writableHighWaterMark?: number }).writableHighWaterMark ?? 0;
    this.writeHwm = Math.max(this.opts.writeHighWaterMarkBytes, socketHwm);
    this.lastRxAt = this.clock.now();
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });

    socket.on('data', this.onData);
    // The error listener stays for the socket's whole life: a late error must never become uncaught.
    socket.on('error', this.onSocketError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onDrain);

    if (this.opts.sessionInitTimeoutMs > 0) {
      this.initDeadline = this.clock.now() + this.opts.sessionInitTimeoutMs;
      this.schedule(this.initDeadline);
    }
  }

  get state(): SessionState {
    return this._state;
  }

  get bound(): boolean {
    return isBound(this._state);
  }

  get closed(): boolean {
    return this._state === 'closed';
  }

  /** Requests in flight that count against the window, and its capacity. */
  get windowUsage(): { used: number; capacity: number; waiting: number } {
    return { used: this.window.used, capacity: this.window.capacity, waiting: this.window.waiting };
  }

  /** Requests in flight that count against the window (windowUsage.used without an object, for hot paths). */
  get windowUsed(): number {
    return this.window.used;
  }

  /** The window's capacity (windowUsage.capacity without an object). */
  get windowCapacity(): number {
    return this.window.capacity;
  }

  /** Requests queued for a window slot (windowUsage.waiting without an object). */
  get windowWaiting(): number {
    return this.window.waiting;
  }

  /** Resolves once the session is closed, whatever closed it. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  setRequestHandler(handler: ((pdu: Pdu, session: SmppSession) => void) | undefined): void {
    this.onRequest = handler;
  }

  // ------------------------------------------------------------------ state

  private setState(to: SessionState): void {
    const from = this._state;
    if (from === to) return;
    if (!canTransition(from, to)) {
      this.log.warn({ from, to }, 'session: refused state transition');
      return;
    }
    this._state = to;
    this.log.debug({ from, to }, `session state ${from} -> ${to}`);
    if (isBound(to)) {
      this.initDeadline = Number.POSITIVE_INFINITY;
      this.startKeepalive();
    }
    this.emit('state', { from, to });
  }

  // ------------------------------------------------------------------ outbound

  private uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** Writes, batching every write of one tick into one socket write. */
  private write(buf: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.recorder?.record(true, buf);
    this.socket.write(buf);
    this.checkOutput();
  }

  /** Writes now, bypassing the batch (probes: the RTT must not include time queued in our process). */
  private writeNow(buf: Buffer): void {
    if (this.corked) this.socket.uncork();
    this.corked = false;
    this.recorder?.record(true, buf);
    this.socket.write(buf);
    this.checkOutput();
  }

  /**
   * Backpressure: once our unsent output passes the high-water mark, stop reading (and handling
   * PDUs already read) until the socket drains. Every answer the session writes comes from a PDU
   * it handled, so unsent output stays within the high-water mark plus one answer, and the
   * peer's flood stops at TCP. Output that does not drain within writeStallTimeoutMs closes the
   * session (`write_stalled`).
   */
  private checkOutput(): void {
    const queued = this.socket.writableLength;
    if (queued > this.maxQueuedBytes) this.maxQueuedBytes = queued;
    if (this.readPaused || queued <= this.writeHwm || this._state === 'closed') return;
    this.readPaused = true;
    this.socket.pause();
    this.writeStallDeadline = this.clock.now() + this.opts.writeStallTimeoutMs;
    this.limiter.warn(
      'write_backpressure',
      { queuedBytes: queued, highWaterMarkBytes: this.writeHwm },
      'the peer is not reading our output: reading paused until it drains',
    );
    this.schedule(this.writeStallDeadline);
  }

  private onDrain = (): void => {
    if (!this.readPaused || this._state === 'closed') return;
    this.readPaused = false;
    this.writeStallDeadline = Number.POSITIVE_INFINITY;
    this.socket.resume();
    // PDUs read before the pause are handled now.
    this.processFrames();
  };

  /** True while reading is paused because the peer does not read our output. */
  get readingPaused(): boolean {
    return this.readPaused;
  }

  /** Octets written and not yet handed to the OS (bounded by the high-water mark plus one PDU). */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  private count(table: Record<string, number>, command: string): void {
    table[command] = (table[command] ?? 0) + 1;
  }

  /** Sends any PDU as is (responses, or crafted PDUs in tests and the simulator). */
  send(pdu: Pdu): void {
    if (this._state === 'closed') throw new SmppConnectionClosedError(this.closeReason ?? 'local_close');
    const buf = encodePdu(pdu, { maxPduLength: this.opts.maxPduLength });
    this.count(this.pdusOut, pdu.command);
    this.write(buf);
  }

  /**
   * Encodes an answer to the peer. The sequence_number is the peer's, echoed as is: one with
   * bit 31 set breaks §1.3 and the encoder refuses it, but answering with another number is
   * worse (§11.4: peers drop the link), and throwing here would escape from a socket event.
   */
  private encodeAnswer(pdu: Pdu): Buffer {
    const seq = pdu.sequence_number;
    if (seq <= MAX_SEQUENCE_NUMBER) return encodePdu(pdu, { maxPduLength: this.opts.maxPduLength });
    const buf = encodePdu({ ...pdu, sequence_number: 0 }, { maxPduLength: this.opts.maxPduLength });
    buf.writeUInt32BE(seq >>> 0, 12);
    return buf;
  }

  private sendAnswer(pdu: Pdu): void {
    if (this._state === 'closed') return;
    const buf = this.encodeAnswer(pdu);
    this.count(this.pdusOut, pdu.command);
    if (this.answerHook?.(buf, pdu)) return;
    this.write(buf);
  }

  /** Writes raw bytes (fault injection: malformed PDUs, bad lengths, slow writes). */
  sendRaw(buf: Buffer): void {
    if (this._state === 'closed') return;
    this.write(buf);
  }

  /** Answers a received request with its _resp (same sequence_number). */
  respond<K extends CommandName>(
    request: Pdu,
    init: PduInit<K> & { command_status?: number } = {} as PduInit<K>,
  ): void {
    const name = responseNameOf(request.command);
    if (name === undefined) return;
    if (this._state === 'closed') return;
    this.sendAnswer(buildPdu(name, init, request.sequence_number, init.command_status ?? 0));
  }

  /** Sends generic_nack with a status for a sequence number. */
  nack(sequenceNumber: number, commandStatus: number): void {
    if (this._state === 'closed') return;
    this.sendAnswer(
      createPdu('generic_nack', { sequence_number: sequenceNumber, command_status: commandStatus }),
    );
  }

  /**
   * Sends a request and resolves with its response — whatever its command_status, and
   * generic_nack included (a non-OK status is a normal value here). Rejects with a typed
   * error on window-wait timeout, response timeout, wrong state or connection close.
   */
  request<K extends CommandName>(
    command: K,
    init: PduInit<K> = {} as PduInit<K>,
    options: RequestOptions = {},
  ): Promise<Pdu> {
    if (!outboundAllowed(this.role, command, this._state)) {
      return Promise.reject(
        this._state === 'closed'
          ? new SmppConnectionClosedError(this.closeReason ?? 'local_close')
          : new SmppNotBoundError(command, this._state),
      );
    }
    const windowed = command !== 'enquire_link' && command !== 'unbind' && !command.startsWith('bind_');
    const timeoutMs = options.timeoutMs ?? this.opts.responseTimeoutMs;
    if (!windowed || this.window.tryAcquire()) {
      return this.dispatch(command, init, timeoutMs, windowed);
    }
    const deadline = this.clock.now() + this.opts.windowWaitTimeoutMs;
    const wait = this.window.waitForSlot(command, deadline, this.opts.windowWaitTimeoutMs);
    this.schedule(deadline);
    return wait.then(() => {
      if (!outboundAllowed(this.role, command, this._state)) {
        // Closed since the slot was granted: rejectAll already emptied the window.
        if (this._state !== 'closed') this.window.releaseSlot();
        throw this._state === 'closed'
          ? new SmppConnectionClosedError(this.closeReason ?? 'local_close')
          : new SmppNotBoundError(command, this._state);
      }
      return this.dispatch(command, init, timeoutMs, true);
    });
  }

  private dispatch<K extends CommandName>(
    command: K,
    init: PduInit<K>,
    timeoutMs: number,
    windowed: boolean,
    onWrite?: (seq: number) => void,
  ): Promise<Pdu> {
    const seq = this.seq.next((n) => this.window.has(n));
    let buf: Buffer;
    try {
      buf = encodePdu(buildPdu(command, init, seq, 0), { maxPduLength: this.opts.maxPduLength });
    } catch (error) {
      if (windowed) this.window.releaseSlot();
      return Promise.reject(error);
    }
    return new Promise<Pdu>((resolve, reject) => {
      const deadline = this.clock.now() + timeoutMs;
      const request: PendingRequest = {
        seq,
        command,
        responseId: (CommandId[command] | 0x80000000) >>> 0,
        windowed,
        deadline,
        timeoutMs,
        resolve,
        reject,
      };
      this.window.add(request);
      this.schedule(deadline);
      this.count(this.pdusOut, command);
      if (onWrite) {
        onWrite(seq);
        this.writeNow(buf);
      } else this.write(buf);
    });
  }

  /** Binds (ESME role). Resolves with the bind_*_resp; rejects with SmppBindError when refused. */
  async bind(command: BindCommand, params: BindParams): Promise<Pdu> {
    if (this.role !== 'esme') throw new SmppNotBoundError(command, `${this._state} (an SMSC does not bind)`);
    if (this._state !== 'open' && this._state !== 'outbound')
      throw new SmppNotBoundError(command, this._state);
    const back = this._state;
    this.setState('binding');
    let resp: Pdu;
    try {
      resp = await this.dispatch(
        command,
        {
          system_id: params.system_id,
          password: params.password,
          system_type: params.system_type ?? '',
          interface_version: params.interface_version ?? 0x34,
          addr_ton: params.addr_ton ?? 0,
          addr_npi: params.addr_npi ?? 0,
          address_range: params.address_range ?? '',
        } as PduInit<BindCommand>,
        this.opts.bindTimeoutMs,
        false,
      );
    } catch (error) {
      if (error instanceof SmppResponseTimeoutError) this.destroy('bind_timeout', error);
      // An undecodable bind_resp: not bound, so back to where the bind started.
      else if (this.state === 'binding') this.setState(back);
      throw error;
    }
    if (resp.command === 'generic_nack' || resp.command_status !== 0) {
      if (this.state === 'binding') this.setState(back);
      throw new SmppBindError(resp.command_status);
    }
    // handleResponse moved the session to bound as it read the bind_resp; anything else means
    // it closed (or was unbound) since.
    if (this.state !== BIND_STATE[command]) {
      throw new SmppConnectionClosedError(this.closeReason ?? 'local_close');
    }
    return resp;
  }

  /**
   * Bound by an OK bind_resp, at the moment it is read: an SMSC may send deliver_sm right behind
   * it in the same segment (queued MO, receipts), and those must find the session bound, not be
   * refused ESME_RINVBNDSTS while bind() still waits for its promise to settle.
   */
  private enterBound(command: BindCommand, resp: Pdu): void {
    const bindResp = resp as PduOf<'bind_transceiver_resp'>;
    this.peerSystemId = bindResp.system_id;
    const sc = bindResp.tlvs?.find((t) => t.tag === TlvTag.sc_interface_version)?.value;
    this.peerInterfaceVersion = typeof sc === 'number' ? sc : 0x33;
    this.setState(BIND_STATE[command]);
    // Read inside a chunk: that chunk's proof of life must not undo the jittered first keepalive.
    this.keepaliveJustStarted = true;
  }

  /** Accepts a bind request (SMSC role): answers OK with our system_id and moves to the bound state. */
  acceptBind(request: Pdu, systemId: string, tlvs?: Tlv[]): void {
    if (this._state !== 'open' && this._state !== 'outbound') {
      // Another bind was accepted first (binds held for an async check): this one is refused.
      this.respond(request, { command_status: this.bound ? CommandStatus.ESME_RALYBND : ESME_RINVBNDSTS });
      return;
    }
    const command = request.command as BindCommand;
    const bind = request as PduOf<'bind_transceiver'>;
    this.peerSystemId = bind.system_id;
    this.peerInterfaceVersion = bind.interface_version;
    // Announce our version only to peers that speak 3.4 or later (reference §4.11).
    const version: Tlv[] =
      tlvs ?? (bind.interface_version >= 0x34 ? [{ tag: TlvTag.sc_interface_version, value: 0x34 }] : []);
    this.respond(request, { system_id: systemId, tlvs: version });
    this.setState(BIND_STATE[command]);
  }

  /** Refuses a bind request (SMSC role) with a status; the connection stays open. */
  rejectBind(request: Pdu, commandStatus: number): void {
    this.respond(request, { command_status: commandStatus });
  }

  /**
   * Sends enquire_link now and resolves with the round-trip time. Concurrent calls share the
   * probe in flight (one PDU however many callers). Not blocked by a full window. An answer
   * that is not an OK enquire_link_resp (generic_nack, a non-zero status) rejects with
   * SmppProbeRejectedError: the link is alive (the miss count resets) but the probe failed.
   */
  probe(options: { timeoutMs?: number; trigger?: ProbeTrigger } = {}): Promise<ProbeResult> {
    if (this.probeInFlight) return this.probeInFlight;
    const trigger = options.trigger ?? 'manual';
    if (
      !outboundAllowed(this.role, 'enquire_link', this._state) ||
      !(this.bound || this._state === 'unbinding')
    ) {
      const error =
        this._state === 'closed'
          ? new SmppConnectionClosedError(this.closeReason ?? 'local_close')
          : new SmppNotBoundError('enquire_link', this._state);
      return Promise.reject(error);
    }
    const timeoutMs = options.timeoutMs ?? this.opts.enquireLinkTimeoutMs;
    this.lastProbeAt = this.clock.now();
    if (this.keepaliveOn && this.keepaliveTimer) {
      this.probeDelayMs = this.opts.enquireLinkIntervalMs;
      this.keepaliveTimer.refresh(this.probeDelayMs);
    }
    let sentAt = 0n;
    let sequenceNumber = 0;
    const probe = this.dispatch('enquire_link', {}, timeoutMs, false, (seq) => {
      sequenceNumber = seq;
      sentAt = this.clock.hrtime();
    }).then(
      (resp) => {
        const rxAt = this.lastFrameRxAt;
        const rttMs = Number(rxAt - sentAt) / 1e6;
        this.probeInFlight = null;
        // Any answer proves the link alive: never a miss.
        this.missedProbes = 0;
        if (resp.command !== 'enquire_link_resp' || resp.command_status !== 0) {
          // generic_nack or a non-zero status: alive, but the probe is refused.
          const error = new SmppProbeRejectedError(resp.command, resp.command_status, rttMs, sequenceNumber);
          this.emit('probe', {
            ok: false,
            rejected: true,
            error,
            rttMs,
            commandStatus: resp.command_status,
            statusName: error.statusName,
            at: Date.now(),
            trigger,
            sequenceNumber,
          });
          throw error;
        }
        const result: ProbeResult = {
          ok: true,
          rttMs,
          sequenceNumber,
          commandStatus: resp.command_status,
          at: Date.now(),
          trigger,
        };
        this.emit('probe', result);
        return result;
      },
      (error: Error) => {
        this.probeInFlight = null;
        this.emit('probe', { ok: false, error, at: Date.now(), trigger, sequenceNumber });
        if (error instanceof SmppResponseTimeoutError && this.bound) this.onProbeMissed();
        throw error;
      },
    );
    this.probeInFlight = probe;
    return probe;
  }

  private onProbeMissed(): void {
    this.missedProbes++;
    this.log.warn({ missed: this.missedProbes, max: this.opts.maxMissedProbes }, 'enquire_link unanswered');
    if (this.missedProbes >= this.opts.maxMissedProbes) {
      this.destroy('keepalive_timeout');
      return;
    }
    // One miss: probe again at once rather than waiting a whole interval.
    this.probe({ trigger: 'keepalive' }).catch(() => {});
  }

  /** True while an enquire_link of ours awaits its response. */
  get probing(): boolean {
    return this.probeInFlight !== null;
  }

  /** When the last whole PDU arrived from the peer (ms on the session clock); partial PDUs do not count. */
  get lastReceivedAt(): number {
    return this.lastRxAt;
  }

  /** Consecutive unanswered probes so far. */
  get missed(): number {
    return this.missedProbes;
  }

  /**
   * Graceful close: unbind when bound, wait for unbind_resp (or EOF) up to unbindTimeoutMs,
   * then close the socket. Idempotent; resolves when closed.
   */
  close(): Promise<void> {
    if (this._state === 'closed') return this.closedPromise;
    if (this.closing) return this.closing;
    if (!this.bound) {
      this.destroy('local_close');
      return this.closedPromise;
    }
    this.closing = (async () => {
      const unbind = this.dispatch('unbind', {}, this.opts.unbindTimeoutMs, false);
      this.setState('unbinding');
      try {
        await unbind;
      } catch {
        // Timeout or EOF: either way we are done.
      }
      this.destroy('local_close', undefined, true);
      await this.closedPromise;
    })();
    return this.closing;
  }

  /**
   * Closes now: rejects everything pending, clears the timer, closes the socket (with `graceful`,
   * after flushing what was written). Idempotent; the first reason wins.
   */
  destroy(reason: CloseReason = 'local_close', error?: Error, graceful = false): void {
    if (this._state === 'closed') return;
    const from = this._state;
    this._state = 'closed';
    this.closeReason = reason;
    this.keepaliveOn = false;
    this.timer?.clear();
    this.timer = null;
    this.keepaliveTimer?.clear();
    this.keepaliveTimer = null;
    this.inactivityTimer?.clear();
    this.inactivityTimer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.readPaused = false;
    this.limiter.flush();
    this.framer.reset();
    this.window.rejectAll(() => new SmppConnectionClosedError(reason, error));
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    const sock = this.socket as Duplex & { destroyed?: boolean };
    if (graceful && !sock.destroyed) {
      if (this.corked) this.uncork();
      this.socket.end();
      // A peer that never reads must not hold the socket open: destroy after a short linger.
      this.lingerTimer = this.clock.setTimer(() => this.socket.destroy(), 1_000);
    } else {
      this.socket.destroy();
    }
    const level = reason === 'local_close' || reason === 'peer_unbind' ? 'debug' : 'info';
    this.log[level]({ reason, err: error?.message }, `session closed (${reason})`);
    this.emit('state', { from, to: 'closed' });
    this.emit('close', error ? { reason, error } : { reason });
    this.resolveClosed();
  }

  // ------------------------------------------------------------------ inbound

  /** High-resolution time the chunk holding the frame being handled was read. */
  private lastFrameRxAt = 0n;
  /** High-resolution time the last chunk was read. */
  private chunkRxAt = 0n;

  private onData = (chunk: Buffer): void => {
    this.chunkRxAt = this.clock.hrtime();
    this.framer.push(chunk);
    this.processFrames();
  };

  /**
   * Handles the whole PDUs the framer holds, unless reading is paused for backpressure. Only a
   * whole PDU is a proof of life: it postpones the keepalive and the inactivity timeout; bytes
   * that never make a PDU do not (a PDU left incomplete for frameTimeoutMs closes the session).
   * Only PDUs that prove the peer holds the session (its own requests, answers to ours) reset
   * the missed-probe count (handleRequest, handleResponse).
   */
  private processFrames(): void {
    const rxAt = this.chunkRxAt;
    let whole = false;
    while (!this.readPaused) {
      if (this._state === 'closed') return;
      const next = this.framer.next();
      if (next === undefined) break;
      if (!next.ok) {
        this.log.warn({ err: next.error.message }, 'framing lost');
        this.emit('decodeError', next.error);
        this.nack(next.error.header?.sequence_number ?? 0, next.error.commandStatus);
        this.destroy('framing_lost', next.error, true);
        return;
      }
      if (!whole) {
        // One clock read per batch: every PDU of one chunk arrived at the same time.
        whole = true;
        this.lastRxAt = this.clock.now();
      }
      this.handleFrame(next.frame, rxAt);
    }
    if (this._state === 'closed') return;
    if (whole) this.onProofOfLife();
    this.trackPartialFrame(whole);
  }

  /** A whole PDU arrived: the keepalive and inactivity clocks start again (refresh, no new timer). */
  private onProofOfLife(): void {
    if (!this.keepaliveOn) return;
    if (this.keepaliveJustStarted) {
      // A bind_resp in this very chunk started the keepalive (jittered): keep that first delay.
      this.keepaliveJustStarted = false;
      return;
    }
    if (this.keepaliveTimer) {
      this.probeDelayMs = this.opts.enquireLinkIntervalMs;
      this.keepaliveTimer.refresh(this.probeDelayMs);
    }
    this.inactivityTimer?.refresh(this.opts.inactivityTimeoutMs);
  }

  /**
   * Starts the frame timeout when a PDU has begun arriving (bytes held, not yet a whole PDU), and
   * stops it when none is pending. While reading is paused the bytes held are ours to handle,
   * not the peer's to complete: the write stall timeout applies instead.
   */
  private trackPartialFrame(completedOne: boolean): void {
    if (this.opts.frameTimeoutMs <= 0) return;
    if (this.readPaused || this.framer.buffered === 0) {
      this.frameDeadline = Number.POSITIVE_INFINITY;
      return;
    }
    if (completedOne || !Number.isFinite(this.frameDeadline)) {
      this.frameDeadline = this.clock.now() + this.opts.frameTimeoutMs;
      this.schedule(this.frameDeadline);
    }
  }

  private handleFrame(frame: Buffer, rxAt: bigint): void {
    this.recorder?.record(false, frame);
    const decoded = decodePdu(frame);
    if (!decoded.ok) {
      this.onDecodeError(decoded.error);
      return;
    }
    const pdu = decoded.pdu;
    this.count(this.pdusIn, pdu.command);
    if (this.interceptor?.(pdu)) return;
    if (isResponseId(CommandId[pdu.command])) this.handleResponse(pdu, rxAt);
    else this.handleRequest(pdu);
  }

  private onDecodeError(error: SmppDecodeError): void {
    this.emit('decodeError', error);
    const header = error.header;
    if (!header) return;
    this.limiter.warn('undecodable_pdu', { err: error.message }, 'undecodable PDU');
    if (isResponseId(header.command_id)) {
      // Never answer a response; fail the request it was meant for.
      const pending = this.window.get(header.sequence_number);
      if (
        pending &&
        (header.command_id === pending.responseId || header.command_id === CommandId.generic_nack)
      ) {
        this.window.take(header.sequence_number);
        pending.reject(error);
      }
      return;
    }
    const name = commandName(header.command_id);
    const resp = name ? responseNameOf(name) : undefined;
    if (resp) {
      this.sendAnswer(
        createPdu(resp, {
          sequence_number: header.sequence_number,
          command_status: error.commandStatus,
        }) as Pdu,
      );
    } else {
      this.nack(header.sequence_number, error.commandStatus);
    }
  }

  private handleResponse(pdu: Pdu, rxAt: bigint): void {
    const pending = this.window.get(pdu.sequence_number);
    const id = CommandId[pdu.command];
    if (pending === undefined || (id !== pending.responseId && pdu.command !== 'generic_nack')) {
      const reason =
        pending === undefined
          ? 'no request with this sequence_number is in flight'
          : `answers ${pending.command}`;
      this.limiter.warn(
        'unexpected_response',
        { command: pdu.command, seq: pdu.sequence_number },
        `unexpected response dropped: ${reason}`,
      );
      this.emit('unexpected', { pdu, reason });
      return;
    }
    this.window.take(pdu.sequence_number);
    this.missedProbes = 0;
    this.lastFrameRxAt = rxAt;
    if (
      this._state === 'binding' &&
      pdu.command !== 'generic_nack' &&
      pdu.command_status === 0 &&
      pending.command in BIND_STATE
    ) {
      this.enterBound(pending.command as BindCommand, pdu);
    }
    pending.resolve(pdu, rxAt);
  }

  private handleRequest(pdu: Pdu): void {
    const command = pdu.command;
    const state = this._state;
    // The peer's own request proves it is there: unanswered probes only count while it is silent.
    this.missedProbes = 0;
    if (command === 'enquire_link') {
      if (this.bound || state === 'unbinding' || this.role === 'esme' || this.opts.answerEnquireLinkUnbound) {
        this.count(this.pdusOut, 'enquire_link_resp');
        const resp = createPdu('enquire_link_resp', { sequence_number: pdu.sequence_number });
        const buf = this.encodeAnswer(resp);
        if (this.answerHook?.(buf, resp)) return;
        this.writeNow(buf);
      }
      return;
    }
    if (!inboundAllowed(this.role, command, state)) {
      const already = command.startsWith('bind_') && (this.bound || state === 'binding');
      const status = already
        ? CommandStatus.ESME_RALYBND
        : state === 'unbinding' && (command === 'deliver_sm' || command === 'data_sm')
          ? CommandStatus.ESME_RX_T_APPN
          : ESME_RINVBNDSTS;
      this.log.debug({ command, state }, 'request not allowed in this state');
      if (responseNameOf(command)) this.respond(pdu, { command_status: status });
      return;
    }
    if (command === 'unbind') {
      this.respond(pdu);
      this.destroy('peer_unbind', undefined, true);
      return;
    }
    if (command === 'outbind') {
      this.setState('outbound');
      this.emit('outbind', pdu as PduOf<'outbind'>);
      return;
    }
    if (this.onRequest) {
      this.onRequest(pdu, this);
      return;
    }
    // Nobody handles it: never lose a message by accepting it — ask the peer to retry later.
    if (command === 'deliver_sm' || command === 'data_sm')
      this.respond(pdu, { command_status: CommandStatus.ESME_RX_T_APPN });
    else if (command.startsWith('bind_')) this.respond(pdu, { command_status: CommandStatus.ESME_RBINDFAIL });
    else this.respond(pdu, { command_status: CommandStatus.ESME_RSYSERR });
  }

  private onSocketError = (error: Error): void => {
    if (this._state === 'closed') return;
    this.destroy('socket_error', error);
  };

  private onEnd = (): void => {
    if (this._state === 'closed') return;
    // EOF after our unbind is a normal end (SMSCs often close right after unbind_resp).
    this.destroy(this._state === 'unbinding' ? 'local_close' : 'peer_closed');
  };

  private onSocketClose = (): void => {
    if (this.lingerTimer) {
      this.lingerTimer.clear();
      this.lingerTimer = null;
    }
    if (this._state !== 'closed') this.destroy('peer_closed');
  };

  // ------------------------------------------------------------------ timers

  /**
   * Once bound: the keepalive timer (first delay jittered in [interval/2, interval], so binds
   * bound together do not probe together) and the inactivity timer. Both are re-armed with
   * refresh() on every proof of life; neither is ever re-created.
   */
  private startKeepalive(): void {
    this.keepaliveOn = true;
    this.lastRxAt = this.clock.now();
    const intervalMs = this.opts.enquireLinkIntervalMs;
    if (intervalMs > 0) {
      this.probeDelayMs = firstProbeDelayMs(intervalMs, this.random);
      this.keepaliveTimer = this.clock.setTimer(this.onKeepaliveTimer, this.probeDelayMs);
    }
    if (this.opts.inactivityTimeoutMs > 0) {
      this.inactivityTimer = this.clock.setTimer(this.onInactivityTimer, this.opts.inactivityTimeoutMs);
    }
  }

  private keepaliveNow(now: number) {
    return keepaliveDecision(
      {
        enquireLinkIntervalMs: this.opts.enquireLinkIntervalMs,
        inactivityTimeoutMs: this.opts.inactivityTimeoutMs,
      },
      {
        lastRxAt: this.lastRxAt,
        lastProbeAt: this.lastProbeAt,
        probeInFlight: this.probeInFlight !== null,
        probeDelayMs: this.probeDelayMs,
      },
      now,
    );
  }

  private onKeepaliveTimer = (): void => {
    if (!this.keepaliveOn || this._state === 'closed') return;
    const now = this.clock.now();
    const decision = this.keepaliveNow(now);
    if (decision.action === 'inactivity_timeout') {
      this.destroy('inactivity_timeout');
      return;
    }
    // probe() re-arms this timer; a probe in flight re-arms it when it settles.
    if (decision.action === 'probe') this.probe({ trigger: 'keepalive' }).catch(() => {});
    else if (Number.isFinite(decision.probeAt)) this.keepaliveTimer?.refresh(decision.probeAt - now);
  };

  private onInactivityTimer = (): void => {
    if (!this.keepaliveOn || this._state === 'closed') return;
    const now = this.clock.now();
    const decision = this.keepaliveNow(now);
    if (decision.action === 'inactivity_timeout') this.destroy('inactivity_timeout');
    else if (Number.isFinite(decision.inactivityAt))
      this.inactivityTimer?.refresh(decision.inactivityAt - now);
  };

  /** Arms the deadline timer for `at` unless it fires earlier already (refresh(), never a new timer). */
  private schedule(at: number): void {
    if (this._state === 'closed') return;
    if (at >= this.timerAt) return;
    this.timerAt = at;
    const ms = at - this.clock.now();
    if (this.timer) this.timer.refresh(ms);
    else this.timer = this.clock.setTimer(this.onTimer, ms);
  }

  private onTimer = (): void => {
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this._state === 'closed') return;
    const now = this.clock.now();
    if (now >= this.initDeadline && !this.bound) {
      this.destroy('session_init_timeout');
      return;
    }
    if (now >= this.writeStallDeadline) {
      this.destroy(
        'write_stalled',
        new SmppWriteStalledError(this.socket.writableLength, this.opts.writeStallTimeoutMs),
      );
      return;
    }
    if (now >= this.frameDeadline && this.socket.isPaused()) {
      // Reading was paused by the socket's owner (the simulator holds back a client whose answers
      // it cannot write yet): the partial PDU waits on us, not on the peer.
      this.frameDeadline = now + this.opts.frameTimeoutMs;
    }
    if (now >= this.frameDeadline) {
      this.destroy(
        'frame_stalled',
        new SmppFrameStalledError(this.framer.buffered, this.opts.frameTimeoutMs),
      );
      return;
    }
    const expired = this.window.expire(now);
    for (const request of expired.requests) {
      request.reject(new SmppResponseTimeoutError(request.command, request.seq, request.timeoutMs));
    }
    for (const waiter of expired.waiters) {
      waiter.reject(new SmppWindowWaitTimeoutError(waiter.command, waiter.timeoutMs));
    }
    if (this.closed) return;
    const next = this.window.nextDeadline();
    if (next !== undefined) this.schedule(next);
    if (Number.isFinite(this.initDeadline)) this.schedule(this.initDeadline);
    if (Number.isFinite(this.writeStallDeadline)) this.schedule(this.writeStallDeadline);
    if (Number.isFinite(this.frameDeadline)) this.schedule(this.frameDeadline);
  };
}
