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
import { type Clock, realClock } from '../session/clock.js';
import { Fifo } from './fifo.js';
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
  /** 1, 2, ... in the order accepted (set by the store). */
  seq?: number;
  /** The id the receipts carry when an id_format case renders it unlike `id` (the submit_sm_resp's). */
  receiptId?: string;
  /** The concatenation element of this part (UDH or SAR), when it is one part of a longer message. */
  concat?: { method: 'udh8' | 'udh16' | 'sar'; reference: number; total: number; seq: number };
  /** False when a no_response case kept its submit_sm_resp from being written. */
  responded?: boolean;
  /** What cases asked of its receipts. */
  receiptPlan?: { otherBind?: boolean; stats?: ReceiptStat[]; gapMs?: number; none?: boolean };
}

export interface MessageQuery {
  systemId?: string;
  /** Exact destination_addr (a leading '+' ignored). */
  destination?: string;
  /** Messages with seq above this. */
  after?: number;
  limit?: number;
}

export type MessageIdFormat = 'hex' | 'decimal';

export interface MessageStoreOptions {
  idFormat?: MessageIdFormat;
  maxMessages?: number;
  onFinal?: (message: StoredMessage) => void;
  /** Outcome times run on this clock. Default: the real one. */
  clock?: Clock;
}

export const DEFAULT_MAX_MESSAGES = 100_000;

/**
 * Outcome times, earliest first and first in first out among equal times: a binary min-heap of
 * [at, order, id]. Entries are never removed in place; an entry whose time no longer matches
 * the message's due time (cancelled, moved, forgotten) is skipped when it reaches the top.
 */
class DueHeap {
  private readonly at: number[] = [];
  private readonly order: number[] = [];
  private readonly ids: string[] = [];
  private pushed = 0;

  get size(): number {
    return this.at.length;
  }

  peek(): number | undefined {
    return this.at[0];
  }

