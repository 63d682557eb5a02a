/**
 * The store's schema, as ordered migrations: data, applied in order, each once, recorded
 * in `schema_version`. The SQL is plain enough for SQLite and PostgreSQL alike; the few
 * types that differ come from the dialect's `SqlTypes`. Never edit a released migration:
 * add the next one.
 *
 * Times are int64 milliseconds since the epoch; JSON is text.
 */

export interface SqlTypes {
  /** For the few statements whose SQL differs beyond types (migration 11's data copy). */
  dialect: 'sqlite' | 'postgres';
  /** An auto-numbered primary key, in insertion order. */
  serialId: string;
  int64: string;
  bytes: string;
  json: string;
}

export const SQLITE_TYPES: SqlTypes = {
  dialect: 'sqlite',
  serialId: 'INTEGER PRIMARY KEY',
  int64: 'INTEGER',
  bytes: 'BLOB',
  json: 'TEXT',
};

export const POSTGRES_TYPES: SqlTypes = {
  dialect: 'postgres',
  serialId: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  int64: 'BIGINT',
  bytes: 'BYTEA',
  json: 'TEXT',
};

export interface Migration {
  version: number;
  name: string;
  statements(t: SqlTypes): string[];
}

export const SCHEMA_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'message path: messages, parts, events, idempotency, leases, receipts, inbound, webhooks',
    statements: (t) => [
      `CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        client_ref TEXT,
        route TEXT NOT NULL,
        source_addr TEXT NOT NULL,
        dest_addr TEXT NOT NULL,
        encoding TEXT NOT NULL,
        body ${t.bytes} NOT NULL,
        udh ${t.bytes},
        parts_count INTEGER NOT NULL,
        status TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        metadata ${t.json},
        callback_url TEXT,
        receipt_policy TEXT NOT NULL,
        validity_ms ${t.int64},
        send_at ${t.int64},
        created_at ${t.int64} NOT NULL,
        updated_at ${t.int64} NOT NULL
      )`,
      'CREATE INDEX messages_status_updated ON messages (status, updated_at)',
      'CREATE INDEX messages_client_ref ON messages (client_ref)',

      `CREATE TABLE message_parts (
        id ${t.serialId},
        message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        part_index INTEGER NOT NULL,
        queue TEXT NOT NULL,
        state TEXT NOT NULL,
        payload ${t.bytes} NOT NULL,
        bind_id TEXT,
        epoch ${t.int64},
        sequence_number ${t.int64},
        smsc_message_id TEXT,
        submit_status ${t.int64},
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before ${t.int64} NOT NULL,
        claimed_until ${t.int64},
        error_code TEXT,
        error_message TEXT,
        receipt_stat TEXT,
        receipt_err TEXT,
        receipt_done_at ${t.int64},
        updated_at ${t.int64} NOT NULL,
        UNIQUE (message_id, part_index)
      )`,
      'CREATE INDEX message_parts_queue ON message_parts (queue, state, id)',
      'CREATE INDEX message_parts_smsc_id ON message_parts (smsc_message_id)',
      'CREATE INDEX message_parts_bind ON message_parts (bind_id, state)',

      `CREATE TABLE message_events (
        message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        data ${t.json},
        created_at ${t.int64} NOT NULL,
        PRIMARY KEY (message_id, seq)
      )`,

      `CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        state TEXT NOT NULL,
        response_status INTEGER,
        response_body ${t.json},
        created_at ${t.int64} NOT NULL,
        expires_at ${t.int64} NOT NULL
      )`,
      'CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at)',

      `CREATE TABLE bind_leases (
        bind_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        epoch ${t.int64} NOT NULL,
        expires_at ${t.int64} NOT NULL
      )`,

      `CREATE TABLE parked_receipts (
        id ${t.serialId},
        smsc_message_id TEXT NOT NULL,
        bind_id TEXT NOT NULL,
        stat TEXT NOT NULL,
        err TEXT,
        done_at ${t.int64},
        received_at ${t.int64} NOT NULL,
        expires_at ${t.int64} NOT NULL
      )`,
      'CREATE INDEX parked_receipts_smsc_id ON parked_receipts (smsc_message_id)',
      'CREATE INDEX parked_receipts_expires ON parked_receipts (expires_at)',

      `CREATE TABLE inbound_parts (
        group_key TEXT NOT NULL,
        part_index INTEGER NOT NULL,
        total_parts INTEGER NOT NULL,
        bind_id TEXT NOT NULL,
        payload ${t.bytes} NOT NULL,
        data_coding INTEGER NOT NULL,
        received_at ${t.int64} NOT NULL,
        PRIMARY KEY (group_key, part_index)
      )`,
      'CREATE INDEX inbound_parts_received ON inbound_parts (received_at)',

      `CREATE TABLE inbound_messages (
        id TEXT PRIMARY KEY,
        bind_id TEXT NOT NULL,
        source_addr TEXT NOT NULL,
        dest_addr TEXT NOT NULL,
        encoding TEXT NOT NULL,
        body ${t.bytes} NOT NULL,
        parts_count INTEGER NOT NULL,
        metadata ${t.json},
        received_at ${t.int64} NOT NULL
      )`,
      'CREATE INDEX inbound_messages_received ON inbound_messages (received_at)',

      `CREATE TABLE webhook_events (
        id ${t.serialId},
        event_id TEXT NOT NULL UNIQUE,
        message_id TEXT,
        endpoint TEXT NOT NULL,
        type TEXT NOT NULL,
        payload ${t.json} NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at ${t.int64} NOT NULL,
        claimed_until ${t.int64},
        last_error TEXT,
        created_at ${t.int64} NOT NULL,
        updated_at ${t.int64} NOT NULL
      )`,
      'CREATE INDEX webhook_events_due ON webhook_events (state, next_attempt_at)',
      'CREATE INDEX webhook_events_message ON webhook_events (message_id, state, id)',
    ],
  },
  {
    version: 2,
    name: 'inbound: route, data coding and incompleteness of MO messages; redelivery fingerprints',
    statements: (t) => [
      'ALTER TABLE inbound_messages ADD COLUMN route TEXT',
      'ALTER TABLE inbound_messages ADD COLUMN data_coding INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE inbound_messages ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0',
      // Pages of GET /inbound (and prune by age) use this one; the old one is its prefix.
      'CREATE INDEX inbound_messages_page ON inbound_messages (received_at, id)',
      'DROP INDEX inbound_messages_received',
      `CREATE TABLE inbound_fingerprints (
        fingerprint TEXT PRIMARY KEY,
        seen_at ${t.int64} NOT NULL,
        expires_at ${t.int64} NOT NULL
      )`,
      'CREATE INDEX inbound_fingerprints_expires ON inbound_fingerprints (expires_at)',
    ],
  },
  {
    version: 3,
    name: 'messages listed newest first (GET /messages)',
    statements: () => ['CREATE INDEX messages_created ON messages (created_at, id)'],
  },
  {
    version: 4,
    name: 'webhooks: endpoints disabled by a 410, claims by endpoint',
    statements: (t) => [
      `CREATE TABLE webhook_endpoints (
        endpoint TEXT PRIMARY KEY,
        disabled_at ${t.int64} NOT NULL,
        reason TEXT NOT NULL
      )`,
      'CREATE INDEX webhook_events_endpoint ON webhook_events (endpoint, state, next_attempt_at, id)',
    ],
  },
  {
    version: 5,
    name: 'binds created through the API (POST /binds)',
    statements: (t) => [
      `CREATE TABLE bind_definitions (
        id TEXT PRIMARY KEY,
        definition ${t.json} NOT NULL,
        enabled INTEGER NOT NULL,
        version INTEGER NOT NULL,
        created_at ${t.int64} NOT NULL,
        updated_at ${t.int64} NOT NULL
      )`,
    ],
  },
  {
    version: 6,
    name: 'replicas sharing the binds: who is live (bind ownership by leases)',
    statements: (t) => [
      `CREATE TABLE replicas (
        owner TEXT PRIMARY KEY,
        started_at ${t.int64} NOT NULL,
        expires_at ${t.int64} NOT NULL
      )`,
      'CREATE INDEX bind_leases_owner ON bind_leases (owner)',
    ],
  },
  {
    version: 7,
    name: 'an index of the parts still open, so queue depth and validity sweeps do not scan every part kept',
    // Finished parts stay for `store.retentionDays`: without it, counting the open parts (every
    // poll) and finding messages past their validity read the whole table.
    statements: () => [
      `CREATE INDEX message_parts_open ON message_parts (message_id, state) WHERE ${OPEN_PART}`,
    ],
  },
  {
    version: 8,
    name: 'the indexes of parts hold only the parts each one serves, so a part changing state touches fewer of them',
    // Every index that has `state` in its key is rewritten (one delete, one insert) at each step
    // of a part (queued → claimed → sending → submitted), and the queue and bind indexes also kept
    // every finished part for the retention. Now: a part is in `queued` while queued, in `claimed`
    // while claimed, in `bind` while claimed or sending, in `open` (no state in its key) until it
    // is finished, in `smsc_id` once it has an SMSC id: about half the index writes per part
    // (bench/messages), and indexes the size of the work in flight, not of the history.
    statements: () => [
      'DROP INDEX message_parts_queue',
      "CREATE INDEX message_parts_queued ON message_parts (queue, id) WHERE state = 'queued'",
      "CREATE INDEX message_parts_claimed ON message_parts (queue, id) WHERE state = 'claimed'",
      'DROP INDEX message_parts_bind',
      `CREATE INDEX message_parts_bind ON message_parts (bind_id, state) WHERE ${HELD_PART}`,
      'DROP INDEX message_parts_smsc_id',
      'CREATE INDEX message_parts_smsc_id ON message_parts (smsc_message_id) WHERE smsc_message_id IS NOT NULL',
      'DROP INDEX message_parts_open',
      `CREATE INDEX message_parts_open ON message_parts (message_id) WHERE ${OPEN_PART}`,
    ],
  },
  {
    version: 9,
    name: 'webhook events: the claim and ordering indexes hold pending events only; dead and pending ones listed by state; finished ones pruned by age',
    // GET /webhooks/deliveries?state=dead walked every event ever kept, by id, to find the dead
    // ones; and the claim indexes kept (and rewrote, at each delivery) every delivered event.
    statements: () => [
      'DROP INDEX webhook_events_due',
      'DROP INDEX webhook_events_endpoint',
      `CREATE INDEX webhook_events_endpoint ON webhook_events (endpoint, next_attempt_at, id) WHERE ${PENDING_WEBHOOK}`,
      'DROP INDEX webhook_events_message',
      `CREATE INDEX webhook_events_message ON webhook_events (message_id, endpoint, id) WHERE ${PENDING_WEBHOOK}`,
      `CREATE INDEX webhook_events_listed ON webhook_events (state, id) WHERE ${LISTED_WEBHOOK}`,
      `CREATE INDEX webhook_events_finished ON webhook_events (updated_at) WHERE ${FINISHED_WEBHOOK}`,
    ],
  },
  {
    version: 10,
    name: "webhook events listed by endpoint: an endpoint's page no longer walks every other endpoint's events",
    // An event's endpoint never changes: one insert per event, at the right edge of its endpoint.
    statements: () => ['CREATE INDEX webhook_events_by_endpoint ON webhook_events (endpoint, id)'],
  },
  {
    version: 11,
    name: 'redelivery fingerprints under an integer key (the first 8 bytes of the digest) with the whole digest beside it, one B-tree instead of a random TEXT key and its index',
    statements: (t) => [
      // src/store/fingerprint-key.ts: key = the digest's first 8 bytes as a signed int64 (the rowid
      // on SQLite), digest = all 32 bytes, compared before an MO counts as a redelivery.
      `CREATE TABLE inbound_fingerprints_v11 (
        key ${t.int64} PRIMARY KEY,
        digest ${t.bytes} NOT NULL,
        expires_at ${t.int64} NOT NULL
      )`,
      // The fingerprints of the window carried over (moFingerprint's are hex SHA-256; no other
      // kind was ever written by the product), so a redelivery across the upgrade is still one.
      `INSERT INTO inbound_fingerprints_v11 (key, digest, expires_at)
       SELECT ${hexInt64(t, 'fingerprint')}, ${t.dialect === 'sqlite' ? 'unhex(fingerprint)' : "decode(fingerprint, 'hex')"}, expires_at
       FROM inbound_fingerprints WHERE ${
         t.dialect === 'sqlite'
           ? "length(fingerprint) = 64 AND fingerprint NOT GLOB '*[^0-9a-f]*'"
           : "fingerprint ~ '^[0-9a-f]{64}$'"
       }
       ORDER BY 1
       ON CONFLICT (key) DO NOTHING`,
      'DROP TABLE inbound_fingerprints',
      'ALTER TABLE inbound_fingerprints_v11 RENAME TO inbound_fingerprints',
      'CREATE INDEX inbound_fingerprints_expires ON inbound_fingerprints (expires_at)',
    ],
  },
];

