/**
 * npm run bench -- messages-statements [--messages N] [--parts P] [--concurrency C]
 *
 * How many SQL statements (and transactions) the outbound path runs per message on SQLite, from
 * POST /messages to `submitted` and on to `delivered`: the real service (startService, as `serve`
 * runs it: SQLite store, outbound engine, inbound receipt handler) in this process, one bind to an
 * in-process simulator that answers every submit_sm and sends a DELIVRD receipt for each part.
 *
 * Every statement better-sqlite3 runs is counted (run/get/all on its Statement prototype), with
 * its time, and grouped by its SQL text. Printed per accepted message: statements and
 * transactions in total and per SQL, and the time they took. Counts, not rates: they do not
 * depend on the machine's load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningService, startService } from '../../src/cli/serve.js';
import { createServiceLogger } from '../../src/cli/service-logger.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { createSimulator } from '../../src/simulator/simulator.js';
import { openDatabase, prepare } from '../../src/store/sqlite-native.js';

interface Args {
  messages: number;
  parts: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { messages: 2_000, parts: 1, concurrency: 20 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const n = Number(argv[++i]);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer`);
    if (flag === '--messages') args.messages = n;
    else if (flag === '--parts') args.parts = n;
    else if (flag === '--concurrency') args.concurrency = n;
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

// ------------------------------------------------------------------ the statement counter

interface Tally {
  calls: number;
  ns: bigint;
}
const tallies = new Map<string, Tally>();
let counting = false;

function countStatements(): void {
  // Through sqlite-native: a statement left to the GC aborts Node 24 (src/store/sqlite-native.ts).
  const probe = openDatabase(':memory:');
  const proto = Object.getPrototypeOf(prepare(probe, 'SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = proto[method] as (this: { source: string }, ...args: unknown[]) => unknown;
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      if (!counting) return original.apply(this, args);
      const t0 = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const ns = process.hrtime.bigint() - t0;
        let tally = tallies.get(this.source);
        if (tally === undefined) {
          tally = { calls: 0, ns: 0n };
          tallies.set(this.source, tally);
        }
        tally.calls++;
        tally.ns += ns;
      }
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitAll(
  service: RunningService,
  ids: string[],
  statuses: string[],
  why: () => unknown,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  let pending = [...ids];
  while (pending.length > 0) {
    if (Date.now() > deadline) {
      const seen: Record<string, number> = {};
      for (const id of pending) {
        const m = await service.messages.store.getMessage(id);
        const parts = await service.messages.store.listParts(id);
        const key = `${m?.status}:${parts.map((p) => `${p.state}/${p.receiptStat}`).join(',')}`;
        seen[key] = (seen[key] ?? 0) + 1;
      }
      throw new Error(
        `${pending.length} messages not ${statuses.join('/')}: ${JSON.stringify(seen)} ${JSON.stringify(why())}`,
      );
    }
    const still: string[] = [];
    counting = false;
    for (const id of pending) {
      const m = await service.messages.store.getMessage(id);
      if (!m || !statuses.includes(m.status)) still.push(id);
    }
    counting = true;
    pending = still;
    if (pending.length > 0) await sleep(50);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  countStatements();
  const sim = createSimulator({ host: '127.0.0.1', port: 0, sessionInitTimeoutMs: 0 });
  const { port } = await sim.listen();
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-statements-'));
  const config = parseConfigText(
    [
      'http: { host: 127.0.0.1, port: 0 }',
      'log: { level: warn }',
      `store: { path: ${join(dir, 'bench.db')} }`,
      'binds:',
      `  - { id: b0, host: 127.0.0.1, port: ${port}, systemId: bench, password: bench, windowSize: 100 }`,
    ].join('\n'),
    { env: {}, baseDir: dir },
  );
  const service = await startService(config, createServiceLogger({ level: 'warn' }));
  try {
    const deadline = Date.now() + 10_000;
    while (!service.registry.list().every((b) => b.isBound)) {
      if (Date.now() > deadline) throw new Error('the bind did not bind');
      await sleep(20);
    }
    // Text long enough for `parts` GSM 7-bit parts (153 characters each when concatenated).
    const text = args.parts === 1 ? 'Hello from the statements bench' : 'x'.repeat(153 * args.parts);
    const post = async (i: number): Promise<string> => {
      const res = await fetch(`${service.url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: `+4477009${String(i).padStart(5, '0')}`, from: 'Bench', text }),
      });
      if (res.status !== 202) throw new Error(`POST /messages answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };

    const phase = async (name: string, work: () => Promise<void>) => {
      tallies.clear();
      counting = true;
      const t0 = performance.now();
      await work();
      const ms = performance.now() - t0;
      counting = false;
      return { name, ms, tallies: new Map(tallies) };
    };

    const ids: string[] = [];
    const accepted = await phase('accept', async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: args.concurrency }, async () => {
          while (next < args.messages) ids.push(await post(next++));
        }),
      );
    });
    const delivered = await phase('submit + receipts until delivered', () =>
      waitAll(service, ids, ['delivered'], () => ({
        sim: sim.counters(),
        engine: service.messages.engine.counters,
      })),
    );

    console.log(
      `messages-statements: node ${process.version}, ${args.messages} messages of ${args.parts} part(s), ${args.concurrency} concurrent POSTs, receipt: final\n`,
    );
    for (const p of [accepted, delivered]) {
      const rows = [...p.tallies].sort((a, b) => b[1].calls - a[1].calls);
      const total = rows.reduce((n, [, t]) => n + t.calls, 0);
      const ns = rows.reduce((n, [, t]) => n + t.ns, 0n);
      const tx = p.tallies.get('BEGIN IMMEDIATE')?.calls ?? 0;
      console.log(
        `## ${p.name}: ${(total / args.messages).toFixed(2)} statements per message (${total} in all), ` +
          `${(tx / args.messages).toFixed(3)} transactions per message, ` +
          `${(Number(ns) / 1e3 / args.messages).toFixed(1)} µs of SQL per message (${p.ms.toFixed(0)} ms wall)`,
      );
      console.log('| per message | µs each | statement |\n| ---: | ---: | --- |');
      for (const [source, t] of rows) {
        const sql = source.replace(/\s+/g, ' ').trim();
        console.log(
          `| ${(t.calls / args.messages).toFixed(2)} | ${(Number(t.ns) / 1e3 / t.calls).toFixed(1)} | ${sql.length > 110 ? `${sql.slice(0, 107)}...` : sql} |`,
        );
      }
      console.log('');
    }
  } finally {
    await service.shutdown();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
