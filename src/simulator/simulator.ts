/**
 * The SMSC simulator: a TCP (or TLS) server whose connections are SmppSessions in the 'smsc'
 * role. It binds ESMEs per its accounts, answers submit_sm, submit_multi, data_sm, query_sm,
 * cancel_sm and replace_sm, sends delivery receipts and injected MO messages as deliver_sm,
 * probes bound clients with its own enquire_link when asked to, and plays the faults of
 * faults.ts on the sessions and PDUs they are scoped to, switched at runtime.
 *
 * The session answers enquire_link, unbind, wrong-state requests and unknown commands itself;
 * the simulator sees every request first (its interceptor, which is how faults take over) and
 * every answer last (the session's answerHook, which is how answers are delayed or broken).
 * Whatever a client sends, the simulator stays up: a bad byte stream closes that connection only.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { type Logger, silentLogger } from '../logger.js';
import { CommandStatus } from '../protocol/command-status.js';
import { type CommandName, MessageState, TlvTag } from '../protocol/constants.js';
import { createPdu, type Pdu, type PduInit, type PduOf } from '../protocol/pdu.js';
import { chooseEncoding, encodeText } from '../protocol/text.js';
import { formatAbsoluteTime, parseSmppTime, resolveSmppTime } from '../protocol/time.js';
import { type Tlv, tlvBytes } from '../protocol/tlv.js';
import { type BindCommand, SmppSession } from '../session/session.js';
import type { CloseReason, SessionState } from '../session/state.js';
import { AccountBook, type BindType, checkAccounts, type SimAccount } from './accounts.js';
import { AnswerQueue, malform, withLength, withSequence, wrongSequence } from './answer-faults.js';
import { SimErrorCode, type SimIssue, SimulatorError } from './errors.js';
import {
  DEFAULT_ERROR_COMMANDS,
  DEFAULT_SLOW_LORIS,
  type Fault,
  type FaultScope,
  FaultTable,
  firstOf,
  type MatchTarget,
  notFound,
} from './faults.js';
import { type Address, type MessageIdFormat, MessageStore, type StoredMessage } from './message-store.js';
import {
  checkReceiptOptions,
  type DeliveryJob,
  plannedOutcome,
  type ReceiptOptions,
  ReceiptSender,
  type ResolvedReceiptOptions,
  receiptDeliverSm,
  resolveReceiptOptions,
  wantsReceipt,
} from './receipts.js';
import { MAX_TIMER_MS, TimerSet } from './timer-set.js';

export type { BindType, SimAccount } from './accounts.js';
export type { Fault, FaultEntry, FaultScope } from './faults.js';
export type { ReceiptOptions } from './receipts.js';

export interface SimulatorTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  ca?: string | Buffer;
  /** Ask clients for a certificate (and reject those the CA does not sign). */
  requestCert?: boolean;
}

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Who may bind; absent = any system_id and password (logged at info). */
  accounts?: SimAccount[];
  tls?: SimulatorTlsOptions;
  /** The simulator's own enquire_link to bound clients after this much silence (0 = off, the default). */
  enquireLinkIntervalMs?: number;
  /** How long the simulator waits for an enquire_link_resp. Default 10000. */
  enquireLinkTimeoutMs?: number;
  /** A connection that has not bound within this long is closed. Default 10000 (0 = never). */
  sessionInitTimeoutMs?: number;
  receipts?: ReceiptOptions;
  logger?: Logger;
  maxPduLength?: number;
  /** deliver_sm in flight per session at once. Default 10. */
  windowSize?: number;
  /** system_id the simulator gives in bind_resp. Default 'SMPPSIM'. */
  systemId?: string;
  /** message_id form: 16 hex digits (default) or 17 decimal digits. */
  messageIdFormat?: MessageIdFormat;
  /** Messages kept for query_sm/cancel_sm/replace_sm. Default 100000. */
  maxMessages?: number;
  /** Connections at once; more are refused at accept. Default 10000. */
  maxConnections?: number;
  /** Faults switched on from the start (the config file's `faults`). */
  faults?: { fault: Fault; scope?: FaultScope }[];
}

export interface SimSessionInfo {
  id: number;
  /** The bound system_id; null before a bind. */
  systemId: string | null;
  bindType: BindType | null;
  state: SessionState;
  /** `address:port` of the client. */
  remote: string;
  tls: boolean;
  /** When the connection was accepted (ISO 8601). */
  since: string;
  counters: { in: Record<string, number>; out: Record<string, number> };
}

export interface SimulatorCounters {
  /** PDUs received, by command, over every session so far. */
  in: Record<string, number>;
  /** PDUs sent, by command. */
  out: Record<string, number>;
  /** Binds accepted. */
  binds: number;
  /** Messages accepted (submit_sm, submit_multi, data_sm). */
  submits: number;
  /** Receipt deliver_sm written (retries included). */
  receiptsSent: number;
}

export interface MoMessage {
  from: string;
  to: string;
  text?: string;
  /** Default: GSM 7-bit (0) when the text fits, else UCS-2 (8). */
  dataCoding?: number;
  /** Only to sessions bound with this system_id; default one session of every bound system_id. */
  systemId?: string;
  tlvs?: Tlv[];
}

