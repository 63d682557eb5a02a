/**
 * The simulator's answers to the requests a session passes on: binds (by the accounts),
 * submit_sm, data_sm and submit_multi (stored, with their planned outcome and receipt),
 * query_sm, cancel_sm and replace_sm on the stored messages. Faults have had their turn
 * before (fault-player.ts intercept); enquire_link, unbind and unknown commands the session
 * answers itself.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import { CommandStatus } from '../protocol/command-status.js';
import { EsmClass, MessageState, TlvTag } from '../protocol/constants.js';
import { createPdu, type Pdu, type PduOf } from '../protocol/pdu.js';
import { parseUdh } from '../protocol/segments.js';
import { formatAbsoluteTime, parseSmppTime, resolveSmppTime } from '../protocol/time.js';
import { type Tlv, tlvBytes, tlvNumber } from '../protocol/tlv.js';
import type { BindCommand } from '../session/session.js';
import type { AccountBook, BindType } from './accounts.js';
import { type CaseTable, DEFAULT_HOLD_TIMEOUT_MS, renderId } from './cases.js';
import { moDeliverSm } from './deliveries.js';
import type { FaultPlayer } from './fault-player.js';
import { firstOf } from './faults.js';
import type { Address, MessageStore, StoredMessage } from './message-store.js';
import { plannedOutcome, type ResolvedReceiptOptions } from './receipts.js';
import type { SimSession } from './sim-session.js';
import { MAX_TIMER_MS } from './timer-set.js';
import type { BindPeak, SimulatorEvents } from './types.js';

const BIND_TYPE_OF: Record<BindCommand, BindType> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

/** How long after bind_resp a drop fault in rst mode resets the connection. */
const RST_AFTER_BIND_MS = 25;

/** sequence_number of the deliver_sm sent before bind_resp (outside the session's own counter). */
const EARLY_DELIVER_SEQ = 0x7fffffff;

export interface RequestContext {
  accounts: AccountBook;
  faults: FaultPlayer;
  store: MessageStore;
  receipts: ResolvedReceiptOptions;
  live: ReadonlyMap<number, SimSession>;
  log: Logger;
  /** system_id the simulator gives in bind_resp. */
  systemId: string;
  counts: { binds: number; submits: number };
  /** The most sessions bound at once per system_id (how a bind cap would count them), in detail. */
  peakBinds: Map<string, BindPeak>;
  cases: CaseTable;
  events: EventEmitter<SimulatorEvents>;
}

export class RequestHandlers {
  /**
   * The sessions that bound with each system_id (pruned as they are found unbound), so a bind
   * counts its account's sessions without looking at every session of the simulator.
   */
  private readonly boundBySystemId = new Map<string, Set<SimSession>>();

  constructor(private readonly ctx: RequestContext) {}

  /** Answers one request the session passed on (after the fault player let it through). */
  handle(s: SimSession, pdu: Pdu): void {
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

  /** The sessions bound with `systemId` now (ones closed or unbound meanwhile are dropped). */
  private boundOf(systemId: string): Set<SimSession> | undefined {
    const sessions = this.boundBySystemId.get(systemId);
    if (sessions === undefined) return undefined;
    for (const s of sessions) {
      if (!s.session.bound || s.systemId !== systemId || this.ctx.live.get(s.id) !== s) sessions.delete(s);
    }
    if (sessions.size === 0) this.boundBySystemId.delete(systemId);
    return sessions;
  }

  /** A session closed: no longer counted for its account. */
  forget(s: SimSession): void {
    if (s.systemId !== undefined) this.boundOf(s.systemId);
  }

  private liveBinds(systemId: string): number {
    return this.boundOf(systemId)?.size ?? 0;
  }

  /**
   * Raises the account's peaks with the sessions bound now: all of them, the distinct local
   * addresses they arrived at (one per replica when each replica reaches the SMSC through its
   * own address), and the most arrived at one address.
   */
  private notePeak(systemId: string): void {
    const byOrigin = new Map<string, number>();
    for (const s of this.boundOf(systemId) ?? []) {
      const origin = s.tcp.localAddress ?? '?';
      byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + 1);
    }
    let sessions = 0;
    let perOrigin = 0;
    for (const n of byOrigin.values()) {
      sessions += n;
      perOrigin = Math.max(perOrigin, n);
    }
    const peak = this.ctx.peakBinds.get(systemId);
    if (peak === undefined) {
      this.ctx.peakBinds.set(systemId, { sessions, origins: byOrigin.size, perOrigin });
      return;
    }
    peak.sessions = Math.max(peak.sessions, sessions);
    peak.origins = Math.max(peak.origins, byOrigin.size);
    peak.perOrigin = Math.max(peak.perOrigin, perOrigin);
  }

