// npm run bench -- replicas [--binds 10000] [--replicas 3] [--steady-s 30] [--messages 2000]
//
// Bind ownership across replicas (issue 12), with the real processes: a throwaway PostgreSQL
// (fsync on), the SMSC simulator in a child process of its own (bench/binds/smsc-child.ts), and
// `serve` started as an operator would (`node --import tsx src/cli.ts serve --config <tmp>.yaml`)
// with the default lease timers (TTL 10 s, renew every 2 s).
// Every SMSC session is attributed to the replica that opened it: the simulator listens on
// 0.0.0.0 and replica i points its binds at its own loopback address 127.0.0.i (the binds, ids
// and accounts are the same on every replica; leases are by bind id), so the simulator's peaks
// per account tell two replicas bound at once (must never happen) from one replica's own retry.
// 1. Spread: the replicas start together with --binds binds each; time until the simulator sees
//    every bind bound, and until each replica runs exactly its fair share.
// 2. Lease load: over --steady-s seconds of steady state, PostgreSQL transactions/s
//    (pg_stat_database) and lease rows renewed/s (pg_stat_user_tables), all replicas together.
// 3. Freeze: SIGSTOP of one replica beyond the TTL (time until the others run its binds; its
//    sessions, frozen, stay open), then SIGCONT (time until it closed its stale sessions, and until
//    the binds are spread again, with the peaks of that re-spread).
// 4. Takeover: `kill -9` of one replica; the phases from the kill (its heartbeat and last lease
//    expiring in the database, the survivors' first and last claim, the first and last session
//    bound again), and the peaks: sessions per account, replicas per account (must stay 1).
// 5. Outbound: one `serve` on PostgreSQL and one on SQLite (4 binds each, in turn), --messages
//    messages POSTed in batches of 100; accepted/s and submitted/s.
// Every wait has a deadline; every child is killed at the end.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { BindPeak } from '../../src/simulator/simulator.js';
import { postgresUnavailable, startPostgres } from '../../test/helpers/postgres-server.js';
import type { FromSmsc, ToSmsc } from '../binds/smsc-child.js';
import { forkSmsc, type SmscChild } from '../serve-process.js';

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
/** Replica i (from 0) reaches the SMSC through 127.0.0.(i + 1): the SMSC tells replicas apart by it. */
const hostOf = (replica: number) => `127.0.0.${replica + 1}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Serve {
  name: string;
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
  /** Connections lost, by reason, as the service logged them (warn: `connection lost (reason)`). */
  lost: Map<string, number>;
  /** Log lines naming a PostgreSQL deadlock (SQLSTATE 40P01). */
  deadlocks: number;
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
  const lost = new Map<string, number>();
  let deadlocks = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    log?.write(`${line}\n`);
    const reason = /connection lost \(([a-z_]+)\)/.exec(line)?.[1];
    if (reason !== undefined) lost.set(reason, (lost.get(reason) ?? 0) + 1);
    if (line.includes('40P01') || line.includes('deadlock detected')) deadlocks++;
  });
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  child.once('exit', () => {
    gone = true;
  });
  await until(`${name} listening`, 120_000, async () => {
    if (gone) throw new Error(`${name} exited before listening`);
    return (await fetch(`${url}/livez`)).ok ? true : undefined;
  });
  return {
    name,
    child,
    url,
    exited,
    lost,
    get deadlocks() {
      return deadlocks;
    },
  };
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

type Smsc = SmscChild<ToSmsc, FromSmsc>;

/** CPU time a process has used so far (user + system, /proc/<pid>/stat), in seconds. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Sessions bound at the SMSC now. */
async function boundCount(smsc: Smsc): Promise<number> {
  return (await smsc.ask({ cmd: 'cpu-read' }, (m): m is Extract<FromSmsc, { bound: number }> => 'bound' in m))
    .bound;
}

/**
 * The local ports of this machine's established connections to `host:port`: the sessions a
 * replica that reaches the SMSC through `host` holds open (seen from the kernel, so a frozen
 * process's sockets count too).
 */
function establishedTo(host: string, port: number): Set<number> {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', 'dst', `${host}:${port}`], {
    encoding: 'utf8',
  });
  const ports = new Set<number>();
  for (const line of out.split('\n')) {
    const local = line.trim().split(/\s+/)[2];
    const m = local === undefined ? null : /:(\d+)$/.exec(local);
    if (m) ports.add(Number(m[1]));
  }
  return ports;
}

/**
 * SIGSTOP of replica `index` beyond the TTL: how long until the others run its binds; then
 * SIGCONT: how long until its stale sessions are closed, and until the binds are spread again,
 * with the peaks of that re-spread (replicas per account must be 1: it binds none with old leases).
 */
async function frozenPhase(
  serves: readonly Serve[],
  index: number,
  simPort: number,
  smsc: Smsc,
): Promise<void> {
  const frozen = serves[index]!;
  const others = serves.filter((s) => s !== frozen);
  const host = hostOf(index);
  const total = async (list: readonly Serve[]) =>
    (await Promise.all(list.map(running))).reduce((a, b) => a + b, 0);
  const share = await running(frozen);
  const stoppedAt = performance.now();
  frozen.child.kill('SIGSTOP');
  await until('the frozen replica’s binds run elsewhere', 600_000, async () =>
    (await total(others)) === BINDS ? true : undefined,
  );
  const movedMs = performance.now() - stoppedAt;
  const stale = establishedTo(host, simPort);
  await peaks(smsc, true);
  const resumedAt = performance.now();
  frozen.child.kill('SIGCONT');
  const closedMs = await until('its stale sessions closed', 120_000, async () => {
    const open = establishedTo(host, simPort);
    for (const port of stale) if (open.has(port)) return undefined;
    return performance.now() - resumedAt;
  });
  const base = Math.floor(BINDS / serves.length);
  let last: number[] = [];
  const counts = await until('the fair split again', 180_000, async () => {
    const c = await Promise.all(serves.map(running));
    last = c;
    return c.every((n) => n === base || n === base + 1) && c.reduce((a, b) => a + b, 0) === BINDS
      ? c
      : undefined;
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: the replicas run ${last.join('/')}`);
  });
  const spreadMs = performance.now() - resumedAt;
  console.log(
    `SIGSTOP of ${frozen.name} (${share} binds): the others ran all ${BINDS} after ${seconds(movedMs)}; its ${stale.size} frozen sessions stayed open meanwhile (this SMSC never drops an idle session)`,
  );
  console.log(
    `  SIGCONT: its stale sessions closed after ${Math.round(closedMs)} ms (first look); the binds spread again (${counts.join('/')}) after ${seconds(spreadMs)}; from SIGCONT on: ${peakLine(await peaks(smsc, true))}`,
  );
}