export interface SimulatorEvents {
  session: [SimSessionInfo];
  bind: [{ systemId: string; bindType: BindType; sessionId: number }];
  unbind: [{ systemId: string; bindType: BindType; sessionId: number; reason: CloseReason }];
  submit: [{ pdu: Pdu; messageId: string; systemId: string; sessionId: number }];
  receipt: [{ messageId: string; systemId: string; sessionId: number; stat: string }];
  close: [];
}

const BIND_TYPE_OF: Record<BindCommand, BindType> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

const MESSAGE_COMMANDS: ReadonlySet<CommandName> = new Set(['submit_sm', 'data_sm', 'submit_multi']);

/** A client that reads nothing while flooding us: stop reading until it drains what we wrote. */
const WRITE_BACKLOG_PAUSE_BYTES = 1 << 20;

/** How long after bind_resp a drop fault in rst mode resets the connection. */
const RST_AFTER_BIND_MS = 25;

/** sequence_number of the deliver_sm sent before bind_resp (outside the session's own counter). */
const EARLY_DELIVER_SEQ = 0x7fffffff;

/** One connection and what the simulator keeps about it. */
class SimSession {
  readonly since = new Date();
  readonly timers = new TimerSet();
  readonly answers: AnswerQueue;
  systemId: string | undefined;
  bindType: BindType | undefined;
  /** The request being handled (answers are matched to it by sequence_number). */
  lastRequest: Pdu | undefined;
  /** A drop is under way: everything received is swallowed. */
  dropping = false;
  paused = false;

  constructor(
    readonly session: SmppSession,
    /** The socket the session runs on (a TLSSocket over TLS). */
    readonly socket: net.Socket,
    /** The TCP socket underneath: what a reset acts on. */
    readonly tcp: net.Socket,
    readonly tls: boolean,
  ) {
    this.answers = new AnswerQueue((chunk) => session.sendRaw(chunk), this.timers);
  }

  get id(): number {
    return this.session.id;
  }

  info(): SimSessionInfo {
    return {
      id: this.session.id,
      systemId: this.systemId ?? null,
      bindType: this.bindType ?? null,
      state: this.session.state,
      remote: `${this.session.remoteAddress ?? '?'}:${this.session.remotePort ?? '?'}`,
      tls: this.tls,
      since: this.since.toISOString(),
      counters: { in: { ...this.session.pdusIn }, out: { ...this.session.pdusOut } },
    };
  }
}

function addInto(total: Record<string, number>, part: Record<string, number>): void {
  for (const [k, v] of Object.entries(part)) total[k] = (total[k] ?? 0) + v;
}

/** TON/NPI for an address given as text: digits are international ISDN, anything else alphanumeric. */
export function addressOf(addr: string): Address {
  const digits = /^\+?\d+$/.test(addr);
  return digits ? { ton: 1, npi: 1, addr: addr.replace(/^\+/, '') } : { ton: 5, npi: 0, addr };
}

