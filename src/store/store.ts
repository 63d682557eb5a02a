/**
 * The durable store of the message path, as one interface. The SQLite implementation
 * (sqlite-store.ts) is the first; a PostgreSQL one must pass the same suite
 * (test/store/store-suite.ts), so nothing here depends on SQLite:
 *
 * - every method is async;
 * - atomic work goes through `transaction(fn)`: everything `fn` does through its `tx`
 *   commits together or not at all, and its promise resolves only after the commit
 *   returned (durable). Each write method on the store itself is one such transaction;
 * - reads on the store see committed data only; reads on a `tx` see that transaction;
 * - queues are claimed with a visibility timeout (claimed rows come back when it passes),
 *   which maps onto `SELECT … FOR UPDATE SKIP LOCKED`;
 * - writes made for a bind carry a fence (the bind's lease epoch): a write with a stale
 *   epoch is refused with SMPP_ERR_STORE_FENCED, so a replica that lost a bind cannot
 *   overwrite what the new owner does.
 *
 * Times are wall-clock milliseconds since the epoch, from the store's injected `now()`.
 */

// ---------------------------------------------------------------------------- messages

/**
 * A message's status, as the message path computes it from its parts (src/bridge/message-status.ts
 * holds the rules; issue "Send SMS over HTTP" the lifecycle). Kept here as data so the store depends
 * on nothing above it.
 */