/** The SMSC's peaks since the last reset: sessions, replicas and sessions of one replica per account. */
async function peaks(smsc: Smsc, reset: boolean): Promise<{ max: BindPeak; twoOwners: string[] }> {
  const { peaks: all } = await smsc.ask(
    { cmd: 'peaks', reset },
    (m): m is Extract<FromSmsc, { peaks: unknown }> => 'peaks' in m,
  );
  const max: BindPeak = { sessions: 0, origins: 0, perOrigin: 0 };
  const twoOwners: string[] = [];
  for (const [account, p] of Object.entries(all)) {
    max.sessions = Math.max(max.sessions, p.sessions);
    max.origins = Math.max(max.origins, p.origins);
    max.perOrigin = Math.max(max.perOrigin, p.perOrigin);
    if (p.origins > 1) twoOwners.push(account);
  }
  return { max, twoOwners };
}

function peakLine(p: { max: BindPeak; twoOwners: string[] }): string {
  const owners = p.twoOwners.length === 0 ? '' : ` (TWO REPLICAS: ${p.twoOwners.slice(0, 10).join(', ')})`;
  return `most sessions of one account at once ${p.max.sessions}, most replicas of one account at once ${p.max.origins}${owners}, most sessions of one account from one replica ${p.max.perOrigin}`;
}

