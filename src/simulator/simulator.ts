/**
 * The SMSC simulator: a TCP (or TLS) server whose connections are SmppSessions in the 'smsc'
 * role. It binds ESMEs per its accounts, answers submit_sm, submit_multi, data_sm, query_sm,
 * cancel_sm and replace_sm, sends delivery receipts and injected MO messages as deliver_sm,
 * probes bound clients with its own enquire_link when asked to, and plays the faults of
 * faults.ts on the sessions and PDUs they are scoped to, switched at runtime.
 *
 * This file wires the parts and holds the public API; each part does one job:
 *   server.ts            listening, TLS per socket, the sockets until they close
 *   sim-session.ts       one connection: identity, timers, answer queue, read backpressure
 *   fault-player.ts      faults on each request (intercept) and each answer (onAnswer)
 *   request-handlers.ts  binds, submits, query/cancel/replace
 *   deliveries.ts        receipts as deliver_sm (and the choice of receiving session)
 *   mo-sender.ts         MO messages as deliver_sm: in parts, redelivered, in bursts
 *   cases.ts             message-path cases per account or destination prefix (throttle bursts,
 *                        reversed part answers, id formats, receipt orders, lost responses, ...)
 *   delivery-log.ts      the bounded record of every deliver_sm and the answer it got
 * The session answers enquire_link, unbind, wrong-state requests and unknown commands itself;
 * the simulator sees every request first (its interceptor, which is how faults take over) and
 * every answer last (the session's answerHook, which is how answers are delayed or broken).
 * Whatever a client sends, the simulator stays up: a bad byte stream closes that connection only.
 * Every timer runs on the injected clock (options.clock).
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { type Logger, silentLogger } from '../logger.js';
import { type Clock, realClock } from '../session/clock.js';
import { SmppSession } from '../session/session.js';
import type { CloseReason } from '../session/state.js';
import { AccountBook, checkAccounts } from './accounts.js';
import { type CaseEntry, type CaseScope, CaseTable, caseNotFound, type SimCase } from './cases.js';
import { Deliveries } from './deliveries.js';
import { DeliveryLog, type DeliveryQuery, type DeliveryRecord } from './delivery-log.js';
import { SimErrorCode, type SimIssue, SimulatorError } from './errors.js';
import { FaultPlayer } from './fault-player.js';
import { type Fault, type FaultScope, FaultTable, notFound } from './faults.js';
import { type MessageQuery, MessageStore, type StoredMessage } from './message-store.js';
import { type BurstInfo, type BurstRequest, type MoRequest, type MoResult, MoSender } from './mo-sender.js';
import { checkReceiptOptions, type ResolvedReceiptOptions, resolveReceiptOptions } from './receipts.js';
import { RequestHandlers } from './request-handlers.js';
import { SimServer } from './server.js';
import { SimSession } from './sim-session.js';
import { TimerSet } from './timer-set.js';
import type {
  BindPeak,
  MoMessage,
  SimSessionInfo,
  SimulatorCounters,
  SimulatorEvents,
  SimulatorOptions,
} from './types.js';

export type { BindType, SimAccount } from './accounts.js';
export type { CaseEntry, CaseScope, SimCase } from './cases.js';
export type { DeliveryQuery, DeliveryRecord } from './delivery-log.js';
export type { Fault, FaultEntry, FaultScope } from './faults.js';
export type { MessageQuery, StoredMessage } from './message-store.js';
export type { BurstInfo, BurstRequest, MoRequest, MoResult } from './mo-sender.js';
export type { ReceiptOptions } from './receipts.js';
export type {
  BindPeak,
  MoMessage,
  SimSessionInfo,
  SimulatorCounters,
  SimulatorEvents,
  SimulatorOptions,
  SimulatorTlsOptions,
} from './types.js';

function addInto(total: Record<string, number>, part: Record<string, number>): void {
  for (const [k, v] of Object.entries(part)) total[k] = (total[k] ?? 0) + v;
}

export class SmscSimulator extends EventEmitter<SimulatorEvents> {
  private readonly opts: SimulatorOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly accounts: AccountBook;
  private readonly faultTable = new FaultTable();
  private readonly caseTable = new CaseTable();
  private readonly record: DeliveryLog;
  private readonly mo: MoSender;
  private readonly player: FaultPlayer;
  private readonly receiptOptions: ResolvedReceiptOptions;
  private readonly store: MessageStore;
  private readonly deliveries: Deliveries;
  private readonly handlers: RequestHandlers;
  private readonly timers: TimerSet;
  private readonly live = new Map<number, SimSession>();
  private readonly totals = { in: {} as Record<string, number>, out: {} as Record<string, number> };
  private readonly counts = { binds: 0, submits: 0, receiptsSent: 0 };
  private readonly peakBinds = new Map<string, BindPeak>();
  private server: SimServer | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: SimulatorOptions = {}) {
    super();
    this.opts = options;
    this.log = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
    const issues: SimIssue[] = [];
    if (options.accounts !== undefined) issues.push(...checkAccounts(options.accounts, ['accounts']).issues);
    if (options.receipts !== undefined) issues.push(...checkReceiptOptions(options.receipts, ['receipts']));
    if (issues.length > 0) throw SimulatorError.invalid('simulator options', issues);
    this.accounts = new AccountBook(options.accounts);
    this.receiptOptions = resolveReceiptOptions(options.receipts);
    this.timers = new TimerSet(this.clock);
    this.record = new DeliveryLog(options.maxDeliveryRecords);
    this.player = new FaultPlayer(this.faultTable, this.log, this.clock);
    this.store = new MessageStore({
      ...(options.messageIdFormat ? { idFormat: options.messageIdFormat } : {}),
      ...(options.maxMessages ? { maxMessages: options.maxMessages } : {}),
      onFinal: (m) => this.deliveries.onFinal(m),
      clock: this.clock,
    });
    this.deliveries = new Deliveries({
      live: this.live,
      faults: this.player,
      store: this.store,
      receipts: this.receiptOptions,
      timers: this.timers,
      log: this.log,
      onSent: () => {
        this.counts.receiptsSent++;
      },
      onReceipt: (event) => this.emit('receipt', event),
      record: this.record,
    });
    this.mo = new MoSender({
      live: this.live,
      deliveries: this.deliveries,
      cases: this.caseTable,
      record: this.record,
      timers: this.timers,
      log: this.log,
      responseTimeoutMs: this.receiptOptions.responseTimeoutMs,
    });
    this.handlers = new RequestHandlers({
      accounts: this.accounts,
      faults: this.player,
      store: this.store,
      receipts: this.receiptOptions,
      live: this.live,
      log: this.log,
      systemId: options.systemId ?? 'SMPPSIM',
      counts: this.counts,
      peakBinds: this.peakBinds,
      events: this,
      cases: this.caseTable,
    });
    for (const { fault, scope } of options.faults ?? []) this.faultTable.add(fault, scope);
    const now = this.clock.now();
    for (const account of options.accounts ?? []) {
      for (const { destinationPrefix, ...c } of account.cases ?? []) {
        this.caseTable.add(
          c as SimCase,
          { systemId: account.systemId, ...(destinationPrefix ? { destinationPrefix } : {}) },
          now,
        );
      }
    }
    for (const { case: c, scope } of options.cases ?? []) this.caseTable.add(c, scope ?? {}, now);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts listening; resolves with the address (the real port when port was 0). Idempotent. */
  listen(): Promise<{ host: string; port: number }> {
    if (this.closing) {
      return Promise.reject(new SimulatorError(SimErrorCode.Listen, 'the simulator is closed'));
    }
    if (this.server === null) {
      this.server = new SimServer({
        host: this.opts.host ?? '127.0.0.1',
        port: this.opts.port ?? 0,
        tls: this.opts.tls,
        maxConnections: this.opts.maxConnections ?? 10_000,
        handshakeTimeoutMs: this.opts.sessionInitTimeoutMs || 10_000,
        timers: this.timers,
        log: this.log,
        onConnection: (socket, tcp) => this.accept(socket, tcp),
      });
      if (this.accounts.open) {
        this.log.info('simulator: no accounts configured, so any system_id and password may bind');
      }
    }
    return this.server.listen();
  }

  get port(): number {
    return this.server?.address?.port ?? 0;
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
      this.deliveries.close();
      this.mo.close();
      this.timers.clearAll(true);
      const serverClosed = this.server?.stopListening() ?? Promise.resolve();
      await Promise.all(
        [...this.live.values()].map(async (s) => {
          s.answers.clear();
          if (s.session.bound && !s.dropping) await s.session.close();
          else s.session.destroy('local_close');
          await s.session.whenClosed();
          s.socket.destroy();
        }),
      );
      await this.server?.destroySockets();
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
    this.player.dropNow(entry, this.live.values());
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
    const { delivered } = await this.mo.send(mo);
    return { delivered };
  }

  /**
   * Sends an MO message, in parts if asked (some dropped), each deliver_sm again when its answer
   * does not come in time (its `redeliver` policy or an mo_redeliver case); resolves once every
   * part is answered or given up on.
   */
  sendMo(mo: MoRequest): Promise<MoResult> {
    return this.mo.send(mo);
  }

  /** Starts a burst of MO (`count` at `ratePerSecond`); `{n}` in the text becomes its number. */
  startMoBurst(burst: BurstRequest): BurstInfo {
    return this.mo.startBurst(burst);
  }

  /** Stops a burst (MO already sent still finish); throws SimulatorError for an unknown id. */
  stopMoBurst(id: number): void {
    if (!this.mo.stopBurst(id)) throw new SimulatorError(SimErrorCode.NotFound, `no burst with id ${id}`);
  }

  moBursts(): BurstInfo[] {
    return this.mo.listBursts();
  }

  /** Switches a message-path case on; returns its id. Throws SimulatorError for an invalid one. */
  setCase(c: SimCase, scope: CaseScope = {}): number {
    const entry = this.caseTable.add(c, scope, this.clock.now());
    this.log.info({ id: entry.id, case: entry.case, scope: entry.scope }, `case ${entry.case.kind} on`);
    return entry.id;
  }

  /** Switches one case off, or all of them without an id. Throws SimulatorError for an unknown id. */
  clearCase(id?: number): void {
    if (id === undefined) {
      this.caseTable.clear();
      return;
    }
    if (!this.caseTable.remove(id)) throw caseNotFound(id);
  }

  cases(): CaseEntry[] {
    return this.caseTable.list();
  }

  /** The messages accepted (the store keeps the last maxMessages), oldest first. */
  messages(query: MessageQuery = {}): Readonly<StoredMessage>[] {
    return this.store.list(query);
  }

  /** Every deliver_sm written (receipts and MO, each attempt) and its answer; the last maxDeliveryRecords. */
  deliveryRecords(query: DeliveryQuery = {}): DeliveryRecord[] {
    return this.record.list(query);
  }

  /**
   * The most sessions that were bound at once for each system_id since start (or the last
   * reset): two ESMEs bound with one account at the same moment show as 2. Tests use it to prove
   * that replicas sharing binds never bound one twice.
   */
  bindPeaks(options: { reset?: boolean } = {}): Record<string, number> {
    const peaks = Object.fromEntries(
      [...this.peakBinds].sort(([a], [b]) => a.localeCompare(b)).map(([id, p]) => [id, p.sessions]),
    );
    if (options.reset) this.peakBinds.clear();
    return peaks;
  }

  /**
   * bindPeaks in detail: per system_id, the most sessions bound at once, the most distinct
   * origins (the simulator's local address a session arrived at: one per replica when each
   * replica reaches it through its own loopback address) with one bound at once, and the most
   * bound at once through one origin. Two owners of one bind show as origins 2; one replica
   * binding again while its first session is still bound here shows as perOrigin 2. The peaks
   * are each taken on their own (reset clears these and bindPeaks' alike).
   */
  bindPeakDetail(options: { reset?: boolean } = {}): Record<string, BindPeak> {
    const peaks = Object.fromEntries(
      [...this.peakBinds].sort(([a], [b]) => a.localeCompare(b)).map(([id, p]) => [id, { ...p }]),
    );
    if (options.reset) this.peakBinds.clear();
    return peaks;
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

  private accept(socket: net.Socket, tcp: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const holder: { s?: SimSession } = {};
    const session = new SmppSession(socket, {
      role: 'smsc',
      logger: this.log,
      clock: this.clock,
      enquireLinkIntervalMs: this.opts.enquireLinkIntervalMs ?? 0,
      ...(this.opts.enquireLinkTimeoutMs ? { enquireLinkTimeoutMs: this.opts.enquireLinkTimeoutMs } : {}),
      sessionInitTimeoutMs: this.opts.sessionInitTimeoutMs ?? 10_000,
      unbindTimeoutMs: 1_000,
      ...(this.opts.maxPduLength ? { maxPduLength: this.opts.maxPduLength } : {}),
      ...(this.opts.windowSize ? { windowSize: this.opts.windowSize } : {}),
      interceptor: (pdu) => (holder.s ? this.player.intercept(holder.s, pdu) : false),
      answerHook: (buf, pdu) => (holder.s ? this.player.onAnswer(holder.s, buf, pdu) : false),
      onRequest: (pdu) => {
        if (holder.s) this.handlers.handle(holder.s, pdu);
      },
    });
    const s = new SimSession(session, socket, tcp, socket !== tcp, this.clock);
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
    s.release();
    this.live.delete(s.id);
    this.handlers.forget(s);
    addInto(this.totals.in, s.session.pdusIn);
    addInto(this.totals.out, s.session.pdusOut);
    if (s.systemId !== undefined && s.bindType !== undefined) {
      this.emit('unbind', { systemId: s.systemId, bindType: s.bindType, sessionId: s.id, reason });
    }
  }
}

export function createSimulator(options?: SimulatorOptions): SmscSimulator {
  return new SmscSimulator(options);
}
