/**
 * Delivery receipts (reference §10): which outcome a message gets, whether its
 * registered_delivery asks for a receipt, the receipt deliver_sm itself (§10.4 Rec.: source
 * and destination swapped, esm_class 0x04, data_coding 0, Appendix B text in short_message,
 * receipted_message_id + message_state TLVs, network_error_code on failure), and its delivery
 * with retries: a deliver_sm that gets no answer, a retriable status (ESME_RX_T_APPN,
 * ESME_RTHROTTLED, ...) or finds no RX/TRX session bound is sent again after retryDelayMs,
 * doubling each time, up to `retries` more times.
 */
import { Type } from 'typebox';
import type { PathSegment } from '../config/config-path.js';
import type { Logger } from '../logger.js';
import { isRetriable, statusName } from '../protocol/command-status.js';
import { DataCoding, EsmClass, RegisteredDelivery } from '../protocol/constants.js';
import { SmppEncodeError } from '../protocol/errors.js';
import type { Pdu, PduInit } from '../protocol/pdu.js';
import { formatReceiptText, type ReceiptStat, receiptTlvs } from '../protocol/receipt.js';
import { decodeText } from '../protocol/text.js';
import type { SmppSession } from '../session/session.js';
import type { DeliveryLog } from './delivery-log.js';
import type { SimIssue } from './errors.js';
import { normaliseDestination } from './faults.js';
import { Fifo } from './fifo.js';
import {
  type Address,
  FINAL_STATS,
  type FinalStat,
  type Outcome,
  type StoredMessage,
} from './message-store.js';
import { MAX_TIMER_MS, type TimerSet } from './timer-set.js';
import { issuesOf, strict } from './validate.js';

export interface ReceiptRule {
  /** destination_addr this rule is for (compared without a leading '+'). */
  destination: string;
  finalState: FinalStat;
  err?: string;
  delayMs?: number;
}

export interface ReceiptOptions {
  /** Time from accepting a message to its final state (and its receipt). Default 100 ms. */
  delayMs?: number;
  /** The final state messages reach. Default DELIVRD. */
  finalState?: FinalStat;
  /** The receipt's err field. Default '000' for DELIVRD, '001' otherwise. */
  err?: string;
  /** Outcomes by destination; the first rule that matches wins. */
  rules?: ReceiptRule[];
  /** Further attempts of a receipt deliver_sm. Default 3. */
  retries?: number;
  /** Wait before the first retry, doubled for each next one. Default 1000 ms. */
  retryDelayMs?: number;
  /** How long a receipt deliver_sm waits for its deliver_sm_resp. Default 5000 ms. */
  responseTimeoutMs?: number;
}

export type ResolvedReceiptOptions = Required<Omit<ReceiptOptions, 'err'>> & { err: string | undefined };

export const DEFAULT_RECEIPTS: ResolvedReceiptOptions = {
  delayMs: 100,
  finalState: 'DELIVRD',
  err: undefined,
  rules: [],
  retries: 3,
  retryDelayMs: 1_000,
  responseTimeoutMs: 5_000,
};

export function resolveReceiptOptions(options: ReceiptOptions = {}): ResolvedReceiptOptions {
  const out = { ...DEFAULT_RECEIPTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

const FinalStatSchema = Type.Union(FINAL_STATS.map((s) => Type.Literal(s)));
const ErrSchema = Type.String({
  pattern: '^[\\x21-\\x7e]{1,10}$',
  expected: 'a short code without spaces, like 000',
});
const Ms = Type.Integer({ minimum: 0, maximum: MAX_TIMER_MS });

export const ReceiptOptionsSchema = Type.Object(
  {
    delayMs: Type.Optional(Ms),
    finalState: Type.Optional(FinalStatSchema),
    err: Type.Optional(ErrSchema),
    rules: Type.Optional(
      Type.Array(
        Type.Object(
          {
            destination: Type.String({ minLength: 1, maxLength: 64 }),
            finalState: FinalStatSchema,
            err: Type.Optional(ErrSchema),
            delayMs: Type.Optional(Ms),
          },
          strict,
        ),
      ),
    ),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    retryDelayMs: Type.Optional(Ms),
    responseTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TIMER_MS })),
  },
  strict,
);

