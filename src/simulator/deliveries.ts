/**
 * What the simulator sends to ESMEs as deliver_sm: delivery receipts when a message reaches its
 * final state (retried by the ReceiptSender of receipts.ts) and MO messages injected through
 * the API, each to a bound RX/TRX session of the right system_id, round robin.
 */
import type { Logger } from '../logger.js';
import { Npi, TlvTag, Ton } from '../protocol/constants.js';
import type { PduInit } from '../protocol/pdu.js';
import { chooseEncoding, encodeText } from '../protocol/text.js';
import type { SmppSession } from '../session/session.js';
import type { DeliveryLog } from './delivery-log.js';
import { type SimIssue, SimulatorError } from './errors.js';
import type { FaultPlayer } from './fault-player.js';
import type { Address, MessageStore, StoredMessage } from './message-store.js';
import {
  type DeliveryJob,
  ReceiptSender,
  type ResolvedReceiptOptions,
  receiptDeliverSm,
  wantsReceipt,
} from './receipts.js';
import type { SimSession } from './sim-session.js';
import type { TimerSet } from './timer-set.js';
import type { MoMessage } from './types.js';

/** TON/NPI for an address given as text: digits are international ISDN, anything else alphanumeric. */
function addressOf(addr: string): Address {
  const digits = /^\+?\d+$/.test(addr);
  return digits
    ? { ton: Ton.international, npi: Npi.isdn, addr: addr.replace(/^\+/, '') }
    : { ton: Ton.alphanumeric, npi: Npi.unknown, addr };
}

/** The deliver_sm fields of an MO message; throws SimulatorError naming each bad field. */
export function moDeliverSm(mo: MoMessage): PduInit<'deliver_sm'> {
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

export interface DeliveriesOptions {
  live: ReadonlyMap<number, SimSession>;
  faults: FaultPlayer;
  store: MessageStore;
  receipts: ResolvedReceiptOptions;
  timers: TimerSet;
  log: Logger;
  /** A receipt deliver_sm was written (each attempt). */
  onSent(): void;
  /** The ESME acknowledged a receipt with status 0. */
  onReceipt(event: { messageId: string; systemId: string; sessionId: number; stat: string }): void;
  /** Every deliver_sm written and its answer. */
  record: DeliveryLog;
}

export class Deliveries {
  private readonly roundRobin = new Map<string, number>();
  private readonly sender: ReceiptSender;

  constructor(private readonly opts: DeliveriesOptions) {
    this.sender = new ReceiptSender({
      pick: (systemId, avoid) => this.pickReceiver(systemId, avoid),
      record: opts.record,
      timers: opts.timers,
      log: opts.log,
      retries: opts.receipts.retries,
      retryDelayMs: opts.receipts.retryDelayMs,
      responseTimeoutMs: opts.receipts.responseTimeoutMs,
      onSent: () => opts.onSent(),
      onDelivered: (job) => this.onReceiptDelivered(job),
    });
  }

  close(): void {
    this.sender.close();
  }

  /**
   * A bound RX/TRX session of this system_id that may receive now (round robin), if any; one
   * other than session `avoid` when there is one.
   */
  pickReceiver(systemId: string, avoid?: number): SmppSession | undefined {
    let candidates: SimSession[] = [];
    for (const s of this.opts.live.values()) {
      if (s.systemId !== systemId || (s.bindType !== 'receiver' && s.bindType !== 'transceiver')) continue;
      if (!s.session.bound || this.opts.faults.silent(s)) continue;
      candidates.push(s);
    }
    if (avoid !== undefined && candidates.some((s) => s.id !== avoid)) {
      candidates = candidates.filter((s) => s.id !== avoid);
    }
    if (candidates.length === 0) return undefined;
    const turn = this.roundRobin.get(systemId) ?? 0;
    this.roundRobin.set(systemId, turn + 1);
    return candidates[turn % candidates.length]?.session;
  }

  /**
   * The message store's onFinal: a receipt per destination when registered_delivery asks (or
   * what a receipts case lists, one after the other; none for a no_response case that says so).
   */
  onFinal(message: StoredMessage): void {
    const stat = message.stat;
    const plan = message.receiptPlan;
    if (stat === undefined || plan?.none || !wantsReceipt(message.registeredDelivery, stat)) return;
    const stats = plan?.stats ?? [stat];
    const gapMs = plan?.gapMs ?? 0;
    stats.forEach((as, i) => {
      const send = (): void => {
        for (const destination of message.destinations) {
          this.sender.send({
            systemId: message.systemId,
            messageId: message.id,
            stat: as,
            init: receiptDeliverSm(message, destination, as),
            ...(plan?.otherBind ? { avoidSessionId: message.sessionId } : {}),
          });
        }
      };
      if (i === 0 || gapMs === 0) send();
      else this.opts.timers.set(send, gapMs * i);
    });
  }

  private onReceiptDelivered(job: DeliveryJob): void {
    const message = this.opts.store.get(job.messageId);
    this.opts.onReceipt({
      messageId: job.messageId,
      systemId: job.systemId,
      sessionId: message?.sessionId ?? 0,
      stat: job.stat ?? message?.stat ?? 'UNKNOWN',
    });
  }
}
