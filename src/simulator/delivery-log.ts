/**
 * A record of every deliver_sm the simulator wrote (receipts and MO, each attempt its own
 * record) and the answer it got: ESME_ROK, an error status, or none (no answer within the
 * response timeout, or the connection closed first). End-to-end tests read it to check what an
 * ESME acknowledged. Bounded: past `max` records the oldest are forgotten; `seq` keeps counting,
 * so a reader pages with `after`.
 */
import { statusName } from '../protocol/command-status.js';

export type DeliveryOutcome = 'pending' | 'ok' | 'error' | 'none';

export interface DeliveryRecord {
  /** 1, 2, ... in the order written. */
  seq: number;
  kind: 'receipt' | 'mo';
  /** When it was written (the simulator's clock, ms). */
  at: number;
  sessionId: number;
  systemId: string;
  from: string;
  to: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Receipts: the message's id (as its submit_sm_resp gave it) and the stat the receipt carries. */
  messageId?: string;
  stat?: string;
  /** MO: the id POST /mo gave, and which part (1-based) of how many. */
  moId?: string;
  part?: number;
  parts?: number;
  outcome: DeliveryOutcome;
  /** The deliver_sm_resp (or generic_nack) command_status and its name; null while pending or without an answer. */
  commandStatus: number | null;
  status: string | null;
  /** Why there was no answer. */
  reason?: string;
}

export const DEFAULT_MAX_DELIVERY_RECORDS = 10_000;

export interface DeliveryQuery {
  kind?: 'receipt' | 'mo';
  systemId?: string;
  moId?: string;
  outcome?: DeliveryOutcome;
  /** Records with seq above this. */
  after?: number;
  limit?: number;
}

export class DeliveryLog {
  private readonly ring: DeliveryRecord[] = [];
  private head = 0;
  private seq = 0;

  constructor(private readonly max = DEFAULT_MAX_DELIVERY_RECORDS) {}

  get size(): number {
    return this.ring.length;
  }

  /** Records a deliver_sm just written; the returned record is settled with `answered`/`unanswered`. */
  add(record: Omit<DeliveryRecord, 'seq' | 'outcome' | 'commandStatus' | 'status'>): DeliveryRecord {
    const full: DeliveryRecord = {
      ...record,
      seq: ++this.seq,
      outcome: 'pending',
      commandStatus: null,
      status: null,
    };
    if (this.ring.length < this.max) this.ring.push(full);
    else {
      this.ring[this.head] = full;
      this.head = (this.head + 1) % this.max;
    }
    return full;
  }

  answered(record: DeliveryRecord, commandStatus: number): void {
    record.outcome = commandStatus === 0 ? 'ok' : 'error';
    record.commandStatus = commandStatus;
    record.status = statusName(commandStatus);
  }

  unanswered(record: DeliveryRecord, reason: string): void {
    record.outcome = 'none';
    record.reason = reason;
  }

  /** Records in the order written, oldest kept first. */
  list(query: DeliveryQuery = {}): DeliveryRecord[] {
    const limit = query.limit ?? 1_000;
    const out: DeliveryRecord[] = [];
    const n = this.ring.length;
    for (let i = 0; i < n && out.length < limit; i++) {
      const r = this.ring[(this.head + i) % n] as DeliveryRecord;
      if (query.after !== undefined && r.seq <= query.after) continue;
      if (query.kind !== undefined && r.kind !== query.kind) continue;
      if (query.systemId !== undefined && r.systemId !== query.systemId) continue;
      if (query.moId !== undefined && r.moId !== query.moId) continue;
      if (query.outcome !== undefined && r.outcome !== query.outcome) continue;
      out.push({ ...r });
    }
    return out;
  }

  clear(): void {
    this.ring.length = 0;
    this.head = 0;
  }
}