export function checkReceiptOptions(value: unknown, at: readonly PathSegment[] = []): SimIssue[] {
  return issuesOf(ReceiptOptionsSchema, value, at);
}

/** The outcome and the time to it for a message to `destination`. */
export function plannedOutcome(
  options: ResolvedReceiptOptions,
  destination: string,
): { outcome: Outcome; delayMs: number } {
  const wanted = normaliseDestination(destination);
  const rule = options.rules.find((r) => normaliseDestination(r.destination) === wanted);
  const stat = rule?.finalState ?? options.finalState;
  const err = rule?.err ?? options.err ?? (stat === 'DELIVRD' ? '000' : '001');
  return { outcome: { stat, err }, delayMs: rule?.delayMs ?? options.delayMs };
}

/** registered_delivery bits 1–0 (reference §8.3): 1 any final outcome, 2 failure only, 3 success only. */
export function wantsReceipt(registeredDelivery: number, stat: FinalStat): boolean {
  switch (registeredDelivery & RegisteredDelivery.RECEIPT_MASK) {
    case RegisteredDelivery.FINAL:
      return true;
    case RegisteredDelivery.FAILURE:
      return stat !== 'DELIVRD';
    case RegisteredDelivery.SUCCESS:
      return stat === 'DELIVRD';
    default:
      return false;
  }
}

/** The first characters of a message, as printable ASCII for the receipt's text field. */
export function receiptExcerpt(message: Pick<StoredMessage, 'payload' | 'dataCoding' | 'esmClass'>): string {
  let octets = message.payload;
  if (message.esmClass & EsmClass.UDHI && octets.length > 0) octets = octets.subarray(1 + (octets[0] ?? 0));
  const { text } = decodeText(octets.subarray(0, 80), message.dataCoding);
  return Array.from(text)
    .slice(0, 20)
    .map((c) => (/^[\x20-\x7e]$/.test(c) ? c : '?'))
    .join('');
}

/**
 * The receipt deliver_sm for one destination of a final message; `as` sends another stat than
 * the message's own (the receipts case: ENROUTE after DELIVRD).
 */
export function receiptDeliverSm(
  message: StoredMessage,
  destination: Address,
  as?: ReceiptStat,
): PduInit<'deliver_sm'> {
  const stat = as ?? message.stat ?? message.planned.stat;
  const doneDate = message.finalDate ?? new Date();
  const err = stat === 'DELIVRD' || stat === 'ENROUTE' || stat === 'ACCEPTD' ? '000' : message.planned.err;
  const id = message.receiptId ?? message.id;
  const text = formatReceiptText({
    id,
    sub: 1,
    dlvrd: stat === 'DELIVRD' ? 1 : 0,
    submitDate: message.submitDate,
    doneDate,
    stat,
    err,
    text: receiptExcerpt(message),
  });
  const code = /^\d{1,5}$/.test(err) ? Number(err) : 0;
  const failed = stat !== 'DELIVRD' && code > 0 && code <= 0xffff;
  return {
    source_addr_ton: destination.ton,
    source_addr_npi: destination.npi,
    source_addr: destination.addr,
    dest_addr_ton: message.source.ton,
    dest_addr_npi: message.source.npi,
    destination_addr: message.source.addr,
    esm_class: EsmClass.TYPE_DELIVERY_RECEIPT,
    data_coding: DataCoding.SMSC_DEFAULT,
    short_message: Buffer.from(text, 'latin1'),
    tlvs: receiptTlvs({
      id,
      stat,
      ...(failed ? { networkErrorCode: { type: 3, code } } : {}),
    }),
  };
}

export interface DeliveryJob {
  systemId: string;
  init: PduInit<'deliver_sm'>;
  /** For logs: the message id (the one the receipt carries). */
  messageId: string;
  /** The stat the receipt carries. */
  stat?: string;
  /** Another session of the system_id is preferred to this one (receipt_other_bind). */
  avoidSessionId?: number;
}

