/**
 * The Store on SQLite (better-sqlite3): one writer connection in WAL mode, whose work goes
 * through the group-commit queue, and one reader connection that sees committed data only.
 * `synchronous=FULL` by default (a commit survives power loss); `NORMAL` survives process
 * crashes but may lose the last commits on power loss. 'full' fsyncs the WAL in libuv's thread pool
 * (wal-sync.ts: `fsyncOffLoop`, the default), not in COMMIT on the event loop: callers are answered,
 * and readers see a commit, only once that fsync is done.
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { SmppError } from '../errors.js';
import { cleanMessageId } from '../protocol/receipt.js';
import { AfterCommitHooks, runWithAfterCommit } from './after-commit.js';
import {
  Checkpointer,
  type CheckpointerOptions,
  type CheckpointLog,
  type CheckpointMode,
} from './checkpointer.js';
import {
  conflictError,
  fencedError,
  migrationError,
  notFoundError,
  openError,
  storeClosedError,
} from './errors.js';
import { fingerprintKey } from './fingerprint-key.js';
import { type Committer, GroupCommitQueue } from './group-commit.js';
import {
  bytes,
  json,
  parseJson,
  type Row,
  sendingPart,
  toClaimedWebhook,
  toInboundMessage,
  toLeaseState,
  toMessage,
  toParked,
  toPart,
  toWebhook,
} from './rows.js';
import {
  FINISHED_WEBHOOK,
  HELD_PART,
  MIGRATIONS,
  OPEN_PART,
  SCHEMA_VERSION_TABLE,
  SQLITE_TYPES,
} from './schema.js';
import { openDatabase, prepare } from './sqlite-native.js';
import {
  type BindDefinition,
  type BindLease,
  type BindLeaseState,
  type CancelResult,
  type CreatedSending,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_PARKED_RECEIPT_TTL_MS,
  DEFAULT_RETENTION_DAYS,
  type DisabledWebhookEndpoint,
  type Fence,
  FINAL_MESSAGE_STATUSES,
  type IdempotencyBegin,
  type InboundGroup,
  type InboundMessageRecord,
  type InboundPartRecord,
  type InboundProgress,
  type InboundQuery,
  type LiveReplica,
  type MessageEvent,
  type MessagePatch,
  type MessageQuery,
  type MessageRecord,
  type NewBindDefinition,
  type NewInboundMessage,
  type NewInboundPart,
  type NewMessage,
  type NewPart,
  type NewWebhookEvent,
  type ParkedReceipt,
  type PartRecord,
  type PartState,
  type PruneResult,
  REPLICA_FORGET_MS,
  type Receipt,
  retentionMs,
  type Store,
  type StoredResponse,
  type StoreHealth,
  type StoreStats,
  type StoreTx,
  type SubmitOutcome,
  type WebhookBacklog,
  type WebhookClaimFilter,
  type WebhookEvent,
  type WebhookOutcome,
  type WebhookPage,
  type WebhookQuery,
  type WebhookState,
} from './store.js';
import { newWebhookEventId } from './time-ordered-id.js';
import { WalSync } from './wal-sync.js';
import { webhookListing } from './webhook-listing.js';

export type SqliteSynchronous = 'full' | 'normal';

export interface SqliteStoreOptions {
  /** The database file; its directory is created. */
  path: string;
  /** default 'full'. */
  synchronous?: SqliteSynchronous;
  /** Finished messages are pruned after this many days. default 7. */
  retentionDays?: number;
  /** Wall-clock milliseconds; injected by tests. default Date.now. */
  now?: () => number;
  /** Most units per transaction. default DEFAULT_MAX_GROUP_SIZE. */
  maxGroupSize?: number;
  /** Stop adding units to a group after this long. default 1 ms. */
  maxGroupMs?: number;
  /** While commits are slower (the fsync), a group may run as long as they take, up to this. default DEFAULT_SLOW_COMMIT_GROUP_MS. */
  slowCommitGroupMs?: number;
  /**
   * With synchronous 'full': COMMIT does not fsync on the event loop; WalSync fsyncs the WAL in the
   * thread pool and callers are answered after it, while the next group runs. Reads wait for the
   * fsync in flight, so no reader sees a commit before it is durable. default true; false: SQLite
   * fsyncs inside COMMIT, on the event loop.
   */
  fsyncOffLoop?: boolean;
  /** Fault injection for tests: called before each COMMIT; a throw fails that commit. */
  beforeCommit?: () => void;
  /**
   * Where WAL checkpoints run. 'child' (default): a child process copies the WAL into the database
   * file, off the event loop (checkpointer.ts; falls back to 'inline' with a warning if it fails).
   * 'inline': SQLite's automatic checkpoint, inside a COMMIT every 1000 WAL pages, on the loop.
   */
  checkpoint?: CheckpointMode;
  /** Tuning of the 'child' checkpointer (tests). */
  checkpointOptions?: Omit<CheckpointerOptions, 'path' | 'setAutocheckpoint' | 'log'>;
  /** Where the store logs (the checkpointer's warnings and debug lines). default: process warnings. */
  logger?: CheckpointLog;
}

const PROCESS_WARNINGS: CheckpointLog = {
  debug: () => undefined,
  warn: (_obj, msg) => process.emitWarning(msg),
};

/**
 * Measured (bench/store): a group of 64 single-message writes commits in well under 2 ms of
 * event-loop time on this machine; the 1 ms time budget bounds slower disks.
 */
export const DEFAULT_MAX_GROUP_SIZE = 64;
export const DEFAULT_MAX_GROUP_MS = 1;
/**
 * With synchronous=FULL the fsync in COMMIT blocks the event loop (1–3 ms on this machine when
 * quiet, 10–35 ms under load): groups then run up to as long as their commits take, at most this
 * (bench/messages: units per commit).
 */
export const DEFAULT_SLOW_COMMIT_GROUP_MS = 10;

/** Rows removed per prune transaction, so a large prune never blocks the loop for long. */
const PRUNE_CHUNK = 200;

type Db = Database.Database;

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}

