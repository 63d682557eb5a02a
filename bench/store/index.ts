// npm run bench -- store [--rounds 3] [--ms 1000] [--backend sqlite|postgres|both]: the durable
// store, SQLite (WAL) and PostgreSQL (a throwaway local server with fsync and synchronous_commit
// on, as SQLite's synchronous=FULL; skipped with a note when PostgreSQL is not installed).
// 1. Single durable writes at 50 concurrent callers (each awaits its write, then writes again):
//    grouped (the default group commit) against ungrouped (maxGroupSize 1: one transaction per
//    write), with synchronous=FULL and NORMAL. A write = createMessage with one part (2 rows).
// 2. Rows/s in batches of 100: one transaction() of 50 single-part messages (100 rows), one at a
//    time.
// 3. Claims: 10,000 queued single-part messages claimed by 4 concurrent claimers (each its own
//    bind lease, 10 parts a claim, as a dispatcher with a window of 10 does): parts claimed/s.
// For each case: the longest a transaction held the writer (= blocked the event loop, the
// store being synchronous) and the worst event-loop delay seen (perf_hooks.monitorEventLoopDelay).
// Cases run in interleaved rounds so machine noise falls on all alike; figures are medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres-store.js';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import type { NewMessage, Store } from '../../src/store/store.js';
import {
  type PostgresServer,
  postgresUnavailable,
  startPostgres,
} from '../../test/helpers/postgres-server.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    ms: { type: 'string', default: '1000' },
    backend: { type: 'string', default: 'both' },
  },
});
const ROUNDS = Number(values.rounds);
const ROUND_MS = Number(values.ms);
const CALLERS = 50;
const BATCH_MESSAGES = 50; // 50 messages × (message row + part row) = 100 rows

type Kind = 'single' | 'batch' | 'claim';
type Case =
  | { name: string; kind: Kind; backend: 'sqlite'; options: Partial<SqliteStoreOptions> }
  | { name: string; kind: Kind; backend: 'postgres'; options: Partial<PostgresStoreOptions> };

const SQLITE_CASES: Case[] = [
  { name: 'single, grouped, FULL', kind: 'single', backend: 'sqlite', options: { synchronous: 'full' } },
  {
    name: 'single, ungrouped, FULL',
    kind: 'single',
    backend: 'sqlite',
    options: { synchronous: 'full', maxGroupSize: 1 },
  },
  { name: 'single, grouped, NORMAL', kind: 'single', backend: 'sqlite', options: { synchronous: 'normal' } },
  {
    name: 'single, ungrouped, NORMAL',
    kind: 'single',
    backend: 'sqlite',
    options: { synchronous: 'normal', maxGroupSize: 1 },
  },
  { name: 'batch of 100 rows, FULL', kind: 'batch', backend: 'sqlite', options: { synchronous: 'full' } },
  { name: 'claims, FULL', kind: 'claim', backend: 'sqlite', options: { synchronous: 'full' } },
];
const PG_CASES: Case[] = [
  { name: 'PG single, grouped, 4 lanes (default)', kind: 'single', backend: 'postgres', options: {} },
  { name: 'PG single, grouped, 8 lanes', kind: 'single', backend: 'postgres', options: { writeLanes: 8 } },
  { name: 'PG single, grouped, 1 lane', kind: 'single', backend: 'postgres', options: { writeLanes: 1 } },
  {
    name: 'PG single, ungrouped, 9 connections',
    kind: 'single',
    backend: 'postgres',
    options: { maxGroupSize: 1, writeLanes: 9 },
  },
  { name: 'PG batch of 100 rows', kind: 'batch', backend: 'postgres', options: {} },
  { name: 'PG claims', kind: 'claim', backend: 'postgres', options: {} },
];

const BACKEND = values.backend;
const pgUnavailable = BACKEND === 'sqlite' ? 'not asked for' : postgresUnavailable();
const CASES: Case[] = [
  ...(BACKEND === 'postgres' ? [] : SQLITE_CASES),
  ...(pgUnavailable === undefined ? PG_CASES : []),
];
const CLAIM_PARTS = 10_000;
const CLAIMERS = 4;
const CLAIM_LIMIT = 10;

interface Sample {
  opsPerS: number;
  rowsPerS: number;
  avgGroup: number;
  meanGroupMs: number;
  meanCommitMs: number;
  longestGroupMs: number;
  worstLoopDelayMs: number;
  p99LoopDelayMs: number;
}

let seq = 0;
const body = Buffer.from('Hello from the store benchmark, a message of ordinary length.');
const payload = Buffer.from(body);
function newMessage(): NewMessage {
  const id = `b${seq++}`;
  return { id, route: 'bench', from: 'ACME', to: '447700900123', encoding: 'gsm7', body };
}

async function fillQueue(store: Store, parts: number): Promise<void> {
  for (let done = 0; done < parts; done += 500) {
    await store.transaction(async (tx) => {
      for (let i = 0; i < Math.min(500, parts - done); i++)
        await tx.createMessage(newMessage(), [{ index: 0, payload }]);
    });
  }
}