  private handleBind(s: SimSession, pdu: PduOf<BindCommand>): void {
    const bindType = BIND_TYPE_OF[pdu.command];
    const decision = this.ctx.accounts.decide(
      pdu.system_id,
      pdu.password,
      bindType,
      this.liveBinds(pdu.system_id),
    );
    if (!decision.ok) {
      this.ctx.log.info(
        { session: s.id, systemId: pdu.system_id, bindType, status: decision.status },
        `bind refused: ${decision.reason}`,
      );
      s.session.rejectBind(pdu, decision.status);
      return;
    }
    const faults = this.ctx.faults.matching(s, pdu);
    if (firstOf(faults, 'deliver_before_bind_resp')) {
      s.session.send(
        createPdu('deliver_sm', {
          ...moDeliverSm({
            from: '447700900000',
            to: pdu.system_id,
            text: 'deliver_sm before bind_resp',
          }),
          sequence_number: EARLY_DELIVER_SEQ,
        }) as Pdu,
      );
    }
    s.session.acceptBind(pdu, this.ctx.systemId);
    if (!s.session.bound) return;
    s.systemId = pdu.system_id;
    s.bindType = bindType;
    const sessions = this.boundBySystemId.get(pdu.system_id);
    if (sessions === undefined) this.boundBySystemId.set(pdu.system_id, new Set([s]));
    else sessions.add(s);
    this.ctx.counts.binds++;
    this.notePeak(pdu.system_id);
    this.ctx.log.debug({ session: s.id, systemId: pdu.system_id, bindType }, 'bound');
    this.ctx.events.emit('bind', { systemId: pdu.system_id, bindType, sessionId: s.id });
    const drop = firstOf(faults, 'drop');
    if (drop && drop.scope.destination === undefined) {
      if (drop.fault.mode === 'fin') this.ctx.faults.drop(s, 'fin');
      else {
        // Reset a moment after bind_resp, so that the client has read it: an RST that arrives
        // with unread data is reported by libuv as a plain EOF, hiding the reset.
        s.dropping = true;
        s.timers.set(() => {
          s.dropping = false;
          this.ctx.faults.drop(s, 'rst');
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
        const failing = this.ctx.faults.destinationError(s, d.destination_addr);
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
    const cases = this.ctx.cases;
    const clockNow = s.timers.now();
    const throttle = cases.find('throttle', systemId, first.addr);
    if (throttle) {
      const status = cases.throttle(throttle, clockNow);
      if (status !== undefined) {
        session.respond(pdu, { command_status: status });
        return;
      }
    }
    const { outcome, delayMs } = plannedOutcome(this.ctx.receipts, first.addr);
    // Answers held back by a delay fault: the receipt must not overtake the submit_sm_resp.
    const held = this.ctx.faults.heldMs(s, pdu);
    let finalInMs = scheduledMs + delayMs + held;
    if (expiresInMs < finalInMs) {
      outcome.stat = 'EXPIRED';
      outcome.err = this.ctx.receipts.err ?? '001';
      finalInMs = Math.max(expiresInMs, 0);
    }
    let id = this.ctx.store.nextId();
    let receiptId: string | undefined;
    const idFormat = cases.find('id_format', systemId, first.addr)?.case;
    if (idFormat) {
      const value = this.ctx.store.numberOf(id);
      id = renderId(value, idFormat.submit, idFormat.submitLeadingZeros);
      receiptId = renderId(value, idFormat.receipt, idFormat.receiptLeadingZeros);
    }
    const noResponse = cases.find('no_response', systemId, first.addr);
    const swallow = noResponse !== undefined && cases.swallow(noResponse, clockNow);
    const receiptsCase = cases.find('receipts', systemId, first.addr)?.case;
    const receiptPlan: NonNullable<StoredMessage['receiptPlan']> = {
      ...(cases.find('receipt_other_bind', systemId, first.addr) ? { otherBind: true } : {}),
      ...(receiptsCase ? { stats: receiptsCase.stats, gapMs: receiptsCase.gapMs ?? 0 } : {}),
      ...(swallow && noResponse.case.receipt === false ? { none: true } : {}),
    };
    const concat = concatOf(pdu, payload);
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
      ...(receiptId !== undefined ? { receiptId } : {}),
      ...(concat ? { concat } : {}),
      responded: !swallow,
      ...(Object.keys(receiptPlan).length > 0 ? { receiptPlan } : {}),
    };
    this.ctx.store.add(message, Math.min(finalInMs, MAX_TIMER_MS));
    this.ctx.counts.submits++;
    const early = cases.find('receipt_before_resp', systemId, first.addr)?.case;
    // The receipt deliver_sm is written now, before the answer below.
    if (early) this.ctx.store.finishNow(message);
    if (swallow) s.captures.set(pdu.sequence_number, () => {});
    else if (early?.respDelayMs) {
      const readyAt = clockNow + early.respDelayMs;
      s.captures.set(pdu.sequence_number, (buf) => s.answers.push({ buf, readyAt }));
    } else if (concat) {
      const reverse = cases.find('reverse_parts', systemId, first.addr)?.case;
      if (reverse) {
        const key = `${message.source.addr}|${first.addr}|${concat.method}|${concat.reference}|${concat.total}`;
        const timeoutMs = reverse.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS;
        s.captures.set(pdu.sequence_number, (buf) => {
          if (!s.parts.hold(key, concat.total, concat.seq, buf, timeoutMs))
            s.answers.push({ buf, readyAt: 0 });
        });
      }
    }
    if (pdu.command === 'submit_multi') session.respond(pdu, { message_id: id, unsuccess_sme: unsuccess });
    else session.respond(pdu, { message_id: id });
    const events = this.ctx.events;
    if (events.listenerCount('submit') > 0)
      events.emit('submit', { pdu, messageId: id, systemId, sessionId: s.id });
  }

  private owned(s: SimSession, id: string): StoredMessage | undefined {
    const message = id === '' ? undefined : this.ctx.store.get(id);
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
      targets = this.ctx.store.isPending(message) ? [message] : [];
    } else {
      // No message_id: every pending message from source_addr (to destination_addr, of service_type, if given).
      targets = this.ctx.store.findPending(
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
    for (const m of targets) this.ctx.store.cancel(m);
    s.session.respond(pdu);
  }

  private handleReplace(s: SimSession, pdu: PduOf<'replace_sm'>): void {
    const message = this.owned(s, pdu.message_id);
    if (message === undefined) {
      s.session.respond(pdu, { command_status: CommandStatus.ESME_RINVMSGID });
      return;
    }
    if (!this.ctx.store.isPending(message)) {
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
      this.ctx.store.schedule(
        message,
        Math.min(when + plannedOutcome(this.ctx.receipts, first).delayMs, MAX_TIMER_MS),
      );
    }
    s.session.respond(pdu);
  }
}

/** The concatenation element of a submitted part: its UDH (with UDHI set), else its SAR TLVs. */
function concatOf(
  pdu: { esm_class: number; tlvs?: Tlv[] | undefined },
  payload: Buffer,
): StoredMessage['concat'] {
  if (pdu.esm_class & EsmClass.UDHI) {
    const udh = parseUdh(payload);
    if (!(udh instanceof Error) && udh.concat) {
      const c = udh.concat;
      return {
        method: c.referenceBits === 8 ? 'udh8' : 'udh16',
        reference: c.reference,
        total: c.total,
        seq: c.seq,
      };
    }
  }
  const reference = tlvNumber(pdu.tlvs, TlvTag.sar_msg_ref_num);
  const total = tlvNumber(pdu.tlvs, TlvTag.sar_total_segments);
  const seq = tlvNumber(pdu.tlvs, TlvTag.sar_segment_seqnum);
  if (reference === undefined || total === undefined || seq === undefined) return undefined;
  if (total < 1 || seq < 1 || seq > total) return undefined;
  return { method: 'sar', reference, total, seq };
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
