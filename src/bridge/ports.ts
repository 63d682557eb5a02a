/**
 * The seams between the parts of the message path, so each can be built and tested alone:
 *
 *   HTTP routes ──accept──▶ store ◀──claim── outbound dispatcher ──submit_sm──▶ binds
 *        │                                        ▲
 *        └── OutboundPort.notifyQueued ───────────┘
 *   binds ──deliver_sm──▶ inbound handler ──ReceiptSink──▶ outbound receipt correlation
 *                              └──────────InboundEventSink──▶ webhook fan-out (outbox)
 *   outbound status changes ──StatusEventSink──▶ webhook fan-out (outbox)
 *
 * Sinks that write run inside the caller's transaction (`tx`), so an event is enqueued atomically
 * with the change it reports: a crash can lose neither one without the other.
 */
import type { Receipt as ParsedReceipt } from '../protocol/receipt.js';
import type {
  Fence,
  InboundMessageRecord,
  MessageRecord,
  MessageStatus,
  PartRecord,
  Store,
  StoreTx,
} from '../store/store.js';
import type { RouteTable } from './routing.js';

/** What the HTTP layer is given when the message path runs (serve wires it; absent = no message routes work). */
export interface MessagePath {
  readonly store: Store;
  readonly outbound: OutboundPort;
  /** The routes in use (config `routes`, or the default route over every transmitter-capable bind). */
  routes(): RouteTable;
  /**
   * Whether the store accepted a write at the last check (cached: readiness reads it per request
   * without I/O). Absent: not checked.
   */
  storeHealth?(): { ok: boolean; error?: string };
  /** Told of every committed status change (the SSE stream, metrics). Returns the unsubscribe. */
  onStatusChange?(listener: (change: MessageStatusChange) => void): () => void;
  /** Told of every submit_sm response: its route and round trip in ms (metrics). Returns the unsubscribe. */
  onSubmitLatency?(listener: (route: string, latencyMs: number) => void): () => void;
  /** Receipts matched to a part, and receipts parked without a match (orphans), since start. */
  receiptCounts?(): { matched: number; orphaned: number };
}

/** What the HTTP layer needs from the outbound engine. */
export interface OutboundPort {
  /** Messages were just queued on `route` (`parts` parts, default 1): claim them now rather than at the next poll. */
  notifyQueued(route: string, parts?: number): void;
  /**
   * A bind of `route` that can send a message of `parts` parts the moment it is stored: bound,
   * leased, with room in its window and its rate, and nothing of its routes waiting in the queue
   * (so the message overtakes none). The message is then stored with createMessageSending on the
   * reservation's fence and handed over after the commit; undefined: store it queued and call
   * notifyQueued. Absent: always queued.
   */
  reserveSend?(route: string, parts: number): SendReservation | undefined;
  /** Parts accepted and not yet settled (queued, claimed or sending), across routes: the queue bound. */
  queuedParts(): number;
  /** The bound on queuedParts() above which new messages are refused (429); config outbound.maxQueuedParts. */
  readonly maxQueuedParts?: number;
}

/** Room on one bind for a message about to be stored (OutboundPort.reserveSend). */
export interface SendReservation {
  readonly fence: Fence;
  /** The transaction committed with the parts `sending` on the fence: write their submit_sm now. */
  send(message: MessageRecord, parts: readonly PartRecord[]): void;
  /** Not used: the transaction failed, or the fence did not hold and the parts were queued. */
  release(): void;
}

/** A message's status moved (or an event worth publishing was recorded for it). */
export interface MessageStatusChange {
  /** The message after the change. */
  readonly message: MessageRecord;
  readonly previous: MessageStatus;
  readonly status: MessageStatus;
  /** The message's parts after the change (bind, SMSC id, submit status, receipt). */
  readonly parts: readonly PartRecord[];
  /** The per-message sequence number of this event (1, 2, 3…; the message event's `seq`). */
  readonly sequence: number;
  /** Wall-clock ms. */
  readonly at: number;
}

/**
 * Told of every status change, inside the transaction that records it. The webhook fan-out
 * implements it (one outbox row per subscribed endpoint and per the message's callbackUrl).
 */
export interface StatusEventSink {
  onStatusChanged(tx: StoreTx, change: MessageStatusChange): Promise<void>;
}

/** A delivery receipt found in an inbound deliver_sm or data_sm. */
export interface InboundReceipt {
  readonly bindId: string;
  readonly receipt: ParsedReceipt;
  /** Wall-clock ms when it was received. */
  readonly receivedAt: number;
}

/**
 * The outbound correlation, as the inbound handler sees it. Resolves only once the receipt is
 * durably stored (applied to its part, or parked until the submit_sm_resp lands), so the handler
 * may then answer ESME_ROK; rejects when it could not be stored (the handler answers a temporary
 * error and the SMSC redelivers).
 */
export interface ReceiptSink {
  onReceipt(receipt: InboundReceipt): Promise<void>;
}

/** A mobile-originated message, complete (or given up on as incomplete), as just stored. */
export interface ReceivedMessage {
  readonly message: InboundMessageRecord;
  /** The route of the bind it came on (null when the bind is in no route). */
  readonly route: string | null;
  /** Text when the encoding is a text one; null for binary (see `message.body`). */
  readonly text: string | null;
  readonly dataCoding: number;
  /** Parts were still missing when reassembly gave up (mo.reassemblyTimeoutMs). */
  readonly incomplete: boolean;
}

/** Told of every MO message inside the transaction that stores it (the webhook fan-out implements it). */
export interface InboundEventSink {
  onMessageReceived(tx: StoreTx, received: ReceivedMessage): Promise<void>;
}