  push(at: number, id: string): void {
    let i = this.at.length;
    this.at.push(at);
    this.order.push(this.pushed++);
    this.ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, string] | undefined {
    const n = this.at.length;
    if (n === 0) return undefined;
    const top: [number, string] = [this.at[0] as number, this.ids[0] as string];
    const lastAt = this.at.pop() as number;
    const lastOrder = this.order.pop() as number;
    const lastId = this.ids.pop() as string;
    if (n > 1) {
      this.at[0] = lastAt;
      this.order[0] = lastOrder;
      this.ids[0] = lastId;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n - 1 && this.before(l, m)) m = l;
        if (r < n - 1 && this.before(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.order.length = 0;
    this.ids.length = 0;
  }

  private before(i: number, j: number): boolean {
    const a = this.at[i] as number;
    const b = this.at[j] as number;
    return a < b || (a === b && (this.order[i] as number) < (this.order[j] as number));
  }

  private swap(i: number, j: number): void {
    const a = this.at[i] as number;
    this.at[i] = this.at[j] as number;
    this.at[j] = a;
    const o = this.order[i] as number;
    this.order[i] = this.order[j] as number;
    this.order[j] = o;
    const b = this.ids[i] as string;
    this.ids[i] = this.ids[j] as string;
    this.ids[j] = b;
  }
}

export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();
  /** Message ids in the order they were added, for eviction (the oldest is forgotten first; Map.keys() would walk deleted holes). */
  private readonly order = new Fifo<string>();
  /** Pending ids and the time (clock.now()) they become final. */
  private readonly due = new Map<string, number>();
  private readonly heap = new DueHeap();
  /** One timer, for the earliest outcome. */
  private readonly clock: Clock;
  private readonly timers: TimerSet;
  private timer: TimerSetHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly idFormat: MessageIdFormat;
  private readonly maxMessages: number;
  private readonly onFinal: (message: StoredMessage) => void;
  private readonly prefix: string;
  private counter = 0;
  private accepted = 0;

  constructor(options: MessageStoreOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.timers = new TimerSet(this.clock);
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

  /** The number an id of nextId() stands for (id_format renders it in other forms). */
  numberOf(id: string): bigint {
    return this.idFormat === 'hex' ? BigInt(`0x${id}`) : BigInt(id);
  }

  get size(): number {
    return this.messages.size;
  }

  /** Messages not yet final. */
  get pendingCount(): number {
    return this.due.size;
  }

  get(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  /** Stores an ENROUTE message that becomes final (its `planned` outcome) in `finalInMs`. */
  add(message: StoredMessage, finalInMs: number): void {
    if (this.closed) return;
    message.seq = ++this.accepted;
    this.messages.set(message.id, message);
    this.order.push(message.id);
    this.schedule(message, finalInMs);
    while (this.messages.size > this.maxMessages) this.evictOldest();
  }

  /** Moves the outcome of a pending message (replace_sm with a new schedule). */
  schedule(message: StoredMessage, finalInMs: number): void {
    if (this.closed) return;
    const at = this.clock.now() + Math.max(0, finalInMs);
    this.due.set(message.id, at);
    this.heap.push(at, message.id);
    this.arm();
  }

  isPending(message: StoredMessage): boolean {
    return this.due.has(message.id);
  }

  /** Makes a pending message final now (its receipt goes out before this returns). */
  finishNow(message: StoredMessage): void {
    if (!this.due.delete(message.id)) return;
    this.finalise(message.id);
  }

  /** Messages in the order accepted (the oldest kept first), for tests and the control API. */
  list(query: MessageQuery = {}): StoredMessage[] {
    const limit = query.limit ?? 1_000;
    const wanted = query.destination === undefined ? undefined : query.destination.replace(/^\+/, '');
    const out: StoredMessage[] = [];
    for (const m of this.messages.values()) {
      if (out.length >= limit) break;
      if (query.after !== undefined && (m.seq ?? 0) <= query.after) continue;
      if (query.systemId !== undefined && m.systemId !== query.systemId) continue;
      if (wanted !== undefined && !m.destinations.some((d) => d.addr.replace(/^\+/, '') === wanted)) continue;
      out.push(m);
    }
    return out;
  }

  /** cancel_sm: the message becomes DELETED now, and no receipt follows. */
  cancel(message: StoredMessage): void {
    this.due.delete(message.id);
    message.state = MessageState.DELETED;
    message.stat = 'DELETED';
    message.finalDate = new Date();
  }

  /** Pending messages of a system_id that a predicate picks (cancel_sm by addresses). */
  findPending(systemId: string, pick: (m: StoredMessage) => boolean): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const id of this.due.keys()) {
      const m = this.messages.get(id);
      if (m && m.systemId === systemId && pick(m)) out.push(m);
    }
    return out;
  }

  /** Forgets every message and clears the timer; the store takes nothing new after. */
  close(): void {
    this.closed = true;
    this.timers.clearAll(true);
    this.timer = null;
    this.heap.clear();
    this.due.clear();
    this.messages.clear();
    this.order.clear();
  }

  private evictOldest(): void {
    const id = this.order.shift();
    if (id === undefined) return;
    this.due.delete(id);
    this.messages.delete(id);
  }

  private arm(): void {
    const next = this.heap.peek();
    if (next === undefined || next >= this.timerAt) return;
    this.timer?.clear();
    this.timerAt = next;
    this.timer = this.timers.set(this.fire, next - this.clock.now());
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let next = this.heap.peek(); next !== undefined && next <= now; next = this.heap.peek()) {
      const [at, id] = this.heap.pop() as [number, string];
      if (this.due.get(id) !== at) continue; // cancelled, moved or forgotten
      this.due.delete(id);
      this.finalise(id);
      if (this.closed) return;
    }
    this.arm();
  };

  private finalise(id: string): void {
    const message = this.messages.get(id);
    if (message === undefined) return;
    message.stat = message.planned.stat;
    message.state = messageStateFromStat(message.planned.stat);
    message.finalDate = new Date();
    this.onFinal(message);
  }
}
