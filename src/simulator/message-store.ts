/**
 * Messages the simulator accepted, by message_id: what query_sm reports, what cancel_sm and
 * replace_sm act on, and what delivery receipts are made from. A message is ENROUTE until its
 * outcome time, then takes its planned final state (DELIVRD, UNDELIV, ...) and the store calls
 * `onFinal` (which sends the receipt when one was asked for). cancel_sm makes it DELETED
 * without a receipt.
 *
 * The store is bounded: past `maxMessages` the oldest entries are forgotten (a pending one
 * then never reaches its final state). Its timers belong to the store, not to a session: a
 * receipt goes to any RX/TRX session of the submitter's system_id, so it survives the close of
 * the session that submitted (reference §10.4).
 */
import { randomBytes } from 'node:crypto';
import { MessageState } from '../protocol/constants.js';
import { messageStateFromStat, type ReceiptStat } from '../protocol/receipt.js';
import { TimerSet, type TimerSetHandle } from './timer-set.js';

export type FinalStat = Exclude<ReceiptStat, 'ENROUTE' | 'SCHEDLD'>;
export const FINAL_STATS: readonly FinalStat[] = [
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'SKIPPED',
];

export interface Address {
  ton: number;
  npi: number;
  addr: string;
}

export interface Outcome {
  stat: FinalStat;
  /** The receipt's err field (3 characters by convention). */
  err: string;
}

export interface StoredMessage {
  id: string;
  systemId: string;
  sessionId: number;
  command: 'submit_sm' | 'data_sm' | 'submit_multi';
  serviceType: string;
  source: Address;
  /** One for submit_sm and data_sm; the accepted SME destinations of a submit_multi. */
  destinations: Address[];
  esmClass: number;
  dataCoding: number;
  /** short_message, or message_payload when short_message was empty. */
  payload: Buffer;
  registeredDelivery: number;
  submitDate: Date;
  /** message_state now (reference §10.3): ENROUTE until final. */
  state: number;
  /** The final stat once final. */
  stat: FinalStat | undefined;
  /** What the message will become at its outcome time. */
  planned: Outcome;
  finalDate: Date | undefined;
}

export type MessageIdFormat = 'hex' | 'decimal';

export interface MessageStoreOptions {
  idFormat?: MessageIdFormat;
  maxMessages?: number;
  onFinal?: (message: StoredMessage) => void;
}

export const DEFAULT_MAX_MESSAGES = 100_000;

export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();
  private readonly pending = new Map<string, TimerSetHandle>();
  private readonly timers = new TimerSet();
  private readonly idFormat: MessageIdFormat;
  private readonly maxMessages: number;
  private readonly onFinal: (message: StoredMessage) => void;
  private readonly prefix: string;
  private counter = 0;

  constructor(options: MessageStoreOptions = {}) {
    this.idFormat = options.idFormat ?? 'hex';
    this.maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
    this.onFinal = options.onFinal ?? (() => {});
    // A per-instance prefix keeps ids unique across simulator restarts.
    this.prefix =
      this.idFormat === 'hex'
        ? randomBytes(4).toString('hex')
        : String(Math.floor(Date.now() / 1000) % 1e9).padStart(9, '0');
  }

  /** A fresh message_id: 16 lowercase hex digits, or 17 decimal digits (grows past 2^32 messages). */
  nextId(): string {
    const n = ++this.counter;
    return this.idFormat === 'hex'
      ? `${this.prefix}${n.toString(16).padStart(8, '0')}`
      : `${this.prefix}${n.toString().padStart(8, '0')}`;
  }

  get size(): number {
    return this.messages.size;
  }

  /** Messages not yet final. */
  get pendingCount(): number {
    return this.pending.size;
  }

  get(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  /** Stores an ENROUTE message that becomes final (its `planned` outcome) in `finalInMs`. */
  add(message: StoredMessage, finalInMs: number): void {
    this.messages.set(message.id, message);
    this.schedule(message, finalInMs);
    while (this.messages.size > this.maxMessages) {
      const oldest = this.messages.keys().next().value as string;
      this.forget(oldest);
    }
  }

  /** Moves the outcome of a pending message (replace_sm with a new schedule). */
  schedule(message: StoredMessage, finalInMs: number): void {
    this.pending.get(message.id)?.clear();
    const timer = this.timers.set(() => this.finalise(message.id), finalInMs);
    this.pending.set(message.id, timer);
  }

  isPending(message: StoredMessage): boolean {
    return this.pending.has(message.id);
  }

  /** cancel_sm: the message becomes DELETED now, and no receipt follows. */
  cancel(message: StoredMessage): void {
    this.pending.get(message.id)?.clear();
    this.pending.delete(message.id);
    message.state = MessageState.DELETED;
    message.stat = 'DELETED';
    message.finalDate = new Date();
  }

  /** Pending messages of a system_id that a predicate picks (cancel_sm by addresses). */
  findPending(systemId: string, pick: (m: StoredMessage) => boolean): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const id of this.pending.keys()) {
      const m = this.messages.get(id);
      if (m && m.systemId === systemId && pick(m)) out.push(m);
    }
    return out;
  }

  /** Forgets every message and clears every timer; the store takes no new timers after. */
  close(): void {
    this.timers.clearAll(true);
    this.pending.clear();
    this.messages.clear();
  }

  private forget(id: string): void {
    this.pending.get(id)?.clear();
    this.pending.delete(id);
    this.messages.delete(id);
  }

  private finalise(id: string): void {
    this.pending.delete(id);
    const message = this.messages.get(id);
    if (message === undefined) return;
    message.stat = message.planned.stat;
    message.state = messageStateFromStat(message.planned.stat);
    message.finalDate = new Date();
    this.onFinal(message);
  }
}
