/**
 * The store contract on a real PostgreSQL server (a throwaway one for this file, see
 * test/helpers/postgres-server.ts), and what only a shared database adds: replicas migrating
 * at once, claimers racing for the queues, the database's clock.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCode } from '../../src/errors.js';
import { connectStore } from '../../src/store/index.js';
import {
  connectPostgresStore,
  openPostgresStore,
  PostgresStore,
  type PostgresStoreOptions,
} from '../../src/store/postgres-store.js';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  POSTGRES_TYPES,
  SCHEMA_VERSION_TABLE,
} from '../../src/store/schema.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../helpers/postgres-server.js';
import { describeStore, message, V10_FINGERPRINTS, v10FingerprintRows } from './store-suite.js';

const unavailable = postgresUnavailable();

let server: PostgresServer | undefined;
let database: string | undefined;
let schemas = 0;
/**
 * A fresh, empty schema in this file's database, as a URL whose connections use it (a schema
 * takes milliseconds to create, a database hundreds).
 */
async function freshDatabase(): Promise<string> {
  if (server === undefined || database === undefined) throw new Error('no PostgreSQL server');
  const schema = `t${++schemas}`;
  const client = new pg.Client(database);
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  return `${database}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

describe.skipIf(unavailable !== undefined)('PostgreSQL store', () => {
  beforeAll(async () => {
    server = await startPostgres();
    database = await server.createDatabase('store_test');
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  describeStore('postgres', async ({ now, retentionDays }) => {
    const url = await freshDatabase();
    return {
      // As for SQLite: a generous group time budget, so a loaded machine does not split groups.
      open: async () => connectPostgresStore({ url, now, retentionDays, maxGroupMs: 1_000 }),
      destroy: async () => undefined,
    };
  });

  describe('only on a shared database', () => {
    const part = [{ index: 0, payload: Buffer.from('x') }];
    const stores: PostgresStore[] = [];
    const open = async (options: Omit<PostgresStoreOptions, 'url'> & { url: string }) => {
      const store = await connectPostgresStore(options);
      stores.push(store);
      return store;
    };
    afterAll(async () => {
      for (const store of stores.splice(0)) await store.close();
    });

    it('migrates once when two replicas open an empty database at the same moment', async () => {
      const url = await freshDatabase();
      const [a, b] = await Promise.all([open({ url }), open({ url })]);
      await a.createMessage(message('from-a'), part);
      expect((await b.getMessage('from-a'))?.id).toBe('from-a');
      const client = new pg.Client(url);
      await client.connect();
      try {
        const { rows } = await client.query('SELECT version FROM schema_version ORDER BY version');
        expect(rows.map((r) => r.version)).toEqual(
          Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
        );
      } finally {
        await client.end();
      }
    });

    it('upgrades a version 10 database: the fingerprints of the window still recognise a redelivery, under their integer key', async () => {
      const url = await freshDatabase();
      const { low, high, expired } = V10_FINGERPRINTS;
      const client = new pg.Client(url);
      await client.connect();
      try {
        await client.query(SCHEMA_VERSION_TABLE);
        for (const m of MIGRATIONS.filter((x) => x.version <= 10)) {
          for (const sql of m.statements(POSTGRES_TYPES)) await client.query(sql);
          await client.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, 0)', [
            m.version,
            m.name,
          ]);
        }
        await client.query(
          'INSERT INTO inbound_fingerprints (fingerprint, seen_at, expires_at) VALUES ($1, 1, 60000), ($2, 1, 60000), ($3, 1, 5000)',
          [low, high, expired],
        );
        const store = await open({ url, now: () => 10_000 });
        const { rows } = await client.query('SELECT key::text AS key, digest FROM inbound_fingerprints');
        // The SQL conversion gives the key fingerprint-key.ts computes (the top bit set: negative).
        expect(
          rows
            .map((r): [bigint, string] => [BigInt(r.key), (r.digest as Buffer).toString('hex')])
            .sort((x, y) => (x[0] < y[0] ? -1 : 1)),
        ).toEqual(v10FingerprintRows());
        expect(await store.recordInboundFingerprint(low, 60_000)).toBe(false);
        expect(await store.recordInboundFingerprint(high, 60_000)).toBe(false);
        expect(await store.recordInboundFingerprint(expired, 60_000)).toBe(true);
      } finally {
        await client.end();
      }
    });

    it('refuses a database written by a newer schema', async () => {
      const url = await freshDatabase();
      await (await open({ url })).close();
      const client = new pg.Client(url);
      await client.connect();
      await client.query("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)");
      await client.end();
      await expect(connectPostgresStore({ url })).rejects.toMatchObject({ code: ErrorCode.StoreMigration });
    });

    it('fails to open with SMPP_ERR_STORE_OPEN, without the password in the message', async () => {
      if (server === undefined) throw new Error('no server');
      const url = `postgres://nobody:s3cret-pw@127.0.0.1:${server.port}/no_such_db`;
      const error = await connectPostgresStore({ url }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.StoreOpen });
      expect(String((error as Error).message)).not.toContain('s3cret-pw');
      expect(String((error as Error).message)).toContain('[redacted]');
    });

    it('judges time by the database clock when no clock is injected', async () => {
      const url = await freshDatabase();
      const store = await open({ url });
      const client = new pg.Client(url);
      await client.connect();
      const { rows } = await client.query('SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms');
      await client.end();
      const dbNow = Number(rows[0].ms);
      const lease = await store.acquireBindLease('b1', 'a', 10_000);
      // The database runs on this machine: its clock and ours agree to well within a second.
      expect(Math.abs((lease?.expiresAt ?? 0) - 10_000 - dbNow)).toBeLessThan(5_000);
      expect(await store.acquireBindLease('b1', 'b', 10_000)).toBeUndefined();
      const created = await store.createMessage(message('m1'), part);
      expect(Math.abs(created.createdAt - dbNow)).toBeLessThan(5_000);
    });

    it('hands each part to exactly one of several concurrent claimers', async () => {
      const url = await freshDatabase();
      let t = Date.UTC(2026, 0, 1);
      const now = () => t;
      const replicas = await Promise.all([open({ url, now }), open({ url, now }), open({ url, now })]);
      const [first] = replicas;
      const count = 300;
      await first!.transaction(async (tx) => {
        for (let i = 0; i < count; i++) await tx.createMessage(message(`c${i}`), part);
      });
      const leases = await Promise.all(
        replicas.map((r, i) => r.acquireBindLease(`b${i}`, `replica-${i}`, 60_000)),
      );
      const seen: number[][] = replicas.map(() => []);
      await Promise.all(
        replicas.map(async (replica, i) => {
          const lease = leases[i]!;
          // Several claim loops per replica too, so claims overlap within and across replicas.
          await Promise.all(
            Array.from({ length: 4 }, async () => {
              for (;;) {
                const claimed = await replica.claimParts(lease, 'default', 7, 60_000);
                if (claimed.length === 0) return;
                for (const p of claimed) {
                  await replica.markPartSending(lease, p.id, p.id);
                  seen[i]!.push(p.id);
                }
              }
            }),
          );
        }),
      );
      const all = seen.flat();
      expect(all).toHaveLength(count);
      expect(new Set(all).size).toBe(count);
      // All replicas took part (the claims are spread, not serialised behind one).
      expect(seen.filter((ids) => ids.length > 0).length).toBeGreaterThanOrEqual(2);
      t += 1; // (the clock is shared and fixed: nothing became visible again)
    });

    it('keeps every message whole on one bind when replicas claim multi-part messages at once', async () => {
      const url = await freshDatabase();
      const t = Date.UTC(2026, 0, 1);
      const now = () => t;
      const replicas = await Promise.all([open({ url, now }), open({ url, now }), open({ url, now })]);
      const count = 60;
      const partsPerMessage = 3;
      const parts = Array.from({ length: partsPerMessage }, (_, index) => ({
        index,
        payload: Buffer.from(`p${index}`),
      }));
      await replicas[0]!.transaction(async (tx) => {
        for (let i = 0; i < count; i++) await tx.createMessage(message(`w${i}`), parts);
      });
      const leases = await Promise.all(
        replicas.map((r, i) => r.acquireBindLease(`b${i}`, `replica-${i}`, 60_000)),
      );
      const bindOf = new Map<number, string>();
      let claimedTotal = 0;
      const total = count * partsPerMessage;
      await Promise.all(
        replicas.flatMap((replica, i) =>
          Array.from({ length: 3 }, async () => {
            const lease = leases[i]!;
            // Bounded in count: a claim that found only rows another replica held comes back empty.
            for (let round = 0; round < 2_000 && claimedTotal < total; round++) {
              const claimed = await replica.claimParts(lease, 'default', 2, 60_000);
              if (claimed.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
              for (const p of claimed) {
                expect(bindOf.has(p.id)).toBe(false);
                bindOf.set(p.id, lease.bindId);
                claimedTotal++;
              }
            }
          }),
        ),
      );
      expect(claimedTotal).toBe(total);
      for (let i = 0; i < count; i++) {
        const stored = await replicas[0]!.listParts(`w${i}`);
        expect(stored.map((p) => p.state)).toEqual(['claimed', 'claimed', 'claimed']);
        expect(new Set(stored.map((p) => p.bindId)).size).toBe(1);
        expect(new Set(stored.map((p) => bindOf.get(p.id))).size).toBe(1);
      }
    });

    it('rejects a unit that caught a failed statement (PostgreSQL aborted its transaction) and keeps its neighbours', async () => {
      const url = await freshDatabase();
      for (const writeLanes of [1, 4]) {
        const store = await open({ url, writeLanes, maxGroupMs: 1_000 });
        const p = `l${writeLanes}-`;
        await store.createMessage(message(`${p}dup`), part);
        const [swallowing, neighbour] = await Promise.allSettled([
          store.transaction(async (tx) => {
            await tx.createMessage(message(`${p}first`), part);
            // The duplicate fails on the database's side; the unit goes on as if nothing happened.
            await tx.createMessage(message(`${p}dup`), part).catch(() => undefined);
            return 'resolved';
          }),
          store.createMessage(message(`${p}neighbour`), part),
        ]);
        expect(swallowing).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.StoreConflict } });
        expect(await store.getMessage(`${p}first`)).toBeUndefined();
        expect(neighbour.status).toBe('fulfilled');
        expect((await store.getMessage(`${p}neighbour`))?.id).toBe(`${p}neighbour`);
      }
    });

    it('lets either the claim or the cancel win when replicas race for one message, never both', async () => {
      const url = await freshDatabase();
      const [a, b] = await Promise.all([open({ url }), open({ url })]);
      const lease = (await a.acquireBindLease('b1', 'replica-a', 60_000))!;
      const outcomes = { canceled: 0, tooLate: 0 };
      for (let i = 0; i < 20; i++) {
        const id = `race${i}`;
        await a.createMessage(message(id), [
          { index: 0, payload: Buffer.from('a') },
          { index: 1, payload: Buffer.from('b') },
        ]);
        const [claimed, cancel] = await Promise.all([
          a.claimParts(lease, 'default', 10, 60_000),
          b.cancelMessage(id),
        ]);
        const states = (await a.listParts(id)).map((p) => p.state);
        if (cancel.kind === 'canceled') {
          outcomes.canceled++;
          expect(claimed).toEqual([]);
          expect(states).toEqual(['canceled', 'canceled']);
        } else {
          outcomes.tooLate++;
          expect(cancel.kind).toBe('too_late');
          expect(claimed.map((p) => p.messageId)).toEqual([id, id]);
          expect(states).toEqual(['claimed', 'claimed']);
          await a.releaseParts(
            lease,
            claimed.map((p) => p.id),
          );
          expect((await b.cancelMessage(id)).kind).toBe('canceled');
        }
        expect(await a.claimParts(lease, 'default', 10, 60_000)).toEqual([]);
      }
      expect(outcomes.canceled + outcomes.tooLate).toBe(20);
    });

    it("keeps each message's webhook events in order across concurrent claimers", async () => {
      const url = await freshDatabase();
      const replicas = await Promise.all([open({ url }), open({ url }), open({ url })]);
      const messages = 20;
      const perMessage = 5;
      // Enqueued in order per message (each awaited before the next of its message).
      await Promise.all(
        Array.from({ length: messages }, async (_, m) => {
          for (let e = 0; e < perMessage; e++) {
            await replicas[(m + e) % replicas.length]!.enqueueWebhook({
              eventId: `evt-${m}-${e}`,
              messageId: `m${m}`,
              endpoint: 'https://example.test/hook',
              type: 't',
              payload: { m, e },
            });
          }
        }),
      );
      const delivered = new Map<string, number[]>();
      const inFlight = new Set<string>();
      let violations = 0;
      let attempt = 0;
      await Promise.all(
        replicas.flatMap((replica) =>
          Array.from({ length: 3 }, async () => {
            let idle = 0;
            while (idle < 20) {
              const events = await replica.claimWebhooks(4, 60_000);
              if (events.length === 0) {
                idle++;
                await new Promise((resolve) => setTimeout(resolve, 5));
                continue;
              }
              idle = 0;
              for (const event of events) {
                const { m, e } = event.payload as { m: number; e: number };
                if (inFlight.has(`m${m}`)) violations++;
                inFlight.add(`m${m}`);
                const got = delivered.get(`m${m}`) ?? [];
                // Every third attempt fails once: the retry must still come before the next event.
                const fail = ++attempt % 3 === 0 && !got.includes(-1 - e);
                await new Promise((resolve) => setImmediate(resolve));
                inFlight.delete(`m${m}`);
                if (fail) {
                  got.push(-1 - e);
                  delivered.set(`m${m}`, got);
                  await replica.recordWebhookOutcome(event.eventId, {
                    kind: 'retry',
                    retryAt: 0,
                    error: 'HTTP 503',
                  });
                } else {
                  got.push(e);
                  delivered.set(`m${m}`, got);
                  await replica.recordWebhookOutcome(event.eventId, { kind: 'delivered' });
                }
              }
            }
          }),
        ),
      );
      expect(violations).toBe(0);
      for (let m = 0; m < messages; m++) {
        const order = (delivered.get(`m${m}`) ?? []).filter((e) => e >= 0);
        expect(order).toEqual(Array.from({ length: perMessage }, (_, e) => e));
      }
    }, 60_000);

    it("numbers a message's events in call order even when they are asked for at once over several lanes", async () => {
      const url = await freshDatabase();
      const store = await open({ url, writeLanes: 4, maxGroupSize: 3 });
      await store.createMessage(message('m1'), part);
      await store.createMessage(message('m2'), part);
      const types = Array.from({ length: 40 }, (_, i) => `e${i}`);
      await Promise.all(
        types.flatMap((type) => [
          store.appendMessageEvent('m1', type, {}),
          store.appendMessageEvent('m2', type, {}),
        ]),
      );
      for (const id of ['m1', 'm2']) {
        const events = await store.listMessageEvents(id);
        expect(events.map((e) => [e.seq, e.type])).toEqual(types.map((type, i) => [i + 1, type]));
      }
    });

    it('lets only one of two replicas take a free bind at once', async () => {
      const url = await freshDatabase();
      const [a, b] = await Promise.all([open({ url }), open({ url })]);
      for (let i = 0; i < 20; i++) {
        const [la, lb] = await Promise.all([
          a.acquireBindLease(`bind-${i}`, 'a', 60_000),
          b.acquireBindLease(`bind-${i}`, 'b', 60_000),
        ]);
        expect([la, lb].filter((l) => l !== undefined)).toHaveLength(1);
      }
    });

    it('skips a lease row another transaction holds locked instead of waiting for it (no deadlock with fenced writes)', async () => {
      const url = await freshDatabase();
      const [a, b] = await Promise.all([open({ url }), open({ url })]);
      // b held both and left them expired (released).
      const held = await b.acquireBindLeases('b', ['bind-1', 'bind-2'], 60_000);
      for (const lease of held) await b.releaseBindLease(lease);
      // A fenced write in flight on bind-2: its transaction holds the row FOR KEY SHARE.
      const writer = new pg.Client(url);
      await writer.connect();
      try {
        await writer.query('BEGIN');
        await writer.query("SELECT 1 FROM bind_leases WHERE bind_id = 'bind-2' FOR KEY SHARE");
        const first = await a.acquireBindLeases('a', ['bind-1', 'bind-2'], 60_000);
        expect(first.map((l) => l.bindId)).toEqual(['bind-1']);
        await writer.query('COMMIT');
        // Once the write is done, the next pass takes it (its epoch raised past b's).
        const second = await a.acquireBindLeases('a', ['bind-2'], 60_000);
        expect(second.map((l) => [l.bindId, l.epoch])).toEqual([['bind-2', 2]]);
      } finally {
        await writer.query('ROLLBACK').catch(() => undefined);
        await writer.end();
      }
    });

    it('a replica frozen mid-transaction holds no lock for long: the server ends its idle transaction, and heartbeats never wait for it', async () => {
      const url = await freshDatabase();
      const a = await open({ url, idleInTransactionTimeoutMs: 500 });
      // A frozen replica: its heartbeat row expired long ago and its transaction holds the row (and a lease) locked.
      const frozen = new pg.Client(url);
      await frozen.connect();
      frozen.on('error', () => undefined);
      try {
        await a.heartbeatReplica('frozen', 1);
        await a.acquireBindLeases('frozen', ['bind-1'], 60_000);
        await frozen.query('BEGIN');
        await frozen.query("SELECT 1 FROM replicas WHERE owner = 'frozen' FOR UPDATE");
        await frozen.query("SELECT 1 FROM bind_leases WHERE bind_id = 'bind-1' FOR KEY SHARE");
        // Another replica's heartbeat forgets expired replicas: it skips the locked row, not waits for it.
        const live = await a.heartbeatReplica('a', 60_000);
        expect(live.map((r) => r.owner)).toEqual(['a']);
        await frozen.query('ROLLBACK');
        // Our own sessions: a transaction left idle longer than the timeout is ended by the server.
        await expect(
          a.transaction(async (tx) => {
            await tx.getMessage('nope');
            await new Promise((resolve) => setTimeout(resolve, 1_500));
            await tx.getMessage('nope');
          }),
        ).rejects.toThrow();
        expect((await a.healthCheck()).ok).toBe(true);
      } finally {
        await frozen.end().catch(() => undefined);
      }
    });

    it('completes an inbound group exactly once when its parts arrive on two replicas at once', async () => {
      const url = await freshDatabase();
      const [a, b] = await Promise.all([open({ url }), open({ url })]);
      for (let g = 0; g < 10; g++) {
        const part0 = {
          bindId: 'b1',
          groupKey: `g${g}`,
          index: 0,
          total: 2,
          payload: Buffer.from('a'),
          dataCoding: 0,
        };
        const results = await Promise.all([
          a.addInboundPart(part0),
          b.addInboundPart({ ...part0, index: 1 }),
        ]);
        expect(results.filter((r) => r.complete)).toHaveLength(1);
      }
    });

    it('rejects every caller of a group whose commit fails, and writes none of them', async () => {
      const url = await freshDatabase();
      let failNext = false;
      const store = await open({
        url,
        writeLanes: 1,
        maxGroupMs: 1_000,
        beforeCommit: () => {
          if (failNext) {
            failNext = false;
            throw new Error('connection lost');
          }
        },
      });
      failNext = true;
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.createMessage(message(`f${i}`), part)),
      );
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      expect(
        results.every(
          (r) =>
            r.status === 'rejected' &&
            (r.reason as { code: string; retriable: boolean }).code === ErrorCode.StoreCommit &&
            (r.reason as { retriable: boolean }).retriable,
        ),
      ).toBe(true);
      for (let i = 0; i < 10; i++) expect(await store.getMessage(`f${i}`)).toBeUndefined();
      await store.createMessage(message('after'), part);
      expect(await store.getMessage('after')).toBeDefined();
    });

    it('is what openStore opens for a config with store.url (and SQLite stays the default)', async () => {
      const url = await freshDatabase();
      const config = parseConfigText(`store: { url: "${url}" }`, { env: {}, baseDir: process.cwd() });
      const store = await connectStore({ ...config.store });
      try {
        expect(store).toBeInstanceOf(PostgresStore);
        await store.createMessage(message('via-config'), part);
        expect((await store.getMessage('via-config'))?.id).toBe('via-config');
      } finally {
        await store.close();
      }
    });

    it('opens lazily too: operations wait for the migrations', async () => {
      const url = await freshDatabase();
      const store = openPostgresStore({ url });
      stores.push(store);
      await store.createMessage(message('early'), part);
      expect((await store.getMessage('early'))?.id).toBe('early');
    });
  });
});