export const MESSAGE_STATUSES = [
  'queued',
  'scheduled',
  'submitted',
  'rejected',
  'failed',
  'delivery_pending',
  'delivered',
  'partially_delivered',
  'undelivered',
  'expired',
  'unknown',
  'canceled',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * Statuses after which nothing more happens to a message; `prune()` removes them after the
 * retention. `submitted` is final only for messages that asked for no receipt, which the store
 * cannot tell from the status alone: it is not in this set (prune keeps such messages until the
 * path marks them or their retention-by-age rule applies).
 */
export const FINAL_MESSAGE_STATUSES: ReadonlySet<MessageStatus> = new Set<MessageStatus>([
  'rejected',
  'failed',
  'delivered',
  'partially_delivered',
  'undelivered',
  'expired',
  'unknown',
  'canceled',
]);

/** What receipts the caller asked for: none, final outcome only, or failures only. */
export type ReceiptPolicy = 'none' | 'final' | 'failure' | 'all';

export interface StoredError {
  code: string;
  message: string;
}

export interface NewMessage {
  /** Chosen by the caller (e.g. a UUID); unique. */
  id: string;
  /** The caller's own reference, echoed back. */
  clientRef?: string | null;
  /** The route; its parts are queued on the queue of the same name. */
  route: string;
  from: string;
  to: string;
  /** How `body` is encoded on the wire: 'gsm7', 'ucs2', 'latin1', 'binary'… */
  encoding: string;
  body: Uint8Array;
  udh?: Uint8Array | null;
  metadata?: Record<string, unknown> | null;
  callbackUrl?: string | null;
  receiptPolicy?: ReceiptPolicy;
  /** How long the SMSC may keep trying, in ms; null = the SMSC's default. */
  validityMs?: number | null;
  /** Not before this time (scheduled message); null = now. */
  sendAt?: number | null;
  status?: MessageStatus;
}

export interface MessageRecord {
  id: string;
  clientRef: string | null;
  route: string;
  from: string;
  to: string;
  encoding: string;
  body: Buffer;
  udh: Buffer | null;
  partsCount: number;
  status: MessageStatus;
  error: StoredError | null;
  metadata: Record<string, unknown> | null;
  callbackUrl: string | null;
  receiptPolicy: ReceiptPolicy;
  validityMs: number | null;
  sendAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Which messages listMessages returns: newest first (createdAt, then id, both descending). */
export interface MessageQuery {
  clientRef?: string;
  /** Any of these statuses. */
  statuses?: readonly MessageStatus[];
  /** Created at or after this time (ms). */
  since?: number;
  /** Continue after this message (the last of the previous page). */
  after?: { createdAt: number; id: string };
  limit: number;
}

/**
 * What came of cancelMessage. `canceled`: the message and every part were queued (or scheduled)
 * and are canceled now, atomically: no part can be claimed afterwards. `too_late`: a part was
 * already claimed, sent or settled (or the message is no longer queued or scheduled); nothing changed.
 */
export type CancelResult =
  | { kind: 'canceled'; message: MessageRecord }
  | { kind: 'not_found' }
  | { kind: 'too_late'; message: MessageRecord; reason: string };

export interface MessagePatch {
  status?: MessageStatus;
  /** null clears it. */
  error?: StoredError | null;
  metadata?: Record<string, unknown> | null;
}

// ---------------------------------------------------------------------------- parts

/**
 * A part's life: queued → claimed (by a bind, for a visibility timeout) → sending (the
 * PDU is about to be written) → submitted | rejected, or back to queued (throttled, or
 * released). `unknown`: the PDU may have reached the SMSC but no response was recorded
 * (timeout, or a crash while sending) — resending could duplicate the SMS. `canceled`: the
 * message was canceled while the part was still queued (cancelMessage); it is never claimed.
 */
export const PART_STATES = [
  'queued',
  'claimed',
  'sending',
  'submitted',
  'rejected',
  'unknown',
  'canceled',
] as const;
export type PartState = (typeof PART_STATES)[number];

export interface NewPart {
  /** 0-based, unique within the message. */
  index: number;
  /** The short_message of this part (with its UDH, if any) exactly as it goes on the wire. */
  payload: Uint8Array;
}

export interface PartRecord {
  /** The store's id for the part, ordered by enqueue time. */
  id: number;
  messageId: string;
  index: number;
  queue: string;
  state: PartState;
  payload: Buffer;
  bindId: string | null;
  epoch: number | null;
  sequenceNumber: number | null;
  /** Canonical form (cleanMessageId in src/protocol/receipt.ts). */
  smscMessageId: string | null;
  /** command_status of the submit_sm_resp. */
  submitStatus: number | null;
  attempts: number;
  notBefore: number;
  claimedUntil: number | null;
  error: StoredError | null;
  receiptStat: string | null;
  receiptErr: string | null;
  receiptDoneAt: number | null;
  updatedAt: number;
}

/** What createMessageSending stored: the parts when they were created `sending` (else queued). */
export interface CreatedSending {
  message: MessageRecord;
  parts?: PartRecord[];
}

/** What came of one submit_sm. */
export type SubmitOutcome =
  | { kind: 'accepted'; smscMessageId: string }
  | { kind: 'rejected'; commandStatus: number; error: StoredError }
  /**
   * Throttled or temporarily refused: queued again, not before `retryAt`. `notAnAttempt`: the send
   * does not count against the part's attempts (throttled: the SMSC asked us to slow down; or never
   * written), so a long throttle cannot use up the retries of a later temporary error.
   */
  | { kind: 'retry'; commandStatus: number; retryAt: number; error?: StoredError; notAnAttempt?: boolean }
  /** No response (timeout): it may or may not have been sent. */
  | { kind: 'unknown'; error: StoredError };

/** A write made on behalf of a bind: the lease epoch it holds. */
export interface Fence {
  bindId: string;
  epoch: number;
}

export interface BindLease extends Fence {
  owner: string;
  expiresAt: number;
  /**
   * Set by acquireBindLease when it took the bind from an older epoch: the messages whose parts it
   * recovered (`sending` → `unknown`, `claimed` → `queued`), so the caller recomputes their status.
   */
  recovered?: string[];
}

/** A lease as every replica sees it (GET /binds shows the owner; ownership counts the shares). */
export interface BindLeaseState extends BindLease {
  /** Still held by the database's clock (expiresAt is in the future). */
  held: boolean;
}

/** A replica that announced itself (heartbeatReplica) and has not expired. */
export interface LiveReplica {
  owner: string;
  expiresAt: number;
}

// ---------------------------------------------------------------------------- receipts

export interface Receipt {
  /** As received; canonicalised by the store. */
  smscMessageId: string;
  bindId: string;
  stat: string;
  err?: string | null;
  doneAt?: number | null;
}

export interface ParkedReceipt extends Receipt {
  id: number;
  receivedAt: number;
  expiresAt: number;
}

// ---------------------------------------------------------------------------- events

export interface MessageEvent {
  messageId: string;
  /** 1, 2, 3… per message, in the order they were appended. */
  seq: number;
  type: string;
  data: unknown;
  createdAt: number;
}

// ---------------------------------------------------------------------------- idempotency

export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

export type IdempotencyBegin =
  /** The caller owns the key now: do the work, then complete (or release) it. */
  | { kind: 'started' }
  /** The first request with this key is still running (HTTP 409). */
  | { kind: 'in_progress' }
  /** The key was used with another request body (HTTP 422). */
  | { kind: 'mismatch' }
  /** Done before: replay this response. */
  | { kind: 'done'; response: StoredResponse };

// ---------------------------------------------------------------------------- inbound

export interface NewInboundPart {
  bindId: string;
  /** Identifies the concatenation group: e.g. `${from}|${to}|${reference}|${total}`. */
  groupKey: string;
  index: number;
  total: number;
  payload: Uint8Array;
  dataCoding: number;
}

export interface InboundPartRecord extends Omit<NewInboundPart, 'payload'> {
  payload: Buffer;
  receivedAt: number;
}

export type InboundProgress =
  | { complete: false; received: number; total: number }
  | { complete: true; parts: InboundPartRecord[] };

export interface NewInboundMessage {
  id: string;
  bindId: string;
  from: string;
  to: string;
  encoding: string;
  body: Uint8Array;
  partsCount: number;
  metadata?: Record<string, unknown> | null;
  /** The route of the bind it came on; null (the default) when the bind is in no route. */
  route?: string | null;
  /** The data_coding of its parts (default 0): `body` is decoded by it. */
  dataCoding?: number;
  /** Parts were still missing when reassembly gave up (default false). */
  incomplete?: boolean;
}

export interface InboundMessageRecord
  extends Omit<NewInboundMessage, 'body' | 'metadata' | 'route' | 'dataCoding' | 'incomplete'> {
  body: Buffer;
  metadata: Record<string, unknown> | null;
  route: string | null;
  dataCoding: number;
  incomplete: boolean;
  receivedAt: number;
}

/** A concatenation group still waiting for parts. */
export interface InboundGroup {
  groupKey: string;
  /** When its first stored part was received. */
  firstReceivedAt: number;
  parts: InboundPartRecord[];
}

/** Where a page of inbound messages starts: after this one (they are ordered by receivedAt, then id). */
export interface InboundCursor {
  receivedAt: number;
  id: string;
}

export interface InboundQuery {
  /** Received at or after (ms). */
  since?: number;
  bindId?: string;
  from?: string;
  after?: InboundCursor;
  limit: number;
}

// ---------------------------------------------------------------------------- webhooks

export const WEBHOOK_STATES = ['pending', 'delivered', 'dead'] as const;
export type WebhookState = (typeof WEBHOOK_STATES)[number];

export interface NewWebhookEvent {
  /** Stable across retries (the `webhook-id` header); generated when left out. */
  eventId?: string;
  /**
   * Claimed by the caller from the start, for this long (ms): it hands the event to its sender
   * after the commit, so no claim of its own is needed. Only for events without an order (no messageId).
   */
  claimForMs?: number;
  /** Events of one message are delivered in order; null = no ordering. */
  messageId: string | null;
  endpoint: string;
  type: string;
  payload: unknown;
  /** First attempt not before; default now. */
  nextAttemptAt?: number;
}

export interface WebhookEvent {
  eventId: string;
  messageId: string | null;
  endpoint: string;
  type: string;
  payload: unknown;
  state: WebhookState;
  attempts: number;
  nextAttemptAt: number;
  claimedUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  /**
   * The payload as stored (JSON text), what the sender posts: set by enqueueWebhook and
   * claimWebhooks, so an event is serialized once, at enqueue (a claimed event's `payload` is then
   * parsed only if read).
   */
  body?: string;
}

export type WebhookOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; retryAt: number; error: string }
  | { kind: 'dead'; error: string };

/** Which events a claim may take: one endpoint's, or those whose endpoint starts with a prefix. */
export interface WebhookClaimFilter {
  endpoint?: string;
  endpointPrefix?: string;
}

export interface WebhookQuery {
  /** `failed`: pending events that failed at least once (waiting for a retry). */
  state?: WebhookState | 'failed';
  endpoint?: string;
  /** The `next` of the previous page. */
  after?: string;
  limit: number;
}

export interface WebhookPage {
  /** Oldest first. */
  events: WebhookEvent[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** Pending events of one endpoint: how many, and since when the oldest waits. */
export interface WebhookBacklog {
  endpoint: string;
  pending: number;
  oldestPendingAt: number;
}

/** An endpoint the bridge stopped sending to (it answered 410 Gone), until re-enabled. */
export interface DisabledWebhookEndpoint {
  endpoint: string;
  disabledAt: number;
  reason: string;
}

// ---------------------------------------------------------------------------- bind definitions

/**
 * A bind created through the API (POST /binds), kept so it survives restarts and every replica
 * sees it. `definition` is the bind as a config-file entry would write it (validated by the
 * caller; the password included, as given: the store is trusted like the config file).
 */
export interface BindDefinition {
  id: string;
  definition: Record<string, unknown>;
  /** false: the bind is kept stopped (PATCH enabled: false). */
  enabled: boolean;
  /** 1 when created, one more on every change. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** What putBindDefinition writes. */
export interface NewBindDefinition {
  id: string;
  definition: Record<string, unknown>;
  enabled: boolean;
}

// ---------------------------------------------------------------------------- the interface

/** Everything that can be done inside a transaction (and, one at a time, on the store). */
export interface StoreOps {
  // messages
  /** Inserts the message and queues its parts on `message.route` (not before `sendAt`). */
  createMessage(message: NewMessage, parts: readonly NewPart[]): Promise<MessageRecord>;
  /**
   * createMessage with its parts created `sending` on the fenced bind (one attempt each, in index
   * order), for a caller that writes their submit_sm as soon as this commits: the queue and the
   * claim are skipped. When the fence does not hold, the parts are queued as createMessage queues
   * them and `parts` is absent. Never for a message with a `sendAt`.
   */
  createMessageSending(message: NewMessage, parts: readonly NewPart[], fence: Fence): Promise<CreatedSending>;
  getMessage(id: string): Promise<MessageRecord | undefined>;
  /** The messages with these ids that exist, in one read (any order). */
  getMessages(ids: readonly string[]): Promise<MessageRecord[]>;
  /**
   * Throws SMPP_ERR_STORE_NOT_FOUND when there is no such message. `current`: the message as this
   * transaction read it, so the store may answer with it patched instead of reading the row back.
   */
  updateMessage(id: string, patch: MessagePatch, current?: MessageRecord): Promise<MessageRecord>;
  listParts(messageId: string): Promise<PartRecord[]>;
  /** A page of messages matching `query`, newest first. */
  listMessages(query: MessageQuery): Promise<MessageRecord[]>;
  /** Cancels a message whose parts are all still queued (see CancelResult). */
  cancelMessage(id: string): Promise<CancelResult>;

  // message events
  appendMessageEvent(messageId: string, type: string, data: unknown): Promise<MessageEvent>;
  listMessageEvents(messageId: string): Promise<MessageEvent[]>;

  // idempotency keys
  /** Takes the key (or reports what it holds). An expired key counts as absent. */
  beginIdempotency(key: string, requestHash: string, ttlMs?: number): Promise<IdempotencyBegin>;
  completeIdempotency(key: string, response: StoredResponse): Promise<void>;
  /** Gives an in-progress key up (the work failed), so a retry may start afresh. */
  releaseIdempotency(key: string): Promise<void>;

  // bind leases (fencing)
  /**
   * Takes the bind when it is free, expired or already this owner's. A new owner gets a
   * higher epoch, and the parts an older epoch left behind are recovered: `claimed` ones
   * are queued again, `sending` ones become `unknown`. Undefined when another owner holds it,
   * unless that owner is `replacing` (the caller knows it is gone): then it is taken at once.
   */
  acquireBindLease(
    bindId: string,
    owner: string,
    ttlMs: number,
    replacing?: string,
  ): Promise<BindLease | undefined>;
  /**
   * acquireBindLease for many binds in one transaction: takes each that is free, expired or
   * already this owner's (never one another owner holds), with a new epoch and the same recovery.
   * Returns the leases taken, in bind id order.
   */
  acquireBindLeases(owner: string, bindIds: readonly string[], ttlMs: number): Promise<BindLease[]>;
  /** Extends the lease; undefined when it was lost (taken over or expired and taken). */
  renewBindLease(lease: BindLease, ttlMs: number): Promise<BindLease | undefined>;
  releaseBindLease(lease: BindLease): Promise<void>;
  /**
   * Renews every lease given that `owner` still holds (same epoch) in one statement, to the
   * database's now + ttlMs; returns those renewed. A lease missing from the answer was lost.
   */
  renewBindLeases(owner: string, leases: readonly Fence[], ttlMs: number): Promise<BindLease[]>;
  /** Every bind lease, held or expired, ordered by bind id. */
  listBindLeases(): Promise<BindLeaseState[]>;

  // replicas (bind ownership)
  /**
   * Announces `owner` as live until the database's now + ttlMs and returns every live replica
   * (this one included), ordered by name. Replicas expired for more than a day are forgotten.
   */
  heartbeatReplica(owner: string, ttlMs: number): Promise<LiveReplica[]>;
  /** Forgets `owner` at once (a clean shutdown), so the others count one replica fewer. */
  leaveReplica(owner: string): Promise<void>;

  // outbound queue (every write is fenced)
  /**
   * The oldest claimable parts of `queue`, claimed for `visibilityMs`, by whole messages: the
   * first `limit` parts name the messages, and every claimable part of those is claimed (so the
   * last message may take the count past `limit`; a message is never split between claimers).
   * A part is held back while an earlier part of its message waits for a retry, and while a
   * sibling is claimed, sending or submitted on another bind (all parts go to one bind).
   */
  claimParts(fence: Fence, queue: string, limit: number, visibilityMs: number): Promise<PartRecord[]>;
  /** Marks a claimed part `sending`, before its submit_sm is written to the socket. */
  markPartSending(fence: Fence, partId: number, sequenceNumber: number): Promise<PartRecord>;
  /**
   * `current`: the part as the caller last had it from the store (its state since then changed only
   * by this caller), so the store may answer with it updated instead of reading the row back.
   */
  recordSubmitOutcome(
    fence: Fence,
    partId: number,
    outcome: SubmitOutcome,
    current?: PartRecord,
  ): Promise<PartRecord>;
  /** Claimed (not yet sending) parts go back to the queue, e.g. when the bind drops. */
  releaseParts(fence: Fence, partIds: readonly number[]): Promise<void>;
  /** Parts not settled yet (queued, claimed or sending) of messages whose status is not final: the queue bound. */
  countOpenParts(): Promise<number>;
  /**
   * Up to `limit` messages not final, with a validity, that still have a part not yet sent
   * (queued or claimed) and whose validity ran out: (sendAt ?? createdAt) + validityMs <= now.
   */
  listMessagesPastValidity(now: number, limit: number): Promise<MessageRecord[]>;

  // receipts
  /** Applies a receipt to the part with that SMSC id; undefined when none matches yet (park it). */
  recordReceipt(receipt: Receipt): Promise<PartRecord | undefined>;
  parkReceipt(receipt: Receipt, ttlMs?: number): Promise<ParkedReceipt>;
  /** Removes and returns the unexpired receipts parked for that SMSC id. */
  takeParkedReceipts(smscMessageId: string): Promise<ParkedReceipt[]>;

  // inbound (MO)
  /** Stores a part (a duplicate index is ignored) and reports whether its group is complete. */
  addInboundPart(part: NewInboundPart): Promise<InboundProgress>;
  /** Stores the message; with `groupKey`, the group's parts are removed in the same transaction. */
  createInboundMessage(message: NewInboundMessage, groupKey?: string): Promise<InboundMessageRecord>;
  getInboundMessage(id: string): Promise<InboundMessageRecord | undefined>;
  /** Oldest first (receivedAt, then id), at most `query.limit`. */
  listInboundMessages(query: InboundQuery): Promise<InboundMessageRecord[]>;
  /**
   * Groups whose first part was received before `receivedBefore`, oldest first, at most `limit`.
   * Call it inside the transaction that delivers them, so a part arriving meanwhile is not lost.
   */
  listStaleInboundGroups(receivedBefore: number, limit: number): Promise<InboundGroup[]>;
  /**
   * Remembers a deliver_sm's fingerprint for `windowMs`: true when it is new (or its window
   * passed), false when it was seen within the window (a redelivery). Inside the transaction
   * that stores the PDU, so a failed store forgets it again.
   */
  recordInboundFingerprint(fingerprint: string, windowMs: number): Promise<boolean>;

  // webhook outbox
  enqueueWebhook(event: NewWebhookEvent): Promise<WebhookEvent>;
  /**
   * Up to `limit` due events (of the endpoints `filter` names; all without it), claimed for
   * `visibilityMs`. An event is claimable only when every earlier event of its message to the
   * same endpoint is delivered or dead (a message's events reach each endpoint in order; an
   * endpoint that is down holds back no other endpoint).
   */
  claimWebhooks(limit: number, visibilityMs: number, filter?: WebhookClaimFilter): Promise<WebhookEvent[]>;
  recordWebhookOutcome(eventId: string, outcome: WebhookOutcome): Promise<WebhookEvent>;
  /**
   * Marks many pending events delivered in one statement (the common outcome, recorded in bulk);
   * resolves with the ids that were not pending (their claim ran out and another attempt recorded
   * first, or unknown): nothing was written for those.
   */
  recordWebhooksDelivered(eventIds: readonly string[]): Promise<string[]>;
  getWebhook(eventId: string): Promise<WebhookEvent | undefined>;
  /** Events by state and endpoint, oldest first, a page at a time. */
  listWebhooks(query: WebhookQuery): Promise<WebhookPage>;
  /**
   * A dead event pending again, due now, its attempts counted afresh (the retry schedule restarts).
   * SMPP_ERR_STORE_NOT_FOUND when there is none, SMPP_ERR_STORE_CONFLICT when it is not dead.
   */
  retryWebhook(eventId: string): Promise<WebhookEvent>;
  /** Pending events per endpoint (endpoints with none are left out). */
  webhookBacklog(): Promise<WebhookBacklog[]>;
  /** Disables the endpoint (durably) with `reason`, or enables it again with null. */
  setWebhookEndpointDisabled(endpoint: string, reason: string | null): Promise<void>;
  listDisabledWebhookEndpoints(): Promise<DisabledWebhookEndpoint[]>;

  // bind definitions (the bind management API)
  /** Every stored bind definition, by id. */
  listBindDefinitions(): Promise<BindDefinition[]>;
  getBindDefinition(id: string): Promise<BindDefinition | undefined>;
  /**
   * Creates (`expectedVersion` null: the id must be free) or replaces (`expectedVersion` the
   * version read: nobody changed it since) a definition; the version goes up by one.
   * SMPP_ERR_STORE_CONFLICT when the expectation does not hold.
   */
  putBindDefinition(definition: NewBindDefinition, expectedVersion: number | null): Promise<BindDefinition>;
  /** Removes it; false when there was none. */
  deleteBindDefinition(id: string): Promise<boolean>;
}

/** What a transaction's function gets: every operation, inside the transaction, and a commit hook. */
export interface StoreTx extends StoreOps {
  /**
   * Runs `fn` once this transaction committed (durably, as the store answers its callers), never
   * when it rolled back: for work that must not start before the commit, e.g. handing events
   * claimed in the transaction to their sender. `fn` must not throw.
   */
  afterCommit(fn: () => void): void;
}

export interface PruneResult {
  messages: number;
  idempotencyKeys: number;
  parkedReceipts: number;
  inboundMessages: number;
  inboundParts: number;
  /** Redelivery fingerprints whose window passed. */
  inboundFingerprints: number;
  webhooks: number;
}

export interface StoreHealth {
  ok: boolean;
  /** How long the check's write took, ms. */
  latencyMs: number;
  error?: string;
}

export interface StoreStats {
  /** Transactions committed (one per group). */
  commits: number;
  /** Units of work (transactions asked for) committed. */
  units: number;
  /** The largest group committed. */
  maxGroupSize: number;
  failedCommits: number;
  /**
   * The longest a transaction held the writer, ms. On SQLite (synchronous) that is also how
   * long it blocked the event loop.
   */
  longestGroupMs: number;
  /** Total time transactions held the writer, ms (busyMs / commits = the mean). */
  busyMs: number;
  /** Of busyMs, the time spent committing (with synchronous=FULL, mostly the fsync). */
  commitMs: number;
  /** SQLite with WAL checkpoints in a child process (src/store/checkpointer.ts); absent elsewhere. */
  checkpoints?: {
    /** Checkpoints the child ran. */
    count: number;
    /** Time the child spent checkpointing, ms. */
    totalMs: number;
    /** Times the writer went back to checkpointing itself (the child failed or fell behind). */
    fallbacks: number;
    /** Where checkpoints run now: 'inline' means in COMMIT, on the event loop. */
    mode: 'child' | 'inline';
  };
}

export interface Store extends StoreOps {
  /**
   * Runs `fn` atomically. Its promise resolves after the commit returned; if `fn` throws,
   * none of its writes remain and the error is passed on. Keep `fn` to store calls:
   * awaiting anything else holds the writer.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Whether the store accepts writes now (a small write goes through the writer). */
  healthCheck(): Promise<StoreHealth>;
  /**
   * Removes what is finished and older than the retention: final messages (with their
   * parts and events), expired idempotency keys and parked receipts, settled webhooks,
   * old inbound messages and abandoned inbound parts.
   */
  prune(now: number): Promise<PruneResult>;
  stats(): StoreStats;
  /**
   * Who holds or last held a bind's lease (expired or not); undefined when nobody ever did.
   * Optional: a store without it only hands over leases on expiry.
   */
  bindLeaseHolder?(bindId: string): Promise<{ owner: string; expiresAt: number } | undefined>;
  /** Commits what is queued, then closes. Later calls reject with SMPP_ERR_STORE_CLOSED. */
  close(): Promise<void>;
}

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_PARKED_RECEIPT_TTL_MS = 10 * 60 * 1000;
export const DEFAULT_RETENTION_DAYS = 7;
/** A replica expired for longer than this is forgotten by the next heartbeat. */
export const REPLICA_FORGET_MS = 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
export const retentionMs = (days: number): number => days * DAY_MS;
