// npm run bench -- store [--rounds 3] [--ms 1000]: the durable store (SQLite, WAL).
// 1. Single durable writes at 50 concurrent callers (each awaits its write, then writes again):
//    grouped (the default group commit) against ungrouped (maxGroupSize 1: one transaction per
//    write), with synchronous=FULL and NORMAL. A write = createMessage with one part (2 rows).
// 2. Rows/s in batches of 100: one transaction() of 50 single-part messages (100 rows), one at a
//    time.
// For each case: the longest a transaction held the writer (= blocked the event loop, the
// store being synchronous) and the worst event-loop delay seen (perf_hooks.monitorEventLoopDelay).
// Cases run in interleaved rounds so machine noise falls on all alike; figures are medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import type { NewMessage, Store } from '../../src/store/store.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, ms: { type: 'string', default: '1000' } },
});
const ROUNDS = Number(values.rounds);
const ROUND_MS = Number(values.ms);
const CALLERS = 50;
const BATCH_MESSAGES = 50; // 50 messages × (message row + part row) = 100 rows

interface Case {
  name: string;
  kind: 'single' | 'batch';
  options: Partial<SqliteStoreOptions>;
}

const CASES: Case[] = [
  { name: 'single, grouped, FULL', kind: 'single', options: { synchronous: 'full' } },
  { name: 'single, ungrouped, FULL', kind: 'single', options: { synchronous: 'full', maxGroupSize: 1 } },
  { name: 'single, grouped, NORMAL', kind: 'single', options: { synchronous: 'normal' } },
  { name: 'single, ungrouped, NORMAL', kind: 'single', options: { synchronous: 'normal', maxGroupSize: 1 } },
  { name: 'batch of 100 rows, FULL', kind: 'batch', options: { synchronous: 'full' } },
];

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

async function measure(store: Store, kind: Case['kind'], ms: number): Promise<{ ops: number; rows: number }> {
  const deadline = performance.now() + ms;
  let ops = 0;
  let rows = 0;
  if (kind === 'single') {
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

async function runCase(c: Case, dir: string, round: number): Promise<Sample> {
  const store = openSqliteStore({
    path: join(dir, `${c.name.replace(/\W+/g, '-')}-${round}.db`),
    ...c.options,
  });
  await measure(store, c.kind, 150); // warm-up: statements prepared, file grown
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
    median(samples.get(a)!.map((x, i) => x.opsPerS / samples.get(b)![i]!.opsPerS)).toFixed(1);
  console.log(`grouped / ungrouped, FULL: ${ratio('single, grouped, FULL', 'single, ungrouped, FULL')}×`);
  console.log(
    `grouped / ungrouped, NORMAL: ${ratio('single, grouped, NORMAL', 'single, ungrouped, NORMAL')}×`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