export class SmscSimulator extends EventEmitter<SimulatorEvents> {
  private readonly opts: SimulatorOptions;
  private readonly log: Logger;
  private readonly accounts: AccountBook;
  private readonly faultTable = new FaultTable();
  private readonly receiptOptions: ResolvedReceiptOptions;
  private readonly store: MessageStore;
  private readonly receipts: ReceiptSender;
  private readonly timers = new TimerSet();
  private readonly live = new Map<number, SimSession>();
  /** Every accepted socket until its 'close' (a closed session's socket may still be lingering). */
  private readonly sockets = new Set<net.Socket>();
  private readonly totals = { in: {} as Record<string, number>, out: {} as Record<string, number> };
  private readonly counts = { binds: 0, submits: 0, receiptsSent: 0 };
  private readonly roundRobin = new Map<string, number>();
  private server: net.Server | null = null;
  private address: { host: string; port: number } | null = null;
  private listening: Promise<{ host: string; port: number }> | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: SimulatorOptions = {}) {
    super();
    this.opts = options;
    this.log = options.logger ?? silentLogger;
    const issues: SimIssue[] = [];
    if (options.accounts !== undefined) issues.push(...checkAccounts(options.accounts, ['accounts']).issues);
    if (options.receipts !== undefined) issues.push(...checkReceiptOptions(options.receipts, ['receipts']));
    if (issues.length > 0) throw SimulatorError.invalid('simulator options', issues);
    this.accounts = new AccountBook(options.accounts);
    this.receiptOptions = resolveReceiptOptions(options.receipts);
    this.store = new MessageStore({
      ...(options.messageIdFormat ? { idFormat: options.messageIdFormat } : {}),
      ...(options.maxMessages ? { maxMessages: options.maxMessages } : {}),
      onFinal: (m) => this.onFinal(m),
    });
    this.receipts = new ReceiptSender({
      pick: (systemId) => this.pickReceiver(systemId),
      timers: this.timers,
      log: this.log,
      retries: this.receiptOptions.retries,
      retryDelayMs: this.receiptOptions.retryDelayMs,
      responseTimeoutMs: this.receiptOptions.responseTimeoutMs,
      onSent: () => {
        this.counts.receiptsSent++;
      },
      onDelivered: (job, resp) => this.onReceiptDelivered(job, resp),
    });
    for (const { fault, scope } of options.faults ?? []) this.faultTable.add(fault, scope);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts listening; resolves with the address (the real port when port was 0). Idempotent. */
  listen(): Promise<{ host: string; port: number }> {
    if (this.closing) {
      return Promise.reject(new SimulatorError(SimErrorCode.Listen, 'the simulator is closed'));
    }
    if (this.listening) return this.listening;
    const host = this.opts.host ?? '127.0.0.1';
    const tlsOptions = this.opts.tls;
    // TLS is layered on each accepted TCP socket (not a tls.Server), so that the drop fault can
    // still reset the TCP connection underneath.
    const secureContext = tlsOptions
      ? tls.createSecureContext({
          key: tlsOptions.key,
          cert: tlsOptions.cert,
          ...(tlsOptions.ca ? { ca: tlsOptions.ca } : {}),
        })
      : undefined;
    const server = net.createServer((tcp) => {
      if (secureContext) this.handshake(tcp, secureContext, tlsOptions?.requestCert ?? false);
      else this.accept(tcp, tcp);
    });
    server.maxConnections = this.opts.maxConnections ?? 10_000;
    this.server = server;
    this.listening = new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(
          new SimulatorError(
            SimErrorCode.Listen,
            `cannot listen on ${host}:${this.opts.port ?? 0}: ${error.message}`,
            [],
            error,
          ),
        );
      };
      server.once('error', onError);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off('error', onError);
        server.on('error', (error) => this.log.error({ err: error.message }, 'simulator server error'));
        const address = server.address() as net.AddressInfo;
        this.address = { host, port: address.port };
        if (this.accounts.open) {
          this.log.info('simulator: no accounts configured, so any system_id and password may bind');
        }
        this.log.debug({ host, port: address.port, tls: Boolean(tlsOptions) }, 'simulator listening');
        resolve(this.address);
      });
    });
    return this.listening;
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Unbinds bound sessions (each waits at most a second for unbind_resp), destroys the others,
   * clears every timer, closes the server. Resolves when nothing is left open. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.store.close();
      this.receipts.close();
      this.timers.clearAll(true);
      const server = this.server;
      const serverClosed = new Promise<void>((resolve) => {
        if (server === null || !server.listening) resolve();
        else server.close(() => resolve());
      });
      await Promise.all(
        [...this.live.values()].map(async (s) => {
          s.answers.clear();
          if (s.session.bound && !s.dropping) await s.session.close();
          else s.session.destroy('local_close');
          await s.session.whenClosed();
          s.socket.destroy();
        }),
      );
      await Promise.all(
        [...this.sockets].map(
          (socket) =>
            new Promise<void>((resolve) => {
              socket.once('close', () => resolve());
              socket.destroy();
            }),
        ),
      );
      await serverClosed;
      // libuv releases closed handles on its next turn: after this, none of ours are left.
      await new Promise((resolve) => setImmediate(resolve));
      this.log.debug('simulator closed');
      this.emit('close');
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ public API

  sessions(): SimSessionInfo[] {
    return [...this.live.values()].map((s) => s.info());
  }

  /** Switches a fault on; returns its id. Throws SimulatorError for an invalid fault or scope. */
  setFault(fault: Fault, scope: FaultScope = {}): number {
    const entry = this.faultTable.add(fault, scope);
    this.log.info({ id: entry.id, fault: entry.fault, scope: entry.scope }, `fault ${entry.fault.kind} on`);
    if (entry.fault.kind === 'drop' && entry.scope.destination === undefined) {
      for (const s of this.live.values()) {
        if (s.session.bound && !s.dropping && this.faultTable.matching(this.target(s)).includes(entry)) {
          this.drop(s, entry.fault.mode);
        }
      }
    }
    return entry.id;
  }

  /** Switches one fault off, or all of them without an id. Throws SimulatorError for an unknown id. */
  clearFault(id?: number): void {
    if (id === undefined) {
      this.faultTable.clear();
      this.log.info('all faults off');
      return;
    }
    if (!this.faultTable.remove(id)) throw notFound(id);
    this.log.info({ id }, 'fault off');
  }

  faults(): { id: number; fault: Fault; scope: FaultScope }[] {
    return this.faultTable.list();
  }

  /**
   * Sends an MO message as deliver_sm to one bound RX/TRX session of each system_id (or of the
   * one given), and resolves with how many answered it with status 0.
   */
  async injectMo(mo: MoMessage): Promise<{ delivered: number }> {
    const init = this.moDeliverSm(mo);
    const targets = new Map<string, SmppSession>();
    for (const s of this.live.values()) {
      const id = s.systemId;
      if (id === undefined || targets.has(id) || (mo.systemId !== undefined && id !== mo.systemId)) continue;
      const session = this.pickReceiver(id);
      if (session) targets.set(id, session);
    }
    const answers = await Promise.all(
      [...targets.values()].map((session) =>
        session.request('deliver_sm', init, { timeoutMs: this.receiptOptions.responseTimeoutMs }).then(
          (resp) => resp.command === 'deliver_sm_resp' && resp.command_status === 0,
          () => false,
        ),
      ),
    );
    const delivered = answers.filter(Boolean).length;
    this.log.debug({ from: mo.from, to: mo.to, delivered, targets: targets.size }, 'MO injected');
    return { delivered };
  }

  counters(): SimulatorCounters {
    const inbound = { ...this.totals.in };
    const outbound = { ...this.totals.out };
    for (const s of this.live.values()) {
      addInto(inbound, s.session.pdusIn);
      addInto(outbound, s.session.pdusOut);
    }
    return { in: inbound, out: outbound, ...this.counts };
  }

  /** Messages in the store (query_sm/cancel_sm/replace_sm see these), for tests and the control API. */
  message(id: string): Readonly<StoredMessage> | undefined {
    return this.store.get(id);
  }

  // ------------------------------------------------------------------ connections

  /** Tracks a TCP socket until its 'close', so close() can end it. */
  private track(tcp: net.Socket): boolean {
    if (this.closing) {
      tcp.destroy();
      return false;
    }
    this.sockets.add(tcp);
    tcp.once('close', () => this.sockets.delete(tcp));
    return true;
  }

  /** TLS server handshake on an accepted TCP socket, bounded by the session-init timeout. */
  private handshake(tcp: net.Socket, secureContext: tls.SecureContext, requestCert: boolean): void {
    if (!this.track(tcp)) return;
    const socket = new tls.TLSSocket(tcp, {
      isServer: true,
      secureContext,
      requestCert,
      rejectUnauthorized: requestCert,
    });
    const onError = (error: Error): void => {
      this.log.debug({ err: error.message, remote: tcp.remoteAddress }, 'TLS handshake failed');
      socket.destroy();
      tcp.destroy();
    };
    socket.on('error', onError);
    // Errors of the TCP socket reach the TLS socket (and the session); never leave them unheard.
    tcp.on('error', () => {});
    const timer = this.timers.set(
      () => onError(new Error('no TLS handshake in time')),
      this.opts.sessionInitTimeoutMs || 10_000,
    );
    tcp.once('close', () => timer.clear());
    socket.once('secure', () => {
      timer.clear();
      // The session's own error listener takes over from here.
      socket.off('error', onError);
      this.accept(socket, tcp);
    });
  }

  private accept(socket: net.Socket, tcp: net.Socket): void {
    if (socket === tcp && !this.track(tcp)) return;
    if (this.closing) {
      socket.destroy();
      return;
    }
    const holder: { s?: SimSession } = {};
    const session = new SmppSession(socket, {
      role: 'smsc',
      logger: this.log,
      enquireLinkIntervalMs: this.opts.enquireLinkIntervalMs ?? 0,
      ...(this.opts.enquireLinkTimeoutMs ? { enquireLinkTimeoutMs: this.opts.enquireLinkTimeoutMs } : {}),
      sessionInitTimeoutMs: this.opts.sessionInitTimeoutMs ?? 10_000,
      unbindTimeoutMs: 1_000,
      ...(this.opts.maxPduLength ? { maxPduLength: this.opts.maxPduLength } : {}),
      ...(this.opts.windowSize ? { windowSize: this.opts.windowSize } : {}),
      interceptor: (pdu) => (holder.s ? this.intercept(holder.s, pdu) : false),
      answerHook: (buf, pdu) => (holder.s ? this.onAnswer(holder.s, buf, pdu) : false),
      onRequest: (pdu) => {
        if (holder.s) this.handle(holder.s, pdu);
      },
    });
    const s = new SimSession(session, socket, tcp, socket !== tcp);
    holder.s = s;
    this.live.set(s.id, s);
    session.on('unexpected', ({ pdu, reason }) =>
      this.log.debug(
        { session: s.id, command: pdu.command, seq: pdu.sequence_number, reason },
        'stray response',
      ),
    );
    session.once('close', ({ reason }) => this.onSessionClose(s, reason));
    this.log.debug({ session: s.id, remote: session.remoteAddress }, 'connection accepted');
    this.emit('session', s.info());
  }

  private onSessionClose(s: SimSession, reason: CloseReason): void {
    s.timers.clearAll(true);
    s.answers.clear();
    this.live.delete(s.id);
    addInto(this.totals.in, s.session.pdusIn);
    addInto(this.totals.out, s.session.pdusOut);
    if (s.systemId !== undefined && s.bindType !== undefined) {
      this.emit('unbind', { systemId: s.systemId, bindType: s.bindType, sessionId: s.id, reason });
    }
  }

  private drop(s: SimSession, mode: 'fin' | 'rst'): void {
    if (s.session.closed) return;
    s.dropping = true;
    s.answers.clear();
    this.log.info(
      { session: s.id, systemId: s.systemId, mode },
      `fault drop: closing the connection (${mode})`,
    );
    if (mode === 'fin') {
      s.session.destroy('local_close', undefined, true);
      return;
    }
    if (!s.tcp.destroyed) s.tcp.resetAndDestroy();
    s.socket.destroy();
    s.session.destroy('local_close');
  }

  /** Stop reading from a client that does not read our answers, until its backlog drains. */
  private applyBackpressure(s: SimSession): void {
    if (s.paused || s.socket.writableLength < WRITE_BACKLOG_PAUSE_BYTES) return;
    s.paused = true;
    s.socket.pause();
    s.socket.once('drain', () => {
      s.paused = false;
      if (!s.socket.destroyed) s.socket.resume();
    });
  }

  // ------------------------------------------------------------------ faults

  private target(s: SimSession, pdu?: Pdu): MatchTarget {
    let systemId = s.systemId;
    if (systemId === undefined && pdu && pdu.command.startsWith('bind_')) {
      systemId = (pdu as PduOf<'bind_transceiver'>).system_id;
    }
    let destinations: string[] | undefined;
    if (pdu?.command === 'submit_sm' || pdu?.command === 'data_sm') destinations = [pdu.destination_addr];
    else if (pdu?.command === 'submit_multi') {
      destinations = pdu.dest_address.flatMap((d) => (d.dest_flag === 1 ? [d.destination_addr] : []));
    }
    return { sessionId: s.id, systemId, destinations };
  }

  /** Silent sessions (blackhole, enquire_link_only) get no deliver_sm. */
  private silent(s: SimSession): boolean {
    if (s.dropping) return true;
    if (this.faultTable.size === 0) return false;
    const faults = this.faultTable.matching(this.target(s));
    return faults.some((f) => f.fault.kind === 'blackhole' || f.fault.kind === 'enquire_link_only');
  }

  /** Sees each inbound PDU first; true = handled here (swallowed, or answered by a fault). */
  private intercept(s: SimSession, pdu: Pdu): boolean {
    if (pdu.command.endsWith('_resp') || pdu.command === 'generic_nack') return s.dropping;
    s.lastRequest = pdu;
    this.applyBackpressure(s);
    if (s.dropping) return true;
    if (this.faultTable.size === 0) return false;
    const faults = this.faultTable.matching(this.target(s, pdu));
    if (faults.length === 0) return false;
    const session = s.session;
    const has = (k: Fault['kind']): boolean => faults.some((f) => f.fault.kind === k);
    if (has('blackhole')) return true;
    if (has('enquire_link_only')) return pdu.command !== 'enquire_link';
    const drop = firstOf(faults, 'drop');
    if (drop && (drop.scope.destination !== undefined || session.bound)) {
      this.drop(s, drop.fault.mode);
      return true;
    }
    const nack = firstOf(faults, 'generic_nack');
    if (nack) {
      session.nack(pdu.sequence_number, nack.fault.status ?? CommandStatus.ESME_RSYSERR);
      return true;
    }
    const refuse = firstOf(faults, 'refuse_bind');
    if (refuse && pdu.command.startsWith('bind_')) {
      this.log.info({ session: s.id, status: refuse.fault.status }, 'fault refuse_bind: bind refused');
      session.rejectBind(pdu, refuse.fault.status);
      return true;
    }
    for (const f of faults) {
      if (f.fault.kind !== 'error_status') continue;
      const commands = f.fault.commands ?? DEFAULT_ERROR_COMMANDS;
      if (!commands.includes(pdu.command)) continue;
      // submit_multi with a destination scope: those destinations fail one by one (see handleSubmit).
      if (pdu.command === 'submit_multi' && f.scope.destination !== undefined) continue;
      session.respond(pdu, { command_status: f.fault.status });
      return true;
    }
    if (MESSAGE_COMMANDS.has(pdu.command)) {
      const now = Date.now();
      for (const f of faults) {
        if (f.fault.kind !== 'throttle') continue;
        if (!this.faultTable.throttleAllows(f.id, f.fault.maxPerSecond, now)) {
          session.respond(pdu, { command_status: CommandStatus.ESME_RTHROTTLED });
          return true;
        }
      }
    }
    return false;
  }

  /** Sees each answer last: writes it now (false), or later, broken, or never (true). */
  private onAnswer(s: SimSession, buf: Buffer, pdu: Pdu): boolean {
    if (s.dropping) return true;
    const req = s.lastRequest?.sequence_number === pdu.sequence_number ? s.lastRequest : undefined;
    const faults = this.faultTable.size === 0 ? [] : this.faultTable.matching(this.target(s, req));
    if (faults.length === 0) {
      if (s.answers.empty) return false;
      s.answers.push({ buf, readyAt: 0 });
      return true;
    }
    if (faults.some((f) => f.fault.kind === 'blackhole')) return true;
    if (faults.some((f) => f.fault.kind === 'enquire_link_only') && pdu.command !== 'enquire_link_resp')
      return true;
    let out = buf;
    if (firstOf(faults, 'wrong_sequence')) out = withSequence(out, wrongSequence(pdu.sequence_number));
    if (firstOf(faults, 'malformed')) out = malform(out, pdu);
    const badLength = firstOf(faults, 'bad_length');
    if (badLength) out = withLength(out, badLength.fault.mode);
    const delay = firstOf(faults, 'delay');
    const slow = firstOf(faults, 'slow_loris');
    if (out === buf && !delay && !slow && s.answers.empty) return false;
    s.answers.push({
      buf: out,
      readyAt: performance.now() + (delay?.fault.ms ?? 0),
      ...(slow
        ? {
            chunkBytes: slow.fault.chunkBytes ?? DEFAULT_SLOW_LORIS.chunkBytes,
            intervalMs: slow.fault.intervalMs ?? DEFAULT_SLOW_LORIS.intervalMs,
          }
        : {}),
    });
    return true;
  }

  // ------------------------------------------------------------------ requests

  private handle(s: SimSession, pdu: Pdu): void {
    switch (pdu.command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        this.handleBind(s, pdu);
        return;
      case 'submit_sm':
      case 'data_sm':
      case 'submit_multi':
        this.handleSubmit(s, pdu);
        return;
      case 'query_sm':
        this.handleQuery(s, pdu);
        return;
      case 'cancel_sm':
        this.handleCancel(s, pdu);
        return;
      case 'replace_sm':
        this.handleReplace(s, pdu);
        return;
      default:
        // broadcast_sm and friends: known to the codec, not offered by this SMSC.
        s.session.nack(pdu.sequence_number, CommandStatus.ESME_RINVCMDID);
    }
  }

  private liveBinds(systemId: string): number {
    let n = 0;
    for (const s of this.live.values()) if (s.session.bound && s.systemId === systemId) n++;
    return n;
  }

  private handleBind(s: SimSession, pdu: PduOf<BindCommand>): void {
    const bindType = BIND_TYPE_OF[pdu.command];
    const decision = this.accounts.decide(
      pdu.system_id,
      pdu.password,
      bindType,
      this.liveBinds(pdu.system_id),
    );
    if (!decision.ok) {
      this.log.info(
        { session: s.id, systemId: pdu.system_id, bindType, status: decision.status },
        `bind refused: ${decision.reason}`,
      );
      s.session.rejectBind(pdu, decision.status);
      return;
    }
    const faults = this.faultTable.size === 0 ? [] : this.faultTable.matching(this.target(s, pdu));
    if (firstOf(faults, 'deliver_before_bind_resp')) {
      s.session.send(
        createPdu('deliver_sm', {
          ...this.moDeliverSm({
            from: '447700900000',
            to: pdu.system_id,
            text: 'deliver_sm before bind_resp',
          }),
          sequence_number: EARLY_DELIVER_SEQ,
        }) as Pdu,
      );
    }
    s.session.acceptBind(pdu, this.opts.systemId ?? 'SMPPSIM');
    if (!s.session.bound) return;
    s.systemId = pdu.system_id;
    s.bindType = bindType;
    this.counts.binds++;
    this.log.debug({ session: s.id, systemId: pdu.system_id, bindType }, 'bound');
    this.emit('bind', { systemId: pdu.system_id, bindType, sessionId: s.id });
    const drop = firstOf(faults, 'drop');
    if (drop && drop.scope.destination === undefined) {
      if (drop.fault.mode === 'fin') this.drop(s, 'fin');
      else {
        // Reset a moment after bind_resp, so that the client has read it: an RST that arrives
        // with unread data is reported by libuv as a plain EOF, hiding the reset.
        s.dropping = true;
        s.timers.set(() => {
          s.dropping = false;
          this.drop(s, 'rst');
        }, RST_AFTER_BIND_MS);
      }
    }
  }

  private handleSubmit(
    s: SimSession,
    pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>,
  ): void {
    const session = s.session;
    const systemId = s.systemId ?? '';
    const now = new Date();
    let payload: Buffer = pdu.command === 'data_sm' ? Buffer.alloc(0) : pdu.short_message;
    const messagePayload = tlvBytes(pdu.tlvs, TlvTag.message_payload);
    if (messagePayload && messagePayload.length > 0) {
      if (payload.length > 0) {
        // short_message and message_payload together are not allowed (reference §8.7).
        session.respond(pdu, { command_status: CommandStatus.ESME_RINVMSGLEN });
        return;
      }
      payload = messagePayload;
    }
    let scheduledMs = 0;
    let expiresInMs = Number.POSITIVE_INFINITY;
    if (pdu.command !== 'data_sm') {
      const when = timeUntil(pdu.schedule_delivery_time, now);
      if (when === undefined) {
        session.respond(pdu, { command_status: CommandStatus.ESME_RINVSCHED });
        return;
      }
      const validity = timeUntil(pdu.validity_period, now);
      if (validity === undefined) {
        session.respond(pdu, { command_status: CommandStatus.ESME_RINVEXPIRY });
        return;
      }
      scheduledMs = when ?? 0;
      if (validity !== null) expiresInMs = validity;
    }

    const destinations: Address[] = [];
    const unsuccess: PduOf<'submit_multi_resp'>['unsuccess_sme'] = [];
    if (pdu.command === 'submit_multi') {
      if (pdu.dest_address.length === 0) {
        session.respond(pdu, { command_status: CommandStatus.ESME_RINVNUMDESTS });
        return;
      }
      for (const d of pdu.dest_address) {
        if (d.dest_flag !== 1) {
          unsuccess.push({
            dest_addr_ton: 0,
            dest_addr_npi: 0,
            destination_addr: d.dl_name,
            error_status_code: CommandStatus.ESME_RINVDLNAME,
          });
          continue;
        }
        const failing = this.destinationError(s, d.destination_addr);
        if (failing !== undefined || d.destination_addr === '') {
          unsuccess.push({
            dest_addr_ton: d.dest_addr_ton,
            dest_addr_npi: d.dest_addr_npi,
            destination_addr: d.destination_addr,
            error_status_code: failing ?? CommandStatus.ESME_RINVDSTADR,
          });
          continue;
        }
        destinations.push({ ton: d.dest_addr_ton, npi: d.dest_addr_npi, addr: d.destination_addr });
      }
      if (destinations.length === 0) {
        session.respond(pdu, {
          command_status: unsuccess[0]?.error_status_code ?? CommandStatus.ESME_RSUBMITFAIL,
          unsuccess_sme: unsuccess,
        });
        return;
      }
    } else {
      if (pdu.destination_addr === '') {
        session.respond(pdu, { command_status: CommandStatus.ESME_RINVDSTADR });
        return;
      }
      destinations.push({ ton: pdu.dest_addr_ton, npi: pdu.dest_addr_npi, addr: pdu.destination_addr });
    }

    const first = destinations[0] as Address;
    const { outcome, delayMs } = plannedOutcome(this.receiptOptions, first.addr);
    // Answers held back by a delay fault: the receipt must not overtake the submit_sm_resp.
    const held =
      this.faultTable.size === 0
        ? 0
        : (firstOf(this.faultTable.matching(this.target(s, pdu)), 'delay')?.fault.ms ?? 0);
    let finalInMs = scheduledMs + delayMs + held;
    if (expiresInMs < finalInMs) {
      outcome.stat = 'EXPIRED';
      outcome.err = this.receiptOptions.err ?? '001';
      finalInMs = Math.max(expiresInMs, 0);
    }
    const id = this.store.nextId();
    const message: StoredMessage = {
      id,
      systemId,
      sessionId: s.id,
      command: pdu.command,
      serviceType: pdu.service_type,
      source: { ton: pdu.source_addr_ton, npi: pdu.source_addr_npi, addr: pdu.source_addr },
      destinations,
      esmClass: pdu.esm_class,
      dataCoding: pdu.data_coding,
      payload: Buffer.from(payload),
      registeredDelivery: pdu.registered_delivery,
      submitDate: now,
      state: MessageState.ENROUTE,
      stat: undefined,
      planned: outcome,
      finalDate: undefined,
    };
    this.store.add(message, Math.min(finalInMs, MAX_TIMER_MS));
    this.counts.submits++;
    if (pdu.command === 'submit_multi') session.respond(pdu, { message_id: id, unsuccess_sme: unsuccess });
    else session.respond(pdu, { message_id: id });
    if (this.listenerCount('submit') > 0)
      this.emit('submit', { pdu, messageId: id, systemId, sessionId: s.id });
  }

  /** The status a destination-scoped error_status gives one submit_multi destination, if any. */
  private destinationError(s: SimSession, addr: string): number | undefined {
    const faults = this.faultTable.matching({ sessionId: s.id, systemId: s.systemId, destinations: [addr] });
    for (const f of faults) {
      if (f.fault.kind !== 'error_status' || f.scope.destination === undefined) continue;
      if ((f.fault.commands ?? DEFAULT_ERROR_COMMANDS).includes('submit_multi')) return f.fault.status;
    }
    return undefined;
  }

  private owned(s: SimSession, id: string): StoredMessage | undefined {
    const message = id === '' ? undefined : this.store.get(id);
    return message && message.systemId === (s.systemId ?? '') ? message : undefined;
  }

  private handleQuery(s: SimSession, pdu: PduOf<'query_sm'>): void {
    const message = this.owned(s, pdu.message_id);
    if (message === undefined) {
      s.session.respond(pdu, { command_status: CommandStatus.ESME_RINVMSGID });
      return;
    }
    const err = Number.parseInt(message.planned.err, 10);
    s.session.respond(pdu, {
      message_id: message.id,
      final_date: message.finalDate ? formatAbsoluteTime(message.finalDate) : '',
      message_state: message.state,
      error_code: message.stat && message.stat !== 'DELIVRD' && Number.isFinite(err) ? err & 0xff : 0,
    });
  }

  private handleCancel(s: SimSession, pdu: PduOf<'cancel_sm'>): void {
    let targets: StoredMessage[];
    if (pdu.message_id !== '') {
      const message = this.owned(s, pdu.message_id);
      if (message === undefined) {
        s.session.respond(pdu, { command_status: CommandStatus.ESME_RINVMSGID });
        return;
      }
      targets = this.store.isPending(message) ? [message] : [];
    } else {
      // No message_id: every pending message from source_addr (to destination_addr, of service_type, if given).
      targets = this.store.findPending(
        s.systemId ?? '',
        (m) =>
          m.source.addr === pdu.source_addr &&
          (pdu.destination_addr === '' || m.destinations.some((d) => d.addr === pdu.destination_addr)) &&
          (pdu.service_type === '' || m.serviceType === pdu.service_type),
      );
    }
    if (targets.length === 0) {
      s.session.respond(pdu, { command_status: CommandStatus.ESME_RCANCELFAIL });
      return;
    }
    for (const m of targets) this.store.cancel(m);
    s.session.respond(pdu);
  }

  private handleReplace(s: SimSession, pdu: PduOf<'replace_sm'>): void {
    const message = this.owned(s, pdu.message_id);
    if (message === undefined) {
      s.session.respond(pdu, { command_status: CommandStatus.ESME_RINVMSGID });
      return;
    }
    if (!this.store.isPending(message)) {
      s.session.respond(pdu, { command_status: CommandStatus.ESME_RREPLACEFAIL });
      return;
    }
    const now = new Date();
    const when = timeUntil(pdu.schedule_delivery_time, now);
    if (when === undefined) {
      s.session.respond(pdu, { command_status: CommandStatus.ESME_RINVSCHED });
      return;
    }
    if (timeUntil(pdu.validity_period, now) === undefined) {
      s.session.respond(pdu, { command_status: CommandStatus.ESME_RINVEXPIRY });
      return;
    }
    const messagePayload = tlvBytes(pdu.tlvs, TlvTag.message_payload);
    message.payload = Buffer.from(
      messagePayload && messagePayload.length > 0 ? messagePayload : pdu.short_message,
    );
    message.registeredDelivery = pdu.registered_delivery;
    if (when !== null) {
      const first = message.destinations[0]?.addr ?? '';
      this.store.schedule(
        message,
        Math.min(when + plannedOutcome(this.receiptOptions, first).delayMs, MAX_TIMER_MS),
      );
    }
    s.session.respond(pdu);
  }

  // ------------------------------------------------------------------ deliver_sm

  /** A bound RX/TRX session of this system_id that may receive now (round robin), if any. */
  private pickReceiver(systemId: string): SmppSession | undefined {
    const candidates: SimSession[] = [];
    for (const s of this.live.values()) {
      if (s.systemId !== systemId || (s.bindType !== 'receiver' && s.bindType !== 'transceiver')) continue;
      if (!s.session.bound || this.silent(s)) continue;
      candidates.push(s);
    }
    if (candidates.length === 0) return undefined;
    const turn = this.roundRobin.get(systemId) ?? 0;
    this.roundRobin.set(systemId, turn + 1);
    return candidates[turn % candidates.length]?.session;
  }

  private onFinal(message: StoredMessage): void {
    const stat = message.stat;
    if (stat === undefined || !wantsReceipt(message.registeredDelivery, stat)) return;
    for (const destination of message.destinations) {
      this.receipts.send({
        systemId: message.systemId,
        messageId: message.id,
        init: receiptDeliverSm(message, destination),
      });
    }
  }

  private onReceiptDelivered(job: DeliveryJob, _resp: Pdu): void {
    const message = this.store.get(job.messageId);
    this.emit('receipt', {
      messageId: job.messageId,
      systemId: job.systemId,
      sessionId: message?.sessionId ?? 0,
      stat: message?.stat ?? 'UNKNOWN',
    });
  }

  private moDeliverSm(mo: MoMessage): PduInit<'deliver_sm'> {
    const issues: SimIssue[] = [];
    const addr = (value: unknown, key: string): void => {
      if (typeof value !== 'string' || value.length === 0 || value.length > 20) {
        issues.push({ path: key, message: 'expected an address of 1 to 20 characters' });
      }
    };
    addr(mo.from, 'from');
    addr(mo.to, 'to');
    if (mo.text !== undefined && typeof mo.text !== 'string')
      issues.push({ path: 'text', message: 'expected a string' });
    const dc = mo.dataCoding;
    if (dc !== undefined && !(Number.isInteger(dc) && dc >= 0 && dc <= 0xff)) {
      issues.push({ path: 'dataCoding', message: 'expected an integer from 0 to 255' });
    }
    if (issues.length > 0) throw SimulatorError.invalid('MO message', issues);
    const text = mo.text ?? '';
    const dataCoding = dc ?? chooseEncoding(text).dataCoding;
    let octets: Buffer;
    try {
      octets = encodeText(text, dataCoding);
    } catch (error) {
      throw SimulatorError.invalid('MO message', [{ path: 'text', message: (error as Error).message }]);
    }
    const from = addressOf(mo.from);
    const to = addressOf(mo.to);
    const long = octets.length > 254;
    return {
      source_addr_ton: from.ton,
      source_addr_npi: from.npi,
      source_addr: from.addr,
      dest_addr_ton: to.ton,
      dest_addr_npi: to.npi,
      destination_addr: to.addr,
      data_coding: dataCoding,
      short_message: long ? Buffer.alloc(0) : octets,
      tlvs: [...(long ? [{ tag: TlvTag.message_payload, value: octets }] : []), ...(mo.tlvs ?? [])],
    };
  }
}

/**
 * Milliseconds from now to an SMPP time field (reference §8.5): null for an empty field,
 * undefined for one that does not parse; past times count as 0.
 */
function timeUntil(field: string, now: Date): number | null | undefined {
  const parsed = parseSmppTime(field);
  if (!parsed.ok) return undefined;
  if (parsed.value === null) return null;
  return Math.max(0, resolveSmppTime(parsed.value, now).getTime() - now.getTime());
}

export function createSimulator(options?: SimulatorOptions): SmscSimulator {
  return new SmscSimulator(options);
}
