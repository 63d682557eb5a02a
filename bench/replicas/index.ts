// npm run bench -- replicas [--binds 10000] [--replicas 3] [--steady-s 30] [--messages 2000]
//
// Bind ownership across replicas (issue 12), with the real processes: a throwaway PostgreSQL
// (fsync on), the SMSC simulator in this process, and `serve` started as an operator would
// (`node --import tsx src/cli.ts serve --config <tmp>.yaml`) with the default lease timers
// (TTL 10 s, renew every 2 s).
// 1. Spread: the replicas start together with --binds binds in one config file; time until the
//    simulator sees every bind bound, and until each replica runs exactly its fair share.
// 2. Lease load: over --steady-s seconds of steady state, PostgreSQL transactions/s
//    (pg_stat_database) and lease rows renewed/s (pg_stat_user_tables), all replicas together.
// 3. Takeover: `kill -9` of one replica; time until the simulator sees every bind bound again,
//    and the most sessions ever bound at once for one bind (must stay 1).
// 4. Outbound: one `serve` on PostgreSQL and one on SQLite (4 binds each, in turn), --messages
//    messages POSTed in batches of 100; accepted/s and submitted/s.
// Every wait has a deadline; every child is killed at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createSimulator, type SmscSimulator } from '../../src/simulator/simulator.js';
import { postgresUnavailable, startPostgres } from '../../test/helpers/postgres-server.js';