export class SqliteStore implements Store {
  private readonly writer: Db;
  private readonly reader: Db;
  private readonly queue: GroupCommitQueue<SqliteOps>;
  private readonly reads: SqliteOps;
  private readonly now: () => number;
  private readonly retentionMs: number;
  /** synchronous 'full': the WAL is fsynced off the event loop after each commit. */
  private readonly walSync: WalSync | undefined;
  /** checkpoint 'child': WAL checkpoints in a child process. */
  private readonly checkpointer: Checkpointer | undefined;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    const { path } = options;
    if (path === ':memory:' || path === '') {
      throw openError(path, new Error('the store needs a file (it opens a reader and a writer)'));
    }
    this.now = options.now ?? Date.now;
    this.retentionMs = retentionMs(options.retentionDays ?? DEFAULT_RETENTION_DAYS);
    let writer: Db | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      // Native objects only through sqlite-native.ts (no db.pragma(): see there why).
      writer = openDatabase(path);
      const mode = prepare(writer, 'PRAGMA journal_mode = WAL').pluck().get();
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
      // 'full': SQLite itself does not fsync on COMMIT (NORMAL); WalSync fsyncs the WAL in the
      // thread pool and the group commit answers the callers only after that (wal-sync.ts).
      writer.exec(
        `PRAGMA synchronous = ${options.fsyncOffLoop !== false ? 'NORMAL' : (options.synchronous ?? 'full').toUpperCase()}`,
      );
      writer.exec('PRAGMA foreign_keys = ON');
      tuneConnection(writer);
      if ((options.checkpoint ?? 'child') === 'child') writer.exec('PRAGMA wal_autocheckpoint = 0');
      migrate(writer, this.now());
    } catch (error) {
      writer?.close();
      throw error instanceof SmppError ? error : openError(path, error);
    }
    this.writer = writer;
    try {
      this.reader = openDatabase(path, { readonly: true });
      tuneConnection(this.reader);
    } catch (error) {
      writer.close();
      throw openError(path, error);
    }
    this.reads = new SqliteOps(new Statements(this.reader), this.now, () => {
      if (this.closed) throw storeClosedError();
    });

    this.walSync =
      options.fsyncOffLoop !== false && (options.synchronous ?? 'full') === 'full'
        ? new WalSync(`${path}-wal`)
        : undefined;
    const walSync = this.walSync;
    this.checkpointer =
      (options.checkpoint ?? 'child') === 'child'
        ? new Checkpointer({
            ...options.checkpointOptions,
            path,
            setAutocheckpoint: (frames) => this.writer.exec(`PRAGMA wal_autocheckpoint = ${frames}`),
            log: options.logger ?? PROCESS_WARNINGS,
          })
        : undefined;
    const checkpointer = this.checkpointer;
    const writes = new Statements(this.writer);
    const beforeCommit = options.beforeCommit;
    const committer: Committer<SqliteOps> = {
      begin: () => writes.exec('BEGIN IMMEDIATE'),
      savepoint: () => writes.exec('SAVEPOINT unit'),
      releaseSavepoint: () => writes.exec('RELEASE unit'),
      rollbackToSavepoint: () => writes.exec('ROLLBACK TO unit'),
      commit: () => {
        beforeCommit?.();
        writes.exec('COMMIT');
        checkpointer?.afterCommit();
      },
      rollback: () => writes.exec('ROLLBACK'),
      inTransaction: () => this.writer.inTransaction,
      ...(walSync ? { durable: () => walSync.sync() } : {}),
      ...(checkpointer ? { gate: () => checkpointer.waitForGate() } : {}),
      openTx: () => {
        let open = true;
        const tx = new SqliteOps(writes, this.now, () => {
          if (!open) throw conflictError('this transaction has ended; use the tx only inside its function');
        });
        return {
          tx,
          end: () => {
            open = false;
          },
        };
      },
    };
    this.queue = new GroupCommitQueue(committer, {
      maxGroupSize: options.maxGroupSize ?? DEFAULT_MAX_GROUP_SIZE,
      maxGroupMs: options.maxGroupMs ?? DEFAULT_MAX_GROUP_MS,
      slowCommitGroupMs: options.slowCommitGroupMs ?? DEFAULT_SLOW_COMMIT_GROUP_MS,
    });
  }

  /**
   * A read on the reader connection, once the fsync in flight (if any) is done: a commit is seen
   * only once it is durable, as its callers are answered (with SQLite fsyncing in COMMIT, it is at once).
   */
  private read<T>(fn: () => Promise<T>): Promise<T> {
    const barrier = this.walSync?.barrier();
    return barrier === undefined ? fn() : barrier.then(fn, fn);
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return runWithAfterCommit<SqliteOps, T>((unit) => this.queue.run(unit), fn);
  }

  async healthCheck(): Promise<StoreHealth> {
    const startedAt = performance.now();
    try {
      await this.queue.run(() => undefined);
      return { ok: true, latencyMs: performance.now() - startedAt };
    } catch (error) {
      return {
        ok: false,
        latencyMs: performance.now() - startedAt,
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }

  async prune(now: number): Promise<PruneResult> {
    const cutoff = now - this.retentionMs;
    const finals = [...FINAL_MESSAGE_STATUSES].map((s) => `'${s}'`).join(', ');
    const chunks: [keyof PruneResult, string, number][] = [
      [
        'messages',
        `DELETE FROM messages WHERE id IN (SELECT id FROM messages
           WHERE status IN (${finals}) AND updated_at < ? LIMIT ${PRUNE_CHUNK})`,
        cutoff,
      ],
      [
        'webhooks',
        `DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events
           WHERE ${FINISHED_WEBHOOK} AND updated_at < ? LIMIT ${PRUNE_CHUNK})`,
        cutoff,
      ],
      [
        'idempotencyKeys',
        `DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys
           WHERE expires_at <= ? LIMIT ${PRUNE_CHUNK})`,
        now,
      ],
      [
        'parkedReceipts',
        `DELETE FROM parked_receipts WHERE id IN (SELECT id FROM parked_receipts
           WHERE expires_at <= ? LIMIT ${PRUNE_CHUNK})`,
        now,
      ],
      [
        'inboundMessages',
        `DELETE FROM inbound_messages WHERE id IN (SELECT id FROM inbound_messages
           WHERE received_at < ? LIMIT ${PRUNE_CHUNK})`,
        cutoff,
      ],
      [
        'inboundParts',
        `DELETE FROM inbound_parts WHERE group_key IN (SELECT group_key FROM inbound_parts
           WHERE received_at < ? LIMIT ${PRUNE_CHUNK})`,
        cutoff,
      ],
      [
        'inboundFingerprints',
        `DELETE FROM inbound_fingerprints WHERE key IN (SELECT key FROM inbound_fingerprints
           WHERE expires_at <= ? LIMIT ${PRUNE_CHUNK})`,
        now,
      ],
    ];
    const result: PruneResult = {
      messages: 0,
      idempotencyKeys: 0,
      parkedReceipts: 0,
      inboundMessages: 0,
      inboundParts: 0,
      inboundFingerprints: 0,
      webhooks: 0,
    };
    for (const [key, sql, bound] of chunks) {
      for (;;) {
        // One transaction per chunk: the event loop gets a turn between them.
        const removed = await this.queue.run((tx) => (tx as SqliteOps).deleteChunk(sql, bound));
        result[key] += removed;
        if (removed < PRUNE_CHUNK) break;
      }
    }
    return result;
  }

  stats(): StoreStats {
    const c = this.checkpointer;
    if (c === undefined) return this.queue.stats();
    const { checkpoints, totalMs, fallbacks } = c.stats();
    return {
      ...this.queue.stats(),
      checkpoints: { count: checkpoints, totalMs, fallbacks, mode: c.currentMode() },
    };
  }

  /** The checkpoint child's counters, pid and mode (undefined with checkpoint 'inline'). */
  checkpoints() {
    const c = this.checkpointer;
    return c === undefined ? undefined : { ...c.stats(), pid: c.childPid(), mode: c.currentMode() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close();
    await this.checkpointer?.close();
    this.walSync?.close();
    // Finalizes every statement of both connections; their JS wrappers stay retained by
    // sqlite-native.ts, so no GC finalizes one later (that aborts the process on Node 24).
    this.reader.close();
    this.writer.close();
  }

  // Writes: each its own unit of work (grouped with its neighbours).
  createMessage(message: NewMessage, parts: readonly NewPart[]) {
    return this.queue.run((tx) => tx.createMessage(message, parts));
  }
  createMessageSending(message: NewMessage, parts: readonly NewPart[], fence: Fence) {
    return this.queue.run((tx) => tx.createMessageSending(message, parts, fence));
  }
  updateMessage(id: string, patch: MessagePatch) {
    return this.queue.run((tx) => tx.updateMessage(id, patch));
  }
  appendMessageEvent(messageId: string, type: string, data: unknown) {
    return this.queue.run((tx) => tx.appendMessageEvent(messageId, type, data));
  }
  beginIdempotency(key: string, requestHash: string, ttlMs?: number) {
    return this.queue.run((tx) => tx.beginIdempotency(key, requestHash, ttlMs));
  }
  completeIdempotency(key: string, response: StoredResponse) {
    return this.queue.run((tx) => tx.completeIdempotency(key, response));
  }
  releaseIdempotency(key: string) {
    return this.queue.run((tx) => tx.releaseIdempotency(key));
  }
  acquireBindLease(bindId: string, owner: string, ttlMs: number, replacing?: string) {
    return this.queue.run((tx) => tx.acquireBindLease(bindId, owner, ttlMs, replacing));
  }
  bindLeaseHolder(bindId: string) {
    return this.read(() => this.reads.bindLeaseHolder(bindId));
  }
  renewBindLease(lease: BindLease, ttlMs: number) {
    return this.queue.run((tx) => tx.renewBindLease(lease, ttlMs));
  }
  releaseBindLease(lease: BindLease) {
    return this.queue.run((tx) => tx.releaseBindLease(lease));
  }
  renewBindLeases(owner: string, leases: readonly Fence[], ttlMs: number) {
    return this.queue.run((tx) => tx.renewBindLeases(owner, leases, ttlMs));
  }
  acquireBindLeases(owner: string, bindIds: readonly string[], ttlMs: number) {
    return this.queue.run((tx) => tx.acquireBindLeases(owner, bindIds, ttlMs));
  }
  listBindLeases() {
    return this.read(() => this.reads.listBindLeases());
  }
  heartbeatReplica(owner: string, ttlMs: number) {
    return this.queue.run((tx) => tx.heartbeatReplica(owner, ttlMs));
  }
  leaveReplica(owner: string) {
    return this.queue.run((tx) => tx.leaveReplica(owner));
  }
  claimParts(fence: Fence, queue: string, limit: number, visibilityMs: number) {
    return this.queue.run((tx) => tx.claimParts(fence, queue, limit, visibilityMs));
  }
  markPartSending(fence: Fence, partId: number, sequenceNumber: number) {
    return this.queue.run((tx) => tx.markPartSending(fence, partId, sequenceNumber));
  }
  recordSubmitOutcome(fence: Fence, partId: number, outcome: SubmitOutcome) {
    return this.queue.run((tx) => tx.recordSubmitOutcome(fence, partId, outcome));
  }
  releaseParts(fence: Fence, partIds: readonly number[]) {
    return this.queue.run((tx) => tx.releaseParts(fence, partIds));
  }
  countOpenParts() {
    return this.read(() => this.reads.countOpenParts());
  }
  listMessagesPastValidity(now: number, limit: number) {
    return this.read(() => this.reads.listMessagesPastValidity(now, limit));
  }
  recordReceipt(receipt: Receipt) {
    return this.queue.run((tx) => tx.recordReceipt(receipt));
  }
  parkReceipt(receipt: Receipt, ttlMs?: number) {
    return this.queue.run((tx) => tx.parkReceipt(receipt, ttlMs));
  }
  takeParkedReceipts(smscMessageId: string) {
    return this.queue.run((tx) => tx.takeParkedReceipts(smscMessageId));
  }
  addInboundPart(part: NewInboundPart) {
    return this.queue.run((tx) => tx.addInboundPart(part));
  }
  createInboundMessage(message: NewInboundMessage, groupKey?: string) {
    return this.queue.run((tx) => tx.createInboundMessage(message, groupKey));
  }
  recordInboundFingerprint(fingerprint: string, windowMs: number) {
    return this.queue.run((tx) => tx.recordInboundFingerprint(fingerprint, windowMs));
  }
  enqueueWebhook(event: NewWebhookEvent) {
    return this.queue.run((tx) => tx.enqueueWebhook(event));
  }
  claimWebhooks(limit: number, visibilityMs: number, filter?: WebhookClaimFilter) {
    return this.queue.run((tx) => tx.claimWebhooks(limit, visibilityMs, filter));
  }
  recordWebhookOutcome(eventId: string, outcome: WebhookOutcome) {
    return this.queue.run((tx) => tx.recordWebhookOutcome(eventId, outcome));
  }
  recordWebhooksDelivered(eventIds: readonly string[]) {
    return this.queue.run((tx) => tx.recordWebhooksDelivered(eventIds));
  }
  retryWebhook(eventId: string) {
    return this.queue.run((tx) => tx.retryWebhook(eventId));
  }
  setWebhookEndpointDisabled(endpoint: string, reason: string | null) {
    return this.queue.run((tx) => tx.setWebhookEndpointDisabled(endpoint, reason));
  }
  putBindDefinition(definition: NewBindDefinition, expectedVersion: number | null) {
    return this.queue.run((tx) => tx.putBindDefinition(definition, expectedVersion));
  }
  deleteBindDefinition(id: string) {
    return this.queue.run((tx) => tx.deleteBindDefinition(id));
  }

  // Reads: the reader connection, committed data only.
  getMessage(id: string) {
    return this.read(() => this.reads.getMessage(id));
  }
  getMessages(ids: readonly string[]) {
    return this.read(() => this.reads.getMessages(ids));
  }
  listParts(messageId: string) {
    return this.read(() => this.reads.listParts(messageId));
  }
  listMessages(query: MessageQuery) {
    return this.read(() => this.reads.listMessages(query));
  }
  cancelMessage(id: string) {
    return this.queue.run((tx) => tx.cancelMessage(id));
  }
  listMessageEvents(messageId: string) {
    return this.read(() => this.reads.listMessageEvents(messageId));
  }
  getInboundMessage(id: string) {
    return this.read(() => this.reads.getInboundMessage(id));
  }
  listInboundMessages(query: InboundQuery) {
    return this.read(() => this.reads.listInboundMessages(query));
  }
  listStaleInboundGroups(receivedBefore: number, limit: number) {
    return this.read(() => this.reads.listStaleInboundGroups(receivedBefore, limit));
  }
  getWebhook(eventId: string) {
    return this.read(() => this.reads.getWebhook(eventId));
  }
  listWebhooks(query: WebhookQuery) {
    return this.read(() => this.reads.listWebhooks(query));
  }
  webhookBacklog() {
    return this.read(() => this.reads.webhookBacklog());
  }
  listDisabledWebhookEndpoints() {
    return this.read(() => this.reads.listDisabledWebhookEndpoints());
  }
  listBindDefinitions() {
    return this.read(() => this.reads.listBindDefinitions());
  }
  getBindDefinition(id: string) {
    return this.read(() => this.reads.getBindDefinition(id));
  }
}

/** Receipt words that are not an outcome (message-status.ts PART_OUTCOME_BY_STAT: pending). */
const PENDING_RECEIPT_STATS_SQL = ['SCHEDLD', 'ENROUTE', 'ACCEPTD'].map((s) => `'${s}'`).join(', ');

// ---------------------------------------------------------------------------- migrations

function migrate(db: Db, now: number): void {
  db.exec(SCHEMA_VERSION_TABLE);
  const row = prepare(db, 'SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  const current = row.v ?? 0;
  const known = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > known) {
    throw migrationError(
      `the store is at schema version ${current}, newer than this version of smpp-bridge knows (${known})`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    // BEGIN/COMMIT by hand: db.transaction() prepares native statements of its own (sqlite-native.ts).
    db.exec('BEGIN');
    try {
      for (const sql of migration.statements(SQLITE_TYPES)) db.exec(sql);
      prepare(db, 'INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        now,
      );
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw migrationError(`migration ${migration.version} (${migration.name}) failed`, error);
    }
  }
}

// ---------------------------------------------------------------------------- operations

/** Page cache per connection (writer and reader), in KiB: 32 MiB, allocated as pages are used. */
const PAGE_CACHE_KIB = 32 * 1024;

/** What the writer and the reader share: lock wait, page cache, temporary storage. */
function tuneConnection(db: Db): void {
  db.exec('PRAGMA busy_timeout = 5000');
  // SQLite's default page cache is 2 MB: the hot pages of the queue, its indexes and the
  // events of a busy gateway do not fit, and every miss is a read from the OS. Grown on use.
  db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
  // Temporary storage in memory: every statement with RETURNING (most writes here) builds a
  // temporary table of its rows, and with SQLite's default (a temp file) its pages are
  // allocated and released statement by statement; measured (bench/README, messages-statements):
  // the part and message updates and event inserts 35–50 % faster, SQL per message −10–20 %.
  db.exec('PRAGMA temp_store = MEMORY');
}

/** Prepared statements of one connection, prepared once each. */
/** The part's message has a final status (canceled, failed, …): its queued parts are never sent. */
const MESSAGE_FINAL = `EXISTS (SELECT 1 FROM messages m WHERE m.id = p.message_id AND m.status IN (${[
  ...FINAL_MESSAGE_STATUSES,
]
  .map((s) => `'${s}'`)
  .join(', ')}))`;
/**
 * A part that may be claimed now (parameters: queue, now, now). Only for statements that find the
 * parts by message id: the unary `+` keeps SQLite from walking the queue's index instead (without
 * table statistics it prefers it, and that walk reads every part the queue ever had).
 */
const CLAIMABLE = `+p.queue = ? AND ((p.state = 'queued' AND p.not_before <= ?) OR (p.state = 'claimed' AND p.claimed_until <= ?))
  AND NOT ${MESSAGE_FINAL}`;
/** …and not held back by a sibling (parameters: now, bindId, now). */
const NOT_HELD = `NOT EXISTS (SELECT 1 FROM message_parts s WHERE s.message_id = p.message_id AND s.id <> p.id AND (
    (s.part_index < p.part_index AND s.state = 'queued' AND s.not_before > ?)
    OR (s.bind_id IS NOT NULL AND s.bind_id <> ? AND (s.state IN ('sending', 'submitted')
        OR (s.state = 'claimed' AND s.claimed_until > ?)))))`;
/**
 * The first `limit` claimable parts in queue order, as two walks of the (queue, state, id) index
 * (queued and due; claimed and expired) that stop at the limit, merged by id: one query with an OR
 * of the two states sorted every queued row of the queue first.
 */
const QUEUED_CANDIDATES_SQL = `SELECT p.id, p.message_id FROM message_parts p
  WHERE p.queue = ? AND p.state = 'queued' AND p.not_before <= ? AND NOT ${MESSAGE_FINAL} AND ${NOT_HELD}
  ORDER BY p.id LIMIT ?`;
const EXPIRED_CANDIDATES_SQL = `SELECT p.id, p.message_id FROM message_parts p
  WHERE p.queue = ? AND p.state = 'claimed' AND p.claimed_until <= ? AND NOT ${MESSAGE_FINAL} AND ${NOT_HELD}
  ORDER BY p.id LIMIT ?`;
/** Claims every claimable part of several messages (a JSON array of their ids) in one statement. */
const CLAIM_MESSAGES_PARTS_SQL = `UPDATE message_parts SET state = 'claimed', bind_id = ?, epoch = ?, claimed_until = ?, updated_at = ?
  WHERE id IN (SELECT p.id FROM message_parts p
    WHERE p.message_id IN (SELECT value FROM json_each(?)) AND ${CLAIMABLE} AND ${NOT_HELD})
  RETURNING *`;
/** The fence as a condition of the write itself (parameters: bindId, epoch). */
const FENCE_HOLDS = 'EXISTS (SELECT 1 FROM bind_leases l WHERE l.bind_id = ? AND l.epoch = ?)';
/** A part this fence holds (parameters: id, bindId, epoch, then FENCE_HOLDS's). */
const OWNED_BY_FENCE = `id = ? AND bind_id = ? AND epoch = ? AND ${FENCE_HOLDS}`;
const MARK_SENDING_SQL = `UPDATE message_parts SET state = 'sending', sequence_number = ?, attempts = attempts + 1,
    claimed_until = NULL, updated_at = ?
  WHERE ${OWNED_BY_FENCE} AND state = 'claimed' RETURNING *`;
/** Outcomes apply to a part sending, or unknown (a late response after a timeout). */
const OUTCOME_WHERE = `WHERE ${OWNED_BY_FENCE} AND state IN ('sending', 'unknown') RETURNING *`;
const OUTCOME_ACCEPTED_SQL = `UPDATE message_parts SET state = 'submitted', smsc_message_id = ?, submit_status = 0,
    error_code = NULL, error_message = NULL, updated_at = ? ${OUTCOME_WHERE}`;
/** …without RETURNING, for a caller that knows the part (recordSubmitOutcome's `current`). */
const OUTCOME_ACCEPTED_QUIET_SQL = OUTCOME_ACCEPTED_SQL.replace(' RETURNING *', '');
const OUTCOME_REJECTED_SQL = `UPDATE message_parts SET state = 'rejected', submit_status = ?, error_code = ?,
    error_message = ?, updated_at = ? ${OUTCOME_WHERE}`;
const OUTCOME_RETRY_SQL = `UPDATE message_parts SET state = 'queued', bind_id = NULL, epoch = NULL, not_before = ?,
    submit_status = ?, error_code = ?, error_message = ?, attempts = MAX(attempts - ?, 0), updated_at = ? ${OUTCOME_WHERE}`;
const OUTCOME_UNKNOWN_SQL = `UPDATE message_parts SET state = 'unknown', error_code = ?, error_message = ?,
    updated_at = ? ${OUTCOME_WHERE}`;
/** A patch in one statement: each field is set only when its flag is 1 (status: when not null). */
const UPDATE_MESSAGE_SQL = `UPDATE messages SET status = COALESCE(?, status),
    error_code = CASE WHEN ? THEN ? ELSE error_code END,
    error_message = CASE WHEN ? THEN ? ELSE error_message END,
    metadata = CASE WHEN ? THEN ? ELSE metadata END,
    updated_at = ?
  WHERE id = ? RETURNING *`;
const UPDATE_MESSAGE_QUIET_SQL = UPDATE_MESSAGE_SQL.replace(' RETURNING *', '');
/** The next seq of the message, read by the INSERT itself. */
const APPEND_EVENT_SQL = `INSERT INTO message_events (message_id, seq, type, data, created_at)
  SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM message_events WHERE message_id = ?
  RETURNING seq`;

/** Applies a receipt unless the part already has a final one (parameters: stat, err, doneAt, now, smsc id). */
const RECEIPT_APPLIES = `(receipt_stat IS NULL OR receipt_stat IN (${PENDING_RECEIPT_STATS_SQL}))`;
const RECORD_RECEIPT_SQL = `UPDATE message_parts SET
    (receipt_stat, receipt_err, receipt_done_at, updated_at) = (SELECT
      CASE WHEN ${RECEIPT_APPLIES} THEN r.stat ELSE receipt_stat END,
      CASE WHEN ${RECEIPT_APPLIES} THEN r.err ELSE receipt_err END,
      CASE WHEN ${RECEIPT_APPLIES} THEN r.done_at ELSE receipt_done_at END,
      CASE WHEN ${RECEIPT_APPLIES} THEN r.now ELSE updated_at END
      FROM (SELECT ? AS stat, ? AS err, ? AS done_at, ? AS now) r)
  WHERE id = (SELECT id FROM message_parts WHERE smsc_message_id = ? ORDER BY id DESC LIMIT 1)
  RETURNING *`;

/** The multi-row INSERT of `n` parts (one text per n, so each is prepared once). */
const insertPartsSqls: string[] = [];
function insertPartsSql(n: number): string {
  insertPartsSqls[n] ??=
    `INSERT INTO message_parts (message_id, part_index, queue, state, payload, not_before, updated_at)
  VALUES ${Array.from({ length: n }, () => "(?, ?, ?, 'queued', ?, ?, ?)").join(', ')}`;
  return insertPartsSqls[n];
}

/**
 * …of `n` parts created `sending` on a fence (createMessageSending), only while the fence holds
 * (its two parameters last): none is inserted otherwise.
 */
const insertSendingPartsSqls: string[] = [];
function insertSendingPartsSql(n: number): string {
  insertSendingPartsSqls[n] ??=
    `INSERT INTO message_parts (message_id, part_index, queue, state, payload, not_before, updated_at,
    bind_id, epoch, attempts, sequence_number)
  SELECT column1, column2, column3, 'sending', column4, column5, column6, column7, column8, 1, 0
  FROM (VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')})
  WHERE EXISTS (SELECT 1 FROM bind_leases l WHERE l.bind_id = ? AND l.epoch = ?)`;
  return insertSendingPartsSqls[n];
}

class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(readonly db: Db) {}

  get(sql: string): Database.Statement {
    let statement = this.cache.get(sql);
    if (statement === undefined) {
      statement = prepare(this.db, sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.get(sql).run();
  }
}

/**
 * Every operation as synchronous SQL on one connection, wrapped in promises. One instance
 * per unit of work on the writer (its `check` refuses use after the unit ended), one
 * shared instance on the reader.
 */
class SqliteOps implements StoreTx {
  /** What waits for this transaction's commit (StoreTx.afterCommit). */
  readonly afterCommitHooks = new AfterCommitHooks();

  constructor(
    private readonly s: Statements,
    private readonly now: () => number,
    private readonly check: () => void,
  ) {}

  afterCommit(fn: () => void): void {
    this.afterCommitHooks.add(fn);
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    this.check();
    return this.s.get(sql).all(...params) as Row[];
  }

  private one(sql: string, ...params: unknown[]): Row | undefined {
    this.check();
    return this.s.get(sql).get(...params) as Row | undefined;
  }

  private run(sql: string, ...params: unknown[]): number {
    this.check();
    try {
      return this.s.get(sql).run(...params).changes;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
        throw conflictError(`the store refused the write: ${(error as Error).message}`, error);
      }
      throw error;
    }
  }

  /** Used by prune: runs one bounded DELETE. */
  async deleteChunk(sql: string, bound: number): Promise<number> {
    return this.run(sql, bound);
  }

  // ---------------------------------------------------------------- messages

  async createMessage(message: NewMessage, parts: readonly NewPart[]): Promise<MessageRecord> {
    return this.insertMessage(message, parts).message;
  }

  async createMessageSending(
    message: NewMessage,
    parts: readonly NewPart[],
    fence: Fence,
  ): Promise<CreatedSending> {
    return this.insertMessage(message, parts, message.sendAt == null ? fence : undefined);
  }

  /**
   * The message and its parts: queued, or `sending` on `fence` while it holds (createMessageSending;
   * else queued).
   */
  private insertMessage(message: NewMessage, parts: readonly NewPart[], fence?: Fence): CreatedSending {
    if (parts.length === 0) throw conflictError(`message ${message.id} has no parts`);
    const now = this.now();
    const sendAt = message.sendAt ?? null;
    const record: MessageRecord = {
      id: message.id,
      clientRef: message.clientRef ?? null,
      route: message.route,
      from: message.from,
      to: message.to,
      encoding: message.encoding,
      body: bytes(message.body) as Buffer,
      udh: bytes(message.udh),
      partsCount: parts.length,
      status: message.status ?? (sendAt !== null && sendAt > now ? 'scheduled' : 'queued'),
      error: null,
      metadata: message.metadata ?? null,
      callbackUrl: message.callbackUrl ?? null,
      receiptPolicy: message.receiptPolicy ?? 'final',
      validityMs: message.validityMs ?? null,
      sendAt,
      createdAt: now,
      updatedAt: now,
    };
    this.run(
      `INSERT INTO messages (id, client_ref, route, source_addr, dest_addr, encoding, body, udh,
         parts_count, status, metadata, callback_url, receipt_policy, validity_ms, send_at,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      record.id,
      record.clientRef,
      record.route,
      record.from,
      record.to,
      record.encoding,
      record.body,
      record.udh,
      record.partsCount,
      record.status,
      json(record.metadata ?? undefined),
      record.callbackUrl,
      record.receiptPolicy,
      record.validityMs,
      record.sendAt,
      now,
      now,
    );
    // Every part in one statement.
    if (fence !== undefined) {
      // In index order, so their ids (consecutive: one statement of the one writer) follow it.
      const ordered = [...parts].sort((a, b) => a.index - b.index);
      const values: unknown[] = [];
      for (const part of ordered) {
        values.push(
          record.id,
          part.index,
          record.route,
          bytes(part.payload),
          now,
          now,
          fence.bindId,
          fence.epoch,
        );
      }
      this.check();
      const info = this.s
        .get(insertSendingPartsSql(ordered.length))
        .run(...values, fence.bindId, fence.epoch);
      if (info.changes === ordered.length) {
        const first = Number(info.lastInsertRowid) - ordered.length + 1;
        return {
          message: record,
          parts: ordered.map((part, i) => sendingPart(first + i, record, part, fence, now)),
        };
      }
      // The fence no longer holds: queued as createMessage queues them.
    }
    const values: unknown[] = [];
    for (const part of parts)
      values.push(record.id, part.index, record.route, bytes(part.payload), sendAt ?? now, now);
    this.run(insertPartsSql(parts.length), ...values);
    return { message: record };
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const row = this.one('SELECT * FROM messages WHERE id = ?', id);
    return row && toMessage(row);
  }

  async getMessages(ids: readonly string[]): Promise<MessageRecord[]> {
    if (ids.length === 0) return [];
    return this.all(
      'SELECT * FROM messages WHERE id IN (SELECT value FROM json_each(?))',
      JSON.stringify(ids),
    ).map(toMessage);
  }

  async updateMessage(id: string, patch: MessagePatch, current?: MessageRecord): Promise<MessageRecord> {
    // One statement: a field left out of the patch keeps its value (the flags say which are set).
    this.check();
    const now = this.now();
    const params = [
      patch.status ?? null,
      patch.error === undefined ? 0 : 1,
      patch.error?.code ?? null,
      patch.error === undefined ? 0 : 1,
      patch.error?.message ?? null,
      patch.metadata === undefined ? 0 : 1,
      json(patch.metadata ?? undefined),
      now,
      id,
    ];
    if (current !== undefined && current.id === id) {
      // The row as the caller read it, patched: no RETURNING (its temporary table costs more than the write).
      if (this.s.get(UPDATE_MESSAGE_QUIET_SQL).run(...params).changes === 0)
        throw notFoundError('message', id);
      return {
        ...current,
        ...(patch.status === undefined ? {} : { status: patch.status }),
        ...(patch.error === undefined ? {} : { error: patch.error }),
        ...(patch.metadata === undefined ? {} : { metadata: patch.metadata }),
        updatedAt: now,
      };
    }
    const row = this.s.get(UPDATE_MESSAGE_SQL).get(...params) as Row | undefined;
    if (row === undefined) throw notFoundError('message', id);
    return toMessage(row);
  }

  async listParts(messageId: string): Promise<PartRecord[]> {
    return this.all('SELECT * FROM message_parts WHERE message_id = ? ORDER BY part_index', messageId).map(
      toPart,
    );
  }

  async listMessages(query: MessageQuery): Promise<MessageRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.clientRef !== undefined) {
      where.push('client_ref = ?');
      params.push(query.clientRef);
    }
    if (query.statuses !== undefined && query.statuses.length > 0) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
      params.push(...query.statuses);
    }
    if (query.since !== undefined) {
      where.push('created_at >= ?');
      params.push(query.since);
    }
    if (query.after !== undefined) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(query.after.createdAt, query.after.createdAt, query.after.id);
    }
    const sql = `SELECT * FROM messages${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`;
    return this.all(sql, ...params, query.limit).map(toMessage);
  }

  async cancelMessage(id: string): Promise<CancelResult> {
    const message = await this.getMessage(id);
    if (message === undefined) return { kind: 'not_found' };
    if (message.status !== 'queued' && message.status !== 'scheduled') {
      return { kind: 'too_late', message, reason: `the message is ${message.status}` };
    }
    const busy = this.one(
      "SELECT part_index, state FROM message_parts WHERE message_id = ? AND state <> 'queued' ORDER BY part_index LIMIT 1",
      id,
    );
    if (busy !== undefined) {
      return {
        kind: 'too_late',
        message,
        reason: `part ${Number(busy.part_index)} is already ${String(busy.state)}`,
      };
    }
    const now = this.now();
    this.run(
      "UPDATE message_parts SET state = 'canceled', updated_at = ? WHERE message_id = ? AND state = 'queued'",
      now,
      id,
    );
    this.run("UPDATE messages SET status = 'canceled', updated_at = ? WHERE id = ?", now, id);
    return { kind: 'canceled', message: { ...message, status: 'canceled', updatedAt: now } };
  }

  // ---------------------------------------------------------------- events

  async appendMessageEvent(messageId: string, type: string, data: unknown): Promise<MessageEvent> {
    // One statement: the next seq is read in the INSERT; the foreign key refuses an unknown message.
    this.check();
    const createdAt = this.now();
    let row: Row | undefined;
    try {
      row = this.s.get(APPEND_EVENT_SQL).get(messageId, type, json(data), createdAt, messageId) as Row;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw notFoundError('message', messageId);
      }
      throw error;
    }
    return { messageId, seq: Number(row.seq), type, data, createdAt };
  }

  async listMessageEvents(messageId: string): Promise<MessageEvent[]> {
    return this.all('SELECT * FROM message_events WHERE message_id = ? ORDER BY seq', messageId).map(
      (row) => ({
        messageId: String(row.message_id),
        seq: Number(row.seq),
        type: String(row.type),
        data: parseJson(row.data),
        createdAt: Number(row.created_at),
      }),
    );
  }

  // ---------------------------------------------------------------- idempotency

  async beginIdempotency(
    key: string,
    requestHash: string,
    ttlMs = DEFAULT_IDEMPOTENCY_TTL_MS,
  ): Promise<IdempotencyBegin> {
    const now = this.now();
    const row = this.one('SELECT * FROM idempotency_keys WHERE key = ?', key);
    if (row !== undefined && Number(row.expires_at) > now) {
      if (row.request_hash !== requestHash) return { kind: 'mismatch' };
      if (row.state !== 'done') return { kind: 'in_progress' };
      return {
        kind: 'done',
        response: { statusCode: Number(row.response_status), body: parseJson(row.response_body) },
      };
    }
    this.run(
      `INSERT INTO idempotency_keys (key, request_hash, state, created_at, expires_at)
       VALUES (?, ?, 'in_progress', ?, ?)
       ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, state = 'in_progress',
         response_status = NULL, response_body = NULL, created_at = excluded.created_at,
         expires_at = excluded.expires_at`,
      key,
      requestHash,
      now,
      now + ttlMs,
    );
    return { kind: 'started' };
  }

  async completeIdempotency(key: string, response: StoredResponse): Promise<void> {
    const changed = this.run(
      `UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ?
       WHERE key = ? AND state = 'in_progress'`,
      response.statusCode,
      json(response.body),
      key,
    );
    if (changed === 0) throw notFoundError('idempotency key in progress', key);
  }

  async releaseIdempotency(key: string): Promise<void> {
    this.run("DELETE FROM idempotency_keys WHERE key = ? AND state = 'in_progress'", key);
  }

  // ---------------------------------------------------------------- leases

  async bindLeaseHolder(bindId: string): Promise<{ owner: string; expiresAt: number } | undefined> {
    const row = this.one('SELECT owner, expires_at FROM bind_leases WHERE bind_id = ?', bindId);
    if (row === undefined || row.owner === null || row.owner === '') return undefined;
    return { owner: String(row.owner), expiresAt: Number(row.expires_at) };
  }

  async acquireBindLease(
    bindId: string,
    owner: string,
    ttlMs: number,
    replacing?: string,
  ): Promise<BindLease | undefined> {
    return this.takeBindLease(bindId, owner, ttlMs, replacing);
  }

  async acquireBindLeases(owner: string, bindIds: readonly string[], ttlMs: number): Promise<BindLease[]> {
    const taken: BindLease[] = [];
    for (const id of [...new Set(bindIds)].sort()) {
      const lease = this.takeBindLease(id, owner, ttlMs);
      if (lease !== undefined) taken.push(lease);
    }
    return taken;
  }

  private takeBindLease(
    bindId: string,
    owner: string,
    ttlMs: number,
    replacing?: string,
  ): BindLease | undefined {
    const now = this.now();
    const row = this.one('SELECT * FROM bind_leases WHERE bind_id = ?', bindId);
    if (
      row !== undefined &&
      row.owner !== owner &&
      (replacing === undefined || row.owner !== replacing) &&
      Number(row.expires_at) > now
    ) {
      return undefined;
    }
    const epoch = row === undefined ? 1 : Number(row.epoch) + 1;
    const lease: BindLease = { bindId, owner, epoch, expiresAt: now + ttlMs };
    this.run(
      `INSERT INTO bind_leases (bind_id, owner, epoch, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (bind_id) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch,
         expires_at = excluded.expires_at`,
      bindId,
      owner,
      epoch,
      lease.expiresAt,
    );
    // What older epochs left: a PDU that may have gone out is unknown; a claim goes back.
    const recovered = this.all(
      `SELECT DISTINCT message_id FROM message_parts
       WHERE bind_id = ? AND ${HELD_PART} AND epoch < ? ORDER BY message_id`,
      bindId,
      epoch,
    ).map((r) => String(r.message_id));
    if (recovered.length > 0) lease.recovered = recovered;
    this.run(
      `UPDATE message_parts SET state = 'unknown', error_code = ?, error_message = ?, claimed_until = NULL,
         updated_at = ?
       WHERE bind_id = ? AND ${HELD_PART} AND state = 'sending' AND epoch < ?`,
      'SEND_INTERRUPTED',
      'no submit_sm_resp was recorded before the bind changed hands; the SMS may have been sent',
      now,
      bindId,
      epoch,
    );
    this.run(
      `UPDATE message_parts SET state = 'queued', bind_id = NULL, epoch = NULL, claimed_until = NULL,
         updated_at = ?
       WHERE bind_id = ? AND ${HELD_PART} AND state = 'claimed' AND epoch < ?`,
      now,
      bindId,
      epoch,
    );
    return lease;
  }

  async renewBindLease(lease: BindLease, ttlMs: number): Promise<BindLease | undefined> {
    const expiresAt = this.now() + ttlMs;
    const changed = this.run(
      'UPDATE bind_leases SET expires_at = ? WHERE bind_id = ? AND owner = ? AND epoch = ?',
      expiresAt,
      lease.bindId,
      lease.owner,
      lease.epoch,
    );
    return changed === 0 ? undefined : { ...lease, expiresAt };
  }

  async releaseBindLease(lease: BindLease): Promise<void> {
    const now = this.now();
    const changed = this.run(
      'UPDATE bind_leases SET expires_at = ? WHERE bind_id = ? AND owner = ? AND epoch = ?',
      now,
      lease.bindId,
      lease.owner,
      lease.epoch,
    );
    if (changed === 0) return;
    this.run(
      `UPDATE message_parts SET state = 'queued', bind_id = NULL, epoch = NULL, claimed_until = NULL,
         updated_at = ?
       WHERE bind_id = ? AND ${HELD_PART} AND state = 'claimed' AND epoch = ?`,
      now,
      lease.bindId,
      lease.epoch,
    );
  }

  async renewBindLeases(owner: string, leases: readonly Fence[], ttlMs: number): Promise<BindLease[]> {
    if (leases.length === 0) return [];
    const expiresAt = this.now() + ttlMs;
    const rows = this.all(
      `UPDATE bind_leases SET expires_at = ?
       WHERE owner = ? AND (bind_id, epoch) IN
         (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
       RETURNING bind_id, epoch`,
      expiresAt,
      owner,
      JSON.stringify(leases.map((l) => [l.bindId, l.epoch])),
    );
    return rows.map((r) => ({ bindId: String(r.bind_id), owner, epoch: Number(r.epoch), expiresAt }));
  }

  async listBindLeases(): Promise<BindLeaseState[]> {
    const now = this.now();
    const rows = this.all('SELECT bind_id, owner, epoch, expires_at FROM bind_leases ORDER BY bind_id');
    return rows.map((r) => toLeaseState(r, now));
  }

  async heartbeatReplica(owner: string, ttlMs: number): Promise<LiveReplica[]> {
    const now = this.now();
    this.run(
      `INSERT INTO replicas (owner, started_at, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`,
      owner,
      now,
      now + ttlMs,
    );
    this.run('DELETE FROM replicas WHERE expires_at < ?', now - REPLICA_FORGET_MS);
    return this.all('SELECT owner, expires_at FROM replicas WHERE expires_at > ? ORDER BY owner', now).map(
      (r) => ({ owner: String(r.owner), expiresAt: Number(r.expires_at) }),
    );
  }

  async leaveReplica(owner: string): Promise<void> {
    this.run('DELETE FROM replicas WHERE owner = ?', owner);
  }

  private checkFence(fence: Fence): void {
    const row = this.one('SELECT epoch FROM bind_leases WHERE bind_id = ?', fence.bindId);
    const epoch = row === undefined ? undefined : Number(row.epoch);
    if (epoch !== fence.epoch) throw fencedError(fence, epoch);
  }

  // ---------------------------------------------------------------- outbound queue

  async claimParts(fence: Fence, queue: string, limit: number, visibilityMs: number): Promise<PartRecord[]> {
    this.checkFence(fence);
    const now = this.now();
    // Whole messages, in queue order: the first `limit` claimable parts name the messages, and
    // every claimable part of those messages is claimed with them, past `limit` if need be
    // (a message is never split
    // between two claimers). A part is held back while an earlier part of its message waits for
    // a retry (parts go out in order), and while a sibling is with another bind (claimed,
    // sending or submitted there: all parts of a message go to one bind).
    const messages = [
      ...this.all(QUEUED_CANDIDATES_SQL, queue, now, now, fence.bindId, now, limit),
      ...this.all(EXPIRED_CANDIDATES_SQL, queue, now, now, fence.bindId, now, limit),
    ]
      .sort((a, b) => Number(a.id) - Number(b.id))
      .slice(0, limit);
    if (messages.length === 0) return [];
    // Every claimable part of those messages, in one statement.
    const ids = [...new Set(messages.map((row) => String(row.message_id)))];
    const claimed = this.all(
      CLAIM_MESSAGES_PARTS_SQL,
      fence.bindId,
      fence.epoch,
      now + visibilityMs,
      now,
      JSON.stringify(ids),
      queue,
      now,
      now,
      now,
      fence.bindId,
      now,
    ).map(toPart);
    claimed.sort((a, b) => a.id - b.id);
    return claimed;
  }

  private part(id: number): PartRecord {
    const row = this.one('SELECT * FROM message_parts WHERE id = ?', id);
    if (row === undefined) throw notFoundError('part', id);
    return toPart(row);
  }

  /** The part, when this fence holds it in one of `states`; else a conflict. */
  private ownedPart(fence: Fence, partId: number, states: readonly PartState[]): PartRecord {
    const part = this.part(partId);
    if (part.bindId !== fence.bindId || part.epoch !== fence.epoch || !states.includes(part.state)) {
      throw conflictError(
        `part ${partId} is ${part.state}${part.bindId === null ? '' : ` for bind ${part.bindId} epoch ${part.epoch}`}, ` +
          `not ${states.join(' or ')} for bind ${fence.bindId} epoch ${fence.epoch}`,
      );
    }
    return part;
  }

  /**
   * A write to a part this fence holds in one statement (the fence and the part's state are
   * conditions of the UPDATE, which returns the row); when it changed nothing, the reason is looked
   * up afterwards for the error: the fence lost, the part missing or in another state.
   */
  private fencedPartWrite(
    fence: Fence,
    partId: number,
    states: readonly PartState[],
    sql: string,
    ...set: unknown[]
  ): PartRecord {
    this.check();
    const row = this.s.get(sql).get(...set, partId, fence.bindId, fence.epoch, fence.bindId, fence.epoch) as
      | Row
      | undefined;
    if (row !== undefined) return toPart(row);
    this.checkFence(fence);
    this.ownedPart(fence, partId, states);
    throw conflictError(`part ${partId} was not written`);
  }

  async markPartSending(fence: Fence, partId: number, sequenceNumber: number): Promise<PartRecord> {
    return this.fencedPartWrite(fence, partId, ['claimed'], MARK_SENDING_SQL, sequenceNumber, this.now());
  }

  async recordSubmitOutcome(
    fence: Fence,
    partId: number,
    outcome: SubmitOutcome,
    current?: PartRecord,
  ): Promise<PartRecord> {
    // A late response may follow a timeout that recorded `unknown`.
    const states: readonly PartState[] = ['sending', 'unknown'];
    const now = this.now();
    switch (outcome.kind) {
      case 'accepted':
        if (current !== undefined && current.id === partId) {
          // The part as the caller had it, updated: no RETURNING (see updateMessage).
          const smscMessageId = cleanMessageId(outcome.smscMessageId);
          this.check();
          const changed = this.s
            .get(OUTCOME_ACCEPTED_QUIET_SQL)
            .run(smscMessageId, now, partId, fence.bindId, fence.epoch, fence.bindId, fence.epoch).changes;
          if (changed === 1) {
            return {
              ...current,
              state: 'submitted',
              smscMessageId,
              submitStatus: 0,
              error: null,
              updatedAt: now,
            };
          }
        }
        return this.fencedPartWrite(
          fence,
          partId,
          states,
          OUTCOME_ACCEPTED_SQL,
          cleanMessageId(outcome.smscMessageId),
          now,
        );
      case 'rejected':
        return this.fencedPartWrite(
          fence,
          partId,
          states,
          OUTCOME_REJECTED_SQL,
          outcome.commandStatus,
          outcome.error.code,
          outcome.error.message,
          now,
        );
      case 'retry':
        return this.fencedPartWrite(
          fence,
          partId,
          states,
          OUTCOME_RETRY_SQL,
          outcome.retryAt,
          outcome.commandStatus,
          outcome.error?.code ?? null,
          outcome.error?.message ?? null,
          outcome.notAnAttempt === true ? 1 : 0,
          now,
        );
      case 'unknown':
        return this.fencedPartWrite(
          fence,
          partId,
          states,
          OUTCOME_UNKNOWN_SQL,
          outcome.error.code,
          outcome.error.message,
          now,
        );
    }
  }

  async releaseParts(fence: Fence, partIds: readonly number[]): Promise<void> {
    this.checkFence(fence);
    const now = this.now();
    for (const id of partIds) {
      this.run(
        `UPDATE message_parts SET state = 'queued', bind_id = NULL, epoch = NULL, claimed_until = NULL,
           updated_at = ?
         WHERE id = ? AND state = 'claimed' AND bind_id = ? AND epoch = ?`,
        now,
        id,
        fence.bindId,
        fence.epoch,
      );
    }
  }

  // ---------------------------------------------------------------- receipts

  async countOpenParts(): Promise<number> {
    const row = this.one(
      `SELECT COUNT(*) AS n FROM message_parts p WHERE p.${OPEN_PART} AND NOT ${MESSAGE_FINAL}`,
    );
    return Number(row?.n ?? 0);
  }

  async listMessagesPastValidity(now: number, limit: number): Promise<MessageRecord[]> {
    const finals = [...FINAL_MESSAGE_STATUSES].map((s) => `'${s}'`).join(', ');
    return this.all(
      // Driven by the open-parts index: only messages with a part still queued or claimed.
      `SELECT * FROM messages m WHERE m.id IN (
           SELECT p.message_id FROM message_parts p WHERE p.${OPEN_PART} AND p.state <> 'sending')
         AND m.validity_ms IS NOT NULL AND m.status NOT IN (${finals})
         AND COALESCE(m.send_at, m.created_at) + m.validity_ms <= ?
       ORDER BY m.created_at LIMIT ?`,
      now,
      limit,
    ).map(toMessage);
  }

  async recordReceipt(receipt: Receipt): Promise<PartRecord | undefined> {
    // One statement: the latest part with that SMSC id. The first final receipt of a part stays: a
    // pending one (ENROUTE…) or another final one arriving later (SMSCs repeat and reorder receipts)
    // is the caller's event, not the part's outcome (the CASE keeps the row as it was).
    const row = this.one(
      RECORD_RECEIPT_SQL,
      receipt.stat,
      receipt.err ?? null,
      receipt.doneAt ?? null,
      this.now(),
      cleanMessageId(receipt.smscMessageId),
    );
    return row && toPart(row);
  }

  async parkReceipt(receipt: Receipt, ttlMs = DEFAULT_PARKED_RECEIPT_TTL_MS): Promise<ParkedReceipt> {
    const now = this.now();
    const smscMessageId = cleanMessageId(receipt.smscMessageId);
    const row = this.one(
      `INSERT INTO parked_receipts (smsc_message_id, bind_id, stat, err, done_at, received_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      smscMessageId,
      receipt.bindId,
      receipt.stat,
      receipt.err ?? null,
      receipt.doneAt ?? null,
      now,
      now + ttlMs,
    );
    return toParked(row as Row);
  }

  async takeParkedReceipts(smscMessageId: string): Promise<ParkedReceipt[]> {
    // One statement: every parked receipt of the id goes; the unexpired ones are returned.
    const now = this.now();
    return this.all(
      'DELETE FROM parked_receipts WHERE smsc_message_id = ? RETURNING *',
      cleanMessageId(smscMessageId),
    )
      .filter((row) => Number(row.expires_at) > now)
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map(toParked);
  }

  // ---------------------------------------------------------------- inbound

  async addInboundPart(part: NewInboundPart): Promise<InboundProgress> {
    this.run(
      `INSERT INTO inbound_parts (group_key, part_index, total_parts, bind_id, payload, data_coding, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_key, part_index) DO NOTHING`,
      part.groupKey,
      part.index,
      part.total,
      part.bindId,
      bytes(part.payload),
      part.dataCoding,
      this.now(),
    );
    const parts = this.inboundParts(part.groupKey);
    if (parts.length >= part.total) return { complete: true, parts };
    return { complete: false, received: parts.length, total: part.total };
  }

  async createInboundMessage(message: NewInboundMessage, groupKey?: string): Promise<InboundMessageRecord> {
    const record: InboundMessageRecord = {
      id: message.id,
      bindId: message.bindId,
      from: message.from,
      to: message.to,
      encoding: message.encoding,
      body: bytes(message.body) as Buffer,
      partsCount: message.partsCount,
      metadata: message.metadata ?? null,
      route: message.route ?? null,
      dataCoding: message.dataCoding ?? 0,
      incomplete: message.incomplete ?? false,
      receivedAt: this.now(),
    };
    this.run(
      `INSERT INTO inbound_messages (id, bind_id, source_addr, dest_addr, encoding, body, parts_count,
         metadata, received_at, route, data_coding, incomplete)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      record.id,
      record.bindId,
      record.from,
      record.to,
      record.encoding,
      record.body,
      record.partsCount,
      json(record.metadata ?? undefined),
      record.receivedAt,
      record.route,
      record.dataCoding,
      record.incomplete ? 1 : 0,
    );
    if (groupKey !== undefined) this.run('DELETE FROM inbound_parts WHERE group_key = ?', groupKey);
    return record;
  }

  async getInboundMessage(id: string): Promise<InboundMessageRecord | undefined> {
    const row = this.one('SELECT * FROM inbound_messages WHERE id = ?', id);
    return row === undefined ? undefined : toInboundMessage(row);
  }

  async listInboundMessages(query: InboundQuery): Promise<InboundMessageRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.since !== undefined) {
      where.push('received_at >= ?');
      params.push(query.since);
    }
    if (query.bindId !== undefined) {
      where.push('bind_id = ?');
      params.push(query.bindId);
    }
    if (query.from !== undefined) {
      where.push('source_addr = ?');
      params.push(query.from);
    }
    if (query.after !== undefined) {
      where.push('(received_at > ? OR (received_at = ? AND id > ?))');
      params.push(query.after.receivedAt, query.after.receivedAt, query.after.id);
    }
    const sql = `SELECT * FROM inbound_messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY received_at, id LIMIT ?`;
    return this.all(sql, ...params, Math.max(0, Math.floor(query.limit))).map(toInboundMessage);
  }

  async listStaleInboundGroups(receivedBefore: number, limit: number): Promise<InboundGroup[]> {
    const groups = this.all(
      `SELECT group_key, MIN(received_at) AS first_received_at FROM inbound_parts
       GROUP BY group_key HAVING MIN(received_at) < ? ORDER BY first_received_at, group_key LIMIT ?`,
      receivedBefore,
      Math.max(0, Math.floor(limit)),
    );
    return groups.map((row) => ({
      groupKey: String(row.group_key),
      firstReceivedAt: Number(row.first_received_at),
      parts: this.inboundParts(String(row.group_key)),
    }));
  }

  async recordInboundFingerprint(fingerprint: string, windowMs: number): Promise<boolean> {
    const now = this.now();
    const { key, digest } = fingerprintKey(fingerprint);
    // Taken over when expired, or when another digest holds the key (a collision: fingerprint-key.ts).
    const changed = this.run(
      `INSERT INTO inbound_fingerprints (key, digest, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET digest = excluded.digest, expires_at = excluded.expires_at
       WHERE inbound_fingerprints.expires_at <= ? OR inbound_fingerprints.digest <> excluded.digest`,
      key,
      digest,
      now + windowMs,
      now,
    );
    return changed > 0;
  }

  private inboundParts(groupKey: string): InboundPartRecord[] {
    return this.all('SELECT * FROM inbound_parts WHERE group_key = ? ORDER BY part_index', groupKey).map(
      (row): InboundPartRecord => ({
        groupKey: String(row.group_key),
        index: Number(row.part_index),
        total: Number(row.total_parts),
        bindId: String(row.bind_id),
        payload: row.payload as Buffer,
        dataCoding: Number(row.data_coding),
        receivedAt: Number(row.received_at),
      }),
    );
  }

  // ---------------------------------------------------------------- webhooks

  async enqueueWebhook(event: NewWebhookEvent): Promise<WebhookEvent> {
    const now = this.now();
    const record: WebhookEvent = {
      eventId: event.eventId ?? newWebhookEventId(),
      messageId: event.messageId,
      endpoint: event.endpoint,
      type: event.type,
      payload: event.payload,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: event.nextAttemptAt ?? now,
      claimedUntil: event.claimForMs === undefined ? null : now + event.claimForMs,
      lastError: null,
      createdAt: now,
      updatedAt: now,
      body: JSON.stringify(event.payload ?? null),
    };
    this.run(
      `INSERT INTO webhook_events (event_id, message_id, endpoint, type, payload, state, next_attempt_at,
         claimed_until, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
      record.eventId,
      record.messageId,
      record.endpoint,
      record.type,
      record.body,
      record.nextAttemptAt,
      record.claimedUntil,
      now,
      now,
    );
    return record;
  }

  async claimWebhooks(
    limit: number,
    visibilityMs: number,
    filter: WebhookClaimFilter = {},
  ): Promise<WebhookEvent[]> {
    const now = this.now();
    // One statement per filter shape, so each can use its index (an `? IS NULL OR` cannot).
    let where = '';
    const params: unknown[] = [];
    if (filter.endpoint !== undefined) {
      where += ' AND w.endpoint = ?';
      params.push(filter.endpoint);
    }
    if (filter.endpointPrefix !== undefined) {
      // The prefix as a range: no LIKE escaping, index-friendly.
      where += ' AND w.endpoint >= ? AND w.endpoint < ?';
      params.push(filter.endpointPrefix, `${filter.endpointPrefix}\uffff`);
    }
    const rows = this.all(
      `UPDATE webhook_events SET claimed_until = ? WHERE id IN (
         SELECT w.id FROM webhook_events w
         WHERE w.state = 'pending' AND w.next_attempt_at <= ? AND (w.claimed_until IS NULL OR w.claimed_until <= ?)${where}
           AND (w.message_id IS NULL OR NOT EXISTS (
             SELECT 1 FROM webhook_events p
             WHERE p.message_id = w.message_id AND p.endpoint = w.endpoint AND p.state = 'pending' AND p.id < w.id))
         ORDER BY w.next_attempt_at, w.id LIMIT ?)
       RETURNING *`,
      now + visibilityMs,
      now,
      now,
      ...params,
      limit,
    );
    // RETURNING gives no order: due first, then in enqueue order.
    rows.sort((a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at) || Number(a.id) - Number(b.id));
    return rows.map(toClaimedWebhook);
  }

  async recordWebhookOutcome(eventId: string, outcome: WebhookOutcome): Promise<WebhookEvent> {
    const now = this.now();
    const state: WebhookState = outcome.kind === 'retry' ? 'pending' : outcome.kind;
    const row = this.one(
      `UPDATE webhook_events SET state = ?, attempts = attempts + 1,
         next_attempt_at = COALESCE(?, next_attempt_at), claimed_until = NULL, last_error = ?, updated_at = ?
       WHERE event_id = ? AND +state = 'pending'
       RETURNING *`,
      state,
      outcome.kind === 'retry' ? outcome.retryAt : null,
      outcome.kind === 'delivered' ? null : outcome.error,
      now,
      eventId,
    );
    if (row !== undefined) return toWebhook(row);
    const current = await this.getWebhook(eventId);
    if (current === undefined) throw notFoundError('webhook event', eventId);
    throw conflictError(`webhook event ${eventId} is already ${current.state}`);
  }

  async recordWebhooksDelivered(eventIds: readonly string[]): Promise<string[]> {
    if (eventIds.length === 0) return [];
    const updated = new Set(
      this.all(
        `UPDATE webhook_events SET state = 'delivered', attempts = attempts + 1, claimed_until = NULL,
           last_error = NULL, updated_at = ?
         WHERE event_id IN (SELECT value FROM json_each(?)) AND +state = 'pending'
         RETURNING event_id`,
        this.now(),
        JSON.stringify(eventIds),
      ).map((r) => r.event_id as string),
    );
    return eventIds.filter((id) => !updated.has(id));
  }

  async getWebhook(eventId: string): Promise<WebhookEvent | undefined> {
    const row = this.one('SELECT * FROM webhook_events WHERE event_id = ?', eventId);
    return row && toWebhook(row);
  }

  async listWebhooks(query: WebhookQuery): Promise<WebhookPage> {
    const afterId =
      query.after === undefined
        ? 0
        : Number(this.one('SELECT id FROM webhook_events WHERE event_id = ?', query.after)?.id ?? -1);
    if (afterId < 0) return { events: [], next: null };
    // Pending and dead events through their index (a few among every event kept), one endpoint's
    // through the endpoint index, the rest (delivered ones, most of the table) in id order.
    const { where, params } = webhookListing(query, 'sqlite');
    const rows = this.all(
      `SELECT * FROM webhook_events WHERE ${where} AND id > ? ORDER BY id LIMIT ?`,
      ...params,
      afterId,
      query.limit + 1,
    );
    const events = rows.slice(0, query.limit).map(toWebhook);
    return { events, next: rows.length > query.limit ? (events.at(-1)?.eventId ?? null) : null };
  }

  async retryWebhook(eventId: string): Promise<WebhookEvent> {
    const current = await this.getWebhook(eventId);
    if (current === undefined) throw notFoundError('webhook event', eventId);
    if (current.state !== 'dead')
      throw conflictError(`webhook event ${eventId} is ${current.state}, not dead`);
    const now = this.now();
    this.run(
      `UPDATE webhook_events SET state = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = NULL,
         updated_at = ?
       WHERE event_id = ?`,
      now,
      now,
      eventId,
    );
    return (await this.getWebhook(eventId)) as WebhookEvent;
  }

  async webhookBacklog(): Promise<WebhookBacklog[]> {
    return this.all(
      `SELECT endpoint, COUNT(*) AS pending, MIN(created_at) AS oldest FROM webhook_events
       WHERE state = 'pending' GROUP BY endpoint ORDER BY endpoint`,
    ).map((row) => ({
      endpoint: String(row.endpoint),
      pending: Number(row.pending),
      oldestPendingAt: Number(row.oldest),
    }));
  }

  async setWebhookEndpointDisabled(endpoint: string, reason: string | null): Promise<void> {
    if (reason === null) {
      this.run('DELETE FROM webhook_endpoints WHERE endpoint = ?', endpoint);
      return;
    }
    this.run(
      `INSERT INTO webhook_endpoints (endpoint, disabled_at, reason) VALUES (?, ?, ?)
       ON CONFLICT (endpoint) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`,
      endpoint,
      this.now(),
      reason,
    );
  }

  async listDisabledWebhookEndpoints(): Promise<DisabledWebhookEndpoint[]> {
    return this.all('SELECT * FROM webhook_endpoints ORDER BY endpoint').map((row) => ({
      endpoint: String(row.endpoint),
      disabledAt: Number(row.disabled_at),
      reason: String(row.reason),
    }));
  }

  async listBindDefinitions(): Promise<BindDefinition[]> {
    return this.all('SELECT * FROM bind_definitions ORDER BY id').map(bindDefinitionFromRow);
  }

  async getBindDefinition(id: string): Promise<BindDefinition | undefined> {
    const row = this.one('SELECT * FROM bind_definitions WHERE id = ?', id);
    return row === undefined ? undefined : bindDefinitionFromRow(row);
  }

  async putBindDefinition(
    definition: NewBindDefinition,
    expectedVersion: number | null,
  ): Promise<BindDefinition> {
    const now = this.now();
    const current = this.one('SELECT version FROM bind_definitions WHERE id = ?', definition.id);
    const version = current === undefined ? null : Number(current.version);
    if (version !== expectedVersion) {
      throw conflictError(
        version === null
          ? `bind definition ${definition.id} does not exist (expected version ${expectedVersion})`
          : expectedVersion === null
            ? `bind definition ${definition.id} already exists (version ${version})`
            : `bind definition ${definition.id} is at version ${version}, not ${expectedVersion}`,
      );
    }
    const row =
      version === null
        ? this.one(
            `INSERT INTO bind_definitions (id, definition, enabled, version, created_at, updated_at)
             VALUES (?, ?, ?, 1, ?, ?) RETURNING *`,
            definition.id,
            JSON.stringify(definition.definition),
            definition.enabled ? 1 : 0,
            now,
            now,
          )
        : this.one(
            `UPDATE bind_definitions SET definition = ?, enabled = ?, version = version + 1, updated_at = ?
             WHERE id = ? RETURNING *`,
            JSON.stringify(definition.definition),
            definition.enabled ? 1 : 0,
            now,
            definition.id,
          );
    return bindDefinitionFromRow(row as Row);
  }

  async deleteBindDefinition(id: string): Promise<boolean> {
    return this.run('DELETE FROM bind_definitions WHERE id = ?', id) > 0;
  }
}

function bindDefinitionFromRow(row: Row): BindDefinition {
  return {
    id: String(row.id),
    definition: JSON.parse(String(row.definition)) as Record<string, unknown>,
    enabled: Number(row.enabled) === 1,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