async function measure(store: Store, kind: Kind, ms: number): Promise<{ ops: number; rows: number }> {
  const deadline = performance.now() + ms;
  let ops = 0;
  let rows = 0;
  if (kind === 'claim') {
    // ops = parts claimed; stops early when the queue is empty (the rate is over the time taken).
    const claimer = async (i: number) => {
      const lease = await store.acquireBindLease(`bench-${i}-${seq++}`, `claimer-${i}`, 600_000);
      if (lease === undefined) throw new Error('no lease');
      while (performance.now() < deadline) {
        const claimed = await store.claimParts(lease, 'bench', CLAIM_LIMIT, 600_000);
        if (claimed.length === 0) return;
        ops += claimed.length;
        rows += claimed.length;
      }
    };
    await Promise.all(Array.from({ length: CLAIMERS }, (_, i) => claimer(i)));
  } else if (kind === 'single') {
    const caller = async () => {
      while (performance.now() < deadline) {
        await store.createMessage(newMessage(), [{ index: 0, payload }]);
        ops++;
        rows += 2;
      }
    };
    await Promise.all(Array.from({ length: CALLERS }, caller));
  } else {
    while (performance.now() < deadline) {
      await store.transaction(async (tx) => {
        for (let i = 0; i < BATCH_MESSAGES; i++)
          await tx.createMessage(newMessage(), [{ index: 0, payload }]);
      });
      ops++;
      rows += BATCH_MESSAGES * 2;
    }
  }
  return { ops, rows };
}

let pgServer: PostgresServer | undefined;
let schemas = 0;

async function openCaseStore(c: Case, dir: string, round: number): Promise<Store> {
  if (c.backend === 'sqlite') {
    return openSqliteStore({ path: join(dir, `${c.name.replace(/\W+/g, '-')}-${round}.db`), ...c.options });
  }
  if (pgServer === undefined) throw new Error('no PostgreSQL server');
  // A fresh schema per case and round, as SQLite gets a fresh file.
  const schema = `bench${++schemas}`;
  const admin = new pg.Client(pgServer.url());
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = `${pgServer.url()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return connectPostgresStore({ url, ...c.options });
}

async function runCase(c: Case, dir: string, round: number): Promise<Sample> {
  const store = await openCaseStore(c, dir, round);
  if (c.kind === 'claim') await fillQueue(store, CLAIM_PARTS + 200);
  await measure(store, c.kind === 'claim' ? 'single' : c.kind, 150); // warm-up: statements prepared, file grown
  if (c.kind === 'claim') await measure(store, 'claim', 20); // claims warm up on the filled queue
  const before = store.stats();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const startedAt = performance.now();
  const { ops, rows } = await measure(store, c.kind, ROUND_MS);
  const seconds = (performance.now() - startedAt) / 1000;
  loop.disable();
  const after = store.stats();
  await store.close();
  return {
    opsPerS: ops / seconds,
    rowsPerS: rows / seconds,
    avgGroup: (after.units - before.units) / Math.max(1, after.commits - before.commits),
    meanGroupMs: (after.busyMs - before.busyMs) / Math.max(1, after.commits - before.commits),
    meanCommitMs: (after.commitMs - before.commitMs) / Math.max(1, after.commits - before.commits),
    longestGroupMs: after.longestGroupMs,
    worstLoopDelayMs: loop.max / 1e6,
    p99LoopDelayMs: loop.percentile(99) / 1e6,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-store-'));
if (pgUnavailable === undefined) pgServer = await startPostgres({ durable: true });
else if (BACKEND !== 'sqlite') console.log(`PostgreSQL cases skipped: ${pgUnavailable}`);
try {
  const samples = new Map<string, Sample[]>(CASES.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of CASES) samples.get(c.name)!.push(await runCase(c, dir, round));
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  console.log(
    `store bench: node ${process.version}, ${ROUNDS} rounds × ${ROUND_MS} ms per case, ${CALLERS} concurrent callers (single)`,
  );
  console.log(
    '| case | ops/s | rows/s | units/commit | mean transaction (ms) | of which COMMIT (ms) | longest transaction (ms) | worst loop delay (ms) | p99 loop delay (ms) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of CASES) {
    const s = samples.get(c.name)!;
    const col = (f: (x: Sample) => number, digits = 0) => median(s.map(f)).toFixed(digits);
    const worst = (f: (x: Sample) => number) => Math.max(...s.map(f)).toFixed(2);
    console.log(
      `| ${c.name} | ${col((x) => x.opsPerS)} | ${col((x) => x.rowsPerS)} | ${col((x) => x.avgGroup, 1)} | ` +
        `${col((x) => x.meanGroupMs, 2)} | ${col((x) => x.meanCommitMs, 2)} | ` +
        `${worst((x) => x.longestGroupMs)} | ${worst((x) => x.worstLoopDelayMs)} | ${col((x) => x.p99LoopDelayMs, 2)} |`,
    );
  }
  const ratio = (a: string, b: string) =>
    samples.has(a) && samples.has(b)
      ? median(samples.get(a)!.map((x, i) => x.opsPerS / samples.get(b)![i]!.opsPerS)).toFixed(2)
      : 'n/a';
  console.log(`grouped / ungrouped, FULL: ${ratio('single, grouped, FULL', 'single, ungrouped, FULL')}×`);
  console.log(
    `grouped / ungrouped, NORMAL: ${ratio('single, grouped, NORMAL', 'single, ungrouped, NORMAL')}×`,
  );
  console.log(
    `PG 4 lanes / SQLite grouped FULL: ${ratio('PG single, grouped, 4 lanes (default)', 'single, grouped, FULL')}×`,
  );
  console.log(
    `PG 4 lanes / PG ungrouped: ${ratio('PG single, grouped, 4 lanes (default)', 'PG single, ungrouped, 9 connections')}×`,
  );
  console.log(`PG claims / SQLite claims: ${ratio('PG claims', 'claims, FULL')}×`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await pgServer?.stop();
}