export interface ReceiptSenderOptions {
  /** An RX/TRX session bound with this system_id that may receive now (preferably not `avoid`), if any. */
  pick(systemId: string, avoid?: number): SmppSession | undefined;
  /** Where each attempt and its answer are recorded. */
  record?: DeliveryLog;
  timers: TimerSet;
  log: Logger;
  retries: number;
  retryDelayMs: number;
  responseTimeoutMs: number;
  /** A receipt deliver_sm was written (each attempt). */
  onSent(job: DeliveryJob): void;
  /** The ESME acknowledged a receipt with status 0. */
  onDelivered(job: DeliveryJob, resp: Pdu): void;
  /**
   * Receipts waiting for an answer (or a window slot) at once; more wait in line, in order, and go
   * as answers come (waiting is not an attempt: an SMSC keeps receipts for a slow ESME). Default 1000.
   */
  maxInFlight?: number;
}

/** Receipts in flight at once over all sessions, so a client that never answers cannot pile them up. */
export const DEFAULT_MAX_RECEIPTS_IN_FLIGHT = 1_000;

export class ReceiptSender {
  private closed = false;
  private inFlight = 0;
  /** Attempts held back by the in-flight bound, oldest first. */
  private readonly waiting = new Fifo<{ job: DeliveryJob; n: number }>();

  constructor(private readonly opts: ReceiptSenderOptions) {}

  /** Receipt deliver_sm waiting for an answer now. */
  get pending(): number {
    return this.inFlight;
  }

  /** Receipts held back until fewer are in flight. */
  get queued(): number {
    return this.waiting.size;
  }

  send(job: DeliveryJob): void {
    this.attempt(job, 1);
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
  }

  private attempt(job: DeliveryJob, n: number): void {
    if (this.closed) return;
    const session = this.opts.pick(job.systemId, job.avoidSessionId);
    if (session === undefined) {
      this.retry(job, n, `no RX/TRX session of ${job.systemId} can take it`);
      return;
    }
    if (this.inFlight >= this.maxInFlight) {
      this.waiting.push({ job, n });
      return;
    }
    this.inFlight++;
    const request = session.request('deliver_sm', job.init, { timeoutMs: this.opts.responseTimeoutMs });
    this.opts.onSent(job);
    const record = this.opts.record?.add({
      kind: 'receipt',
      at: this.opts.timers.now(),
      sessionId: session.id,
      systemId: job.systemId,
      from: job.init.source_addr ?? '',
      to: job.init.destination_addr ?? '',
      attempt: n,
      messageId: job.messageId,
      stat: job.stat ?? '',
    });
    request.then(
      (resp) => {
        this.settled();
        if (record) this.opts.record?.answered(record, resp.command_status);
        if (resp.command === 'deliver_sm_resp' && resp.command_status === 0) {
          this.opts.onDelivered(job, resp);
        } else if (isRetriable(resp.command_status)) {
          this.retry(job, n, `answered ${statusName(resp.command_status)}`);
        } else {
          this.opts.log.warn(
            { messageId: job.messageId, status: statusName(resp.command_status), command: resp.command },
            'receipt refused for good by the ESME; dropped',
          );
        }
      },
      (error: Error) => {
        this.settled();
        if (record) this.opts.record?.unanswered(record, error.message);
        if (error instanceof SmppEncodeError) {
          this.opts.log.warn(
            { messageId: job.messageId, err: error.message },
            'receipt cannot be encoded; dropped',
          );
          return;
        }
        this.retry(job, n, error.message);
      },
    );
  }

  private get maxInFlight(): number {
    return this.opts.maxInFlight ?? DEFAULT_MAX_RECEIPTS_IN_FLIGHT;
  }

  /** One answer (or timeout) came: the oldest receipt held back takes its place. */
  private settled(): void {
    this.inFlight--;
    while (this.inFlight < this.maxInFlight) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      this.attempt(next.job, next.n);
    }
  }

  private retry(job: DeliveryJob, n: number, why: string): void {
    if (this.closed) return;
    if (n > this.opts.retries) {
      this.opts.log.warn({ messageId: job.messageId, attempts: n, why }, 'receipt not delivered; giving up');
      return;
    }
    const waitMs = Math.min(this.opts.retryDelayMs * 2 ** (n - 1), MAX_TIMER_MS);
    this.opts.log.debug({ messageId: job.messageId, attempt: n, waitMs, why }, 'receipt will be sent again');
    this.opts.timers.set(() => this.attempt(job, n + 1), waitMs);
  }
}