const { values } = parseArgs({
  options: {
    binds: { type: 'string', default: '10000' },
    replicas: { type: 'string', default: '3' },
    'steady-s': { type: 'string', default: '30' },
    messages: { type: 'string', default: '2000' },
  },
});
const BINDS = Number(values.binds);
const REPLICAS = Number(values.replicas);
const STEADY_S = Number(values['steady-s']);
const MESSAGES = Number(values.messages);
const LOOPBACK_HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Serve {
  name: string;
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

const children: ChildProcess[] = [];

/** A free loopback port (the service logs at warn, so its "listening" line is not there to read). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startServe(name: string, config: string): Promise<Serve> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--config', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SMPP_BRIDGE_LEASE_OWNER: name, PORT: String(port) },
  });
  children.push(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Its log (warnings and errors: what went wrong, if anything), kept when LOG_DIR is set.
  const log = process.env.LOG_DIR ? createWriteStream(join(process.env.LOG_DIR, `${name}.log`)) : null;
  createInterface({ input: child.stdout! }).on('line', (line) => log?.write(`${line}\n`));
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  child.once('exit', () => {
    gone = true;
  });
  await until(`${name} listening`, 120_000, async () => {
    if (gone) throw new Error(`${name} exited before listening`);
    return (await fetch(`${url}/livez`)).ok ? true : undefined;
  });
  return { name, child, url, exited };
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** How many binds this replica runs (healthy here, owned by it). */
async function running(s: Serve): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  do {
    const page: Response = await fetch(
      `${s.url}/binds?status=healthy&limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    const body = (await page.json()) as { binds: { owner: string | null }[]; nextCursor: string | null };
    n += body.binds.filter((b) => b.owner === s.name).length;
    cursor = body.nextCursor;
  } while (cursor !== null);
  return n;
}

function boundCount(sim: SmscSimulator): number {
  let n = 0;
  for (const s of sim.sessions()) if (s.systemId !== null && s.state.startsWith('bound')) n++;
  return n;
}

function bindConfig(dir: string, name: string, lines: string[], binds: number, simPort: number): string {
  const path = join(dir, `${name}.yaml`);
  const all = [
    'http: { host: 127.0.0.1, port: 0 }',
    // info would log every bind's bind: with thousands of binds a log pipe read slowly blocks the service.
    'log: { level: warn }',
    ...lines,
    'defaults: { connectTimeoutMs: 30000, bindTimeoutMs: 30000 }',
    'binds:',
  ];
  for (let i = 0; i < binds; i++) {
    all.push(
      `  - { id: b${String(i).padStart(5, '0')}, host: ${LOOPBACK_HOSTS[i % LOOPBACK_HOSTS.length]}, port: ${simPort}, systemId: bench${i}, password: bench }`,
    );
  }
  writeFileSync(path, `${all.join('\n')}\n`);
  return path;
}

async function outbound(label: string, config: string): Promise<{ accepted: number; submitted: number }> {
  const s = await startServe(label, config);
  try {
    await until('the binds bound', 60_000, async () =>
      (await fetch(`${s.url}/readyz`)).status === 200 ? true : undefined,
    );
    const batch = (from: number) =>
      fetch(`${s.url}/messages/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          messages: Array.from({ length: 100 }, (_, i) => ({
            to: '447700900001',
            from: 'bench',
            text: `bench ${from + i}`,
          })),
        }),
      }).then(async (res) => {
        if (res.status !== 200 && res.status !== 207 && res.status !== 202) {
          throw new Error(`batch: HTTP ${res.status} ${await res.text()}`);
        }
      });
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < MESSAGES) {
          const from = next;
          next += 100;
          await batch(from);
        }
      }),
    );
    const acceptedMs = performance.now() - started;
    await until('every message submitted', 300_000, async () => {
      const stats = (await (await fetch(`${s.url}/messages/stats`)).json()) as {
        statusChanges: { submitted: number };
      };
      return stats.statusChanges.submitted >= MESSAGES ? true : undefined;
    });
    const submittedMs = performance.now() - started;
    return { accepted: (MESSAGES / acceptedMs) * 1000, submitted: (MESSAGES / submittedMs) * 1000 };
  } finally {
    s.child.kill('SIGTERM');
    await Promise.race([s.exited, sleep(30_000)]);
    s.child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const missing = postgresUnavailable();
  if (missing !== undefined) {
    console.log(`replicas bench skipped: ${missing}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-replicas-'));
  const server = await startPostgres({ durable: true, maxConnections: 200 });
  const sim = createSimulator({
    host: '0.0.0.0',
    port: 0,
    sessionInitTimeoutMs: 0,
    maxConnections: BINDS * 2 + 100,
  });
  const { port: simPort } = await sim.listen();
  try {
    const url = await server.createDatabase('replicas');
    const config = bindConfig(dir, 'replicas', [`store: { url: ${JSON.stringify(url)} }`], BINDS, simPort);
    console.log(
      `replicas bench: ${BINDS} binds, ${REPLICAS} replicas, PostgreSQL (fsync on), default leases (TTL 10 s, renew 2 s)`,
    );

    // 1. Spread.
    const started = performance.now();
    const names = Array.from({ length: REPLICAS }, (_, i) => `r${i + 1}`);
    const serves = await Promise.all(names.map((name) => startServe(name, config)));
    const allBoundMs = await until('every bind bound', 600_000, async () =>
      boundCount(sim) === BINDS ? performance.now() - started : undefined,
    );
    const base = Math.floor(BINDS / REPLICAS);
    const counts = await until('the fair split', 600_000, async () => {
      const c = await Promise.all(serves.map(running));
      return c.every((n) => n === base || n === base + 1) && c.reduce((a, b) => a + b, 0) === BINDS
        ? c
        : undefined;
    });
    const spreadMs = performance.now() - started;
    const peakSpread = Math.max(...Object.values(sim.bindPeaks({ reset: true })));
    console.log(
      `spread: all ${BINDS} bound after ${seconds(allBoundMs)}, fair split ${counts.join('/')} after ${seconds(spreadMs)}; most sessions of one bind at once: ${peakSpread}`,
    );

    // 2. Lease load in steady state.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    // Cumulative statistics reach these views when a backend flushes them (within ~10 s): the
    // window is long enough for that to even out.
    const stat = async () =>
      (
        await db.query(
          `SELECT d.xact_commit, d.tup_returned,
             (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'bind_leases') AS tup_updated
           FROM pg_stat_database d WHERE d.datname = current_database()`,
        )
      ).rows[0] as Record<string, string>;
    await db.query('SELECT pg_stat_clear_snapshot()');
    const s0 = await stat();
    const t0 = performance.now();
    await sleep(STEADY_S * 1000);
    await db.query('SELECT pg_stat_clear_snapshot()');
    const s1 = await stat();
    const dt = (performance.now() - t0) / 1000;
    const rate = (k: string) => ((Number(s1[k]) - Number(s0[k])) / dt).toFixed(0);
    console.log(
      `lease load (${REPLICAS} replicas, steady ${STEADY_S} s): ${rate('xact_commit')} transactions/s, ${rate('tup_updated')} lease rows renewed/s, ${rate('tup_returned')} rows read/s; per replica and renew interval: 1 heartbeat (3 statements), 1 renewal (1 statement), 1 lease listing, 1 bind-set check`,
    );
    await db.end();

    // 3. Takeover after kill -9 of the last replica.
    const victim = serves.at(-1)!;
    const lost = counts.at(-1)!;
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    // The simulator sees the dead process's sessions close, then the survivors bind them.
    const noticedMs = await until('the SMSC seeing the sessions gone', 600_000, async () =>
      boundCount(sim) <= BINDS - lost ? performance.now() - killedAt : undefined,
    );
    const survivors = serves.slice(0, -1);
    const rebindMs = await until('every bind bound again', 600_000, async () => {
      if (boundCount(sim) !== BINDS) return undefined;
      const runs = await Promise.all(survivors.map(running));
      return runs.reduce((a, b) => a + b, 0) === BINDS ? performance.now() - killedAt : undefined;
    });
    console.log(`  (the SMSC saw ${victim.name}'s sessions close after ${seconds(noticedMs)})`);
    const peakTakeover = Math.max(...Object.values(sim.bindPeaks()));
    console.log(
      `takeover after kill -9 of ${victim.name}: its ${lost} binds bound by the others after ${seconds(rebindMs)}; most sessions of one bind at once: ${peakTakeover}`,
    );
    for (const s of serves.slice(0, -1)) s.child.kill('SIGTERM');
    await Promise.race([Promise.all(serves.map((s) => s.exited)), sleep(60_000)]);

    // 4. Outbound on PostgreSQL and on SQLite.
    const pgUrl = await server.createDatabase('outbound');
    const onPg = await outbound(
      'pg',
      bindConfig(dir, 'pg', [`store: { url: ${JSON.stringify(pgUrl)} }`], 4, simPort),
    );
    const onSqlite = await outbound(
      'sqlite',
      bindConfig(dir, 'sqlite', [`store: { path: ${JSON.stringify(join(dir, 'store.db'))} }`], 4, simPort),
    );
    console.log(
      `outbound, ${MESSAGES} messages in batches of 100, 4 binds: PostgreSQL ${onPg.accepted.toFixed(0)} accepted/s, ${onPg.submitted.toFixed(0)} submitted/s; SQLite ${onSqlite.accepted.toFixed(0)} accepted/s, ${onSqlite.submitted.toFixed(0)} submitted/s (PostgreSQL/SQLite ${(onPg.submitted / onSqlite.submitted).toFixed(2)}×)`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sim.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.exit(1);
  },
);