function lostLine(serves: readonly Serve[]): string {
  const total = new Map<string, number>();
  for (const s of serves) for (const [r, n] of s.lost) total.set(r, (total.get(r) ?? 0) + n);
  const parts = [...total].sort(([a], [b]) => a.localeCompare(b)).map(([r, n]) => `${r} ${n}`);
  const deadlocks = serves.reduce((a, s) => a + s.deadlocks, 0);
  return `bind_timeouts ${total.get('bind_timeout') ?? 0}; connections lost by reason: ${parts.join(', ') || 'none'}; PostgreSQL deadlocks logged: ${deadlocks}`;
}

function bindConfig(
  dir: string,
  name: string,
  lines: string[],
  binds: number,
  simPort: number,
  host = hostOf(0),
): string {
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
      `  - { id: b${String(i).padStart(5, '0')}, host: ${host}, port: ${simPort}, systemId: bench${i}, password: bench }`,
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
  const smsc: Smsc = await forkSmsc<ToSmsc, FromSmsc>(
    fileURLToPath(new URL('../binds/smsc-child.ts', import.meta.url)),
    { args: [String(BINDS * 2 + 100)] },
  );
  const simPort = smsc.port;
  try {
    const url = await server.createDatabase('replicas');
    const store = `store: { url: ${JSON.stringify(url)} }`;
    console.log(
      `replicas bench: ${BINDS} binds, ${REPLICAS} replicas, PostgreSQL (fsync on), default leases (TTL 10 s, renew 2 s), the SMSC in a child process; replica rN binds through 127.0.0.N`,
    );

    // 1. Spread.
    const started = performance.now();
    const smscCpu0 = cpuSeconds(smsc.child.pid);
    const names = Array.from({ length: REPLICAS }, (_, i) => `r${i + 1}`);
    const serves = await Promise.all(
      names.map((name, i) => startServe(name, bindConfig(dir, name, [store], BINDS, simPort, hostOf(i)))),
    );
    const allBoundMs = await until('every bind bound', 600_000, async () =>
      (await boundCount(smsc)) === BINDS ? performance.now() - started : undefined,
    );
    const base = Math.floor(BINDS / REPLICAS);
    const counts = await until('the fair split', 600_000, async () => {
      const c = await Promise.all(serves.map(running));
      return c.every((n) => n === base || n === base + 1) && c.reduce((a, b) => a + b, 0) === BINDS
        ? c
        : undefined;
    });
    const spreadMs = performance.now() - started;
    console.log(
      `spread: all ${BINDS} bound after ${seconds(allBoundMs)}, fair split ${counts.join('/')} after ${seconds(spreadMs)}; ${peakLine(await peaks(smsc, true))}`,
    );
    console.log(`  spread: ${lostLine(serves)}`);
    console.log(
      `  spread: CPU used until the fair split, s: ${serves.map((s) => `${s.name} ${cpuSeconds(s.child.pid).toFixed(1)}`).join(', ')}, the SMSC ${(cpuSeconds(smsc.child.pid) - smscCpu0).toFixed(1)}`,
    );
    for (const s of serves) s.lost.clear();

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

    // 3. SIGSTOP of one replica for longer than the TTL, then SIGCONT.
    await frozenPhase(serves, 1, simPort, smsc);

    // 4. Takeover after kill -9 of the last replica, phase by phase.
    const victim = serves.at(-1)!;
    const lost = counts.at(-1)!;
    const survivors = serves.slice(0, -1);
    await peaks(smsc, true);
    const dbNowMs = 'floor(extract(epoch from clock_timestamp()) * 1000)::bigint';
    const cpuBefore = [...survivors.map((s) => cpuSeconds(s.child.pid)), cpuSeconds(smsc.child.pid)];
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    // When the database stops counting the victim: its heartbeat row and its last lease expire.
    const expiry = (
      await db.query(
        `SELECT (SELECT expires_at FROM replicas WHERE owner = $1) - ${dbNowMs} AS heartbeat_ms,
           (SELECT max(expires_at) FROM bind_leases WHERE owner = $1) - ${dbNowMs} AS last_lease_ms`,
        [victim.name],
      )
    ).rows[0] as { heartbeat_ms: string | null; last_lease_ms: string | null };
    const heldBySurvivors = async () =>
      Number(
        (
          await db.query(
            `SELECT count(*) AS n FROM bind_leases WHERE owner <> $1 AND expires_at > ${dbNowMs}`,
            [victim.name],
          )
        ).rows[0].n,
      );
    const heldBefore = await heldBySurvivors();
    await victim.exited;
    const phase: Record<string, number | undefined> = {};
    const mark = (key: string, hit: boolean) => {
      if (hit && phase[key] === undefined) phase[key] = performance.now() - killedAt;
    };
    // Polled together (every 250 ms): the leases the survivors hold, the sessions bound at the SMSC.
    let low = BINDS;
    let cpuAtBound: number[] | undefined;
    await until('every bind bound again', 600_000, async () => {
      const [held, bound] = await Promise.all([heldBySurvivors(), boundCount(smsc)]);
      low = Math.min(low, bound);
      mark('smscSawClose', bound <= BINDS - lost);
      mark('firstClaim', held > heldBefore);
      mark('allClaimed', held === BINDS);
      mark('firstRebound', phase.smscSawClose !== undefined && bound > low);
      mark('allBound', bound === BINDS);
      if (bound === BINDS && cpuAtBound === undefined) {
        cpuAtBound = [...survivors.map((s) => cpuSeconds(s.child.pid)), cpuSeconds(smsc.child.pid)];
      }
      if (phase.allBound === undefined || phase.allClaimed === undefined) return undefined;
      const runs = await Promise.all(survivors.map(running));
      return runs.reduce((a, b) => a + b, 0) === BINDS ? true : undefined;
    });
    const healthyMs = performance.now() - killedAt;
    const at = (key: string) => (phase[key] === undefined ? '?' : seconds(phase[key]));
    console.log(
      `takeover after kill -9 of ${victim.name}: its ${lost} binds bound again by the others after ${at('allBound')} (the SMSC's count), every bind healthy on its owner's /binds after ${seconds(healthyMs)}; ${peakLine(await peaks(smsc, false))}`,
    );
    console.log(
      `  phases from the kill: the SMSC saw its sessions close ${at('smscSawClose')}; in the database its heartbeat expired at ${seconds(Number(expiry.heartbeat_ms))} and its last lease at ${seconds(Number(expiry.last_lease_ms))}; the survivors' first claim ${at('firstClaim')}, all ${BINDS} leases held ${at('allClaimed')}; first session bound again ${at('firstRebound')}, all ${BINDS} bound ${at('allBound')}`,
    );
    console.log(`  takeover: ${lostLine(survivors)}`);
    const cpuUsed = (cpuAtBound ?? []).map((v, i) => (v - cpuBefore[i]!).toFixed(1));
    console.log(
      `  takeover: CPU used from the kill until all bound, s: ${survivors.map((s, i) => `${s.name} ${cpuUsed[i]}`).join(', ')}, the SMSC ${cpuUsed.at(-1)}`,
    );
    await db.end();
    for (const s of survivors) s.child.kill('SIGTERM');
    await Promise.race([Promise.all(serves.map((s) => s.exited)), sleep(60_000)]);

    // 5. Outbound on PostgreSQL and on SQLite.
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
    smsc.send({ cmd: 'exit' });
    await Promise.race([new Promise((r) => smsc.child.once('exit', r)), sleep(10_000)]);
    if (smsc.child.exitCode === null && smsc.child.signalCode === null) smsc.child.kill('SIGKILL');
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