/**
 * SQL for the first 16 hex digits of `column` as a signed 64-bit integer (big-endian, as
 * Buffer#readBigInt64BE reads the digest's first 8 bytes). SQLite has no hex-to-integer
 * function: a sum of digits, the first one signed, which never overflows.
 */
function hexInt64(t: SqlTypes, column: string): string {
  if (t.dialect === 'postgres') return `('x' || substr(${column}, 1, 16))::bit(64)::bigint`;
  const digit = (i: number) => `(instr('0123456789abcdef', substr(${column}, ${i}, 1)) - 1)`;
  const terms = [`(CASE WHEN ${digit(1)} >= 8 THEN ${digit(1)} - 16 ELSE ${digit(1)} END) * ${16n ** 15n}`];
  for (let i = 2; i <= 16; i++) terms.push(`${digit(i)} * ${16n ** BigInt(16 - i)}`);
  return `(${terms.join(' + ')})`;
}

/**
 * The condition of the open-parts index. SQLite uses a partial index only for a query that repeats
 * its condition term for term, so queries write this same text.
 */
export const OPEN_PART = "state IN ('queued', 'claimed', 'sending')";

/** The condition of the bind index (parts a bind holds: claimed or sending); queries repeat it too. */
export const HELD_PART = "state IN ('claimed', 'sending')";

/** Conditions of the webhook events' partial indexes (migration 9); queries repeat them too. */
export const PENDING_WEBHOOK = "state = 'pending'";
export const LISTED_WEBHOOK = "state IN ('pending', 'dead')";
export const FINISHED_WEBHOOK = "state IN ('delivered', 'dead')";

/** The newest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
