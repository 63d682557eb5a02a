// npm run bench -- http [--duration-s S] [--connections N] [--rounds N] [--warmup-s S]
//                       [--enquire-connections N] [--only health|enquire] [--cpu-prof]
//
// The HTTP API under load, on loopback, with autocannon in this process and each server in a
// process of its own (server-child.ts), so the load generator never shares a server's event loop:
//
// 1. health: GET /binds/main/health of our app (real BindRegistry, one bind bound to the
//    simulator) against a bare fastify route GET /hello → { hello: 'world' } (same fastify, logger
//    off). Measured alternately, ours then bare, for --rounds rounds of --duration-s seconds each,
//    so that noise on the machine falls on both sides. Every round starts a fresh pair of server
//    processes and warms each up for --warmup-s: on this box two processes running the very same
//    server differ by up to a third in CPU per request, steadily over their lifetime, so one
//    process per side for the whole run would compare processes rather than code. Per round:
//    req/s, latency p50/p99, the CPU the server used per request, and the ratio ours / bare; then
//    the median of the per-round ratios (goal: ≥ 0.8).
// 2. enquire: POST /binds/:id/enquire from --enquire-connections connections for --duration-s
//    seconds, on a bind with minProbeIntervalMs 0 (only coalescing limits the PDUs) and on one with
//    the default 1000 ms (the 429s). Statuses, and the enquire_link PDUs the simulator received from
//    that bind in the same window.
//
// --cpu-prof writes V8 CPU profiles of both server processes (under the OS temporary directory).
import os from 'node:os';
import path from 'node:path';
import { type LoadResult, runLoad } from './load.js';
import { BENCH_BINDS, type ServerKind } from './messages.js';
import { type ServerProcess, startServer } from './server-process.js';

const GOAL_RATIO = 0.8;

interface Args {
  durationS: number;
  connections: number;
  rounds: number;
  warmupS: number;
  enquireConnections: number;
  only: 'health' | 'enquire' | undefined;
  cpuProf: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    durationS: 2,
    connections: 10,
    rounds: 5,
    warmupS: 1,
    enquireConnections: 50,
    only: undefined,
    cpuProf: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (min: number): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < min) throw new Error(`${flag}: expected a number ≥ ${min}`);
      return n;
    };
    if (flag === '--duration-s') args.durationS = value(0.5);
    else if (flag === '--connections') args.connections = Math.floor(value(1));
    else if (flag === '--rounds') args.rounds = Math.floor(value(1));
    else if (flag === '--warmup-s') args.warmupS = value(0);
    else if (flag === '--enquire-connections') args.enquireConnections = Math.floor(value(1));
    else if (flag === '--cpu-prof') args.cpuProf = true;
    else if (flag === '--only') {
      const what = argv[++i];
      if (what !== 'health' && what !== 'enquire') throw new Error('--only: health or enquire');
      args.only = what;
    } else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fixed = (n: number, digits: number): number => Number(n.toFixed(digits));

interface Measured {
  load: LoadResult;
  serverCpuMs: number;
}

/** One autocannon run against a server, with the CPU the server used over the same window. */
async function measure(
  server: ServerProcess,
  urlPath: string,
  connections: number,
  durationS: number,
  method: 'GET' | 'POST' = 'GET',
): Promise<Measured> {
  const cpuBefore = await server.cpuMs();
  const load = await runLoad({
    url: `http://127.0.0.1:${server.port}${urlPath}`,
    connections,
    durationS,
    method,
  });
  const serverCpuMs = (await server.cpuMs()) - cpuBefore;
  return { load, serverCpuMs };
}

interface HealthRow {
  round: number;
  side: 'ours' | 'bare';
  m: Measured;
}

const HEALTH_PATH = `/binds/${BENCH_BINDS.health}/health`;
const BARE_PATH = '/hello';

async function healthBench(args: Args, profArgs: (kind: ServerKind) => string[]): Promise<void> {
  console.log(
    `\n1. GET ${HEALTH_PATH} (ours) vs GET ${BARE_PATH} (bare fastify), ${args.connections} connections, ` +
      `${args.rounds} rounds of ${args.durationS} s each side, ours then bare; a fresh pair of server ` +
      `processes per round, each warmed up for ${args.warmupS} s`,
  );
  const rows: HealthRow[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    const [ours, bare] = await Promise.all([
      startServer('ours', profArgs('ours')),
      startServer('bare', profArgs('bare')),
    ]);
    try {
      if (args.warmupS > 0) {
        await measure(ours, HEALTH_PATH, args.connections, args.warmupS);
        await measure(bare, BARE_PATH, args.connections, args.warmupS);
      }
      rows.push({
        round,
        side: 'ours',
        m: await measure(ours, HEALTH_PATH, args.connections, args.durationS),
      });
      rows.push({ round, side: 'bare', m: await measure(bare, BARE_PATH, args.connections, args.durationS) });
    } finally {
      await Promise.all([ours.stop(), bare.stop()]);
    }
  }
  const cpuUsPerRequest = (m: Measured): number => (m.serverCpuMs * 1_000) / m.load.requests;
  console.table(
    rows.map(({ round, side, m }) => ({
      round,
      side,
      'req/s': Math.round(m.load.perSecond),
      'p50 µs': Math.round(m.load.p50Us),
      'p99 µs': Math.round(m.load.p99Us),
      'server CPU %': Math.round((m.serverCpuMs / (m.load.durationS * 1_000)) * 100),
      'server CPU µs/req': fixed(cpuUsPerRequest(m), 1),
      'load-gen CPU %': Math.round((m.load.loadCpuMs / (m.load.durationS * 1_000)) * 100),
      'non-2xx': m.load.requests - (m.load.statuses['200'] ?? 0),
      errors: m.load.errors + m.load.timeouts,
    })),
  );
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const perRound = [];
  for (let round = 1; round <= args.rounds; round++) {
    const a = rows.find((r) => r.round === round && r.side === 'ours')!.m;
    const b = rows.find((r) => r.round === round && r.side === 'bare')!.m;
    const ratio = a.load.perSecond / b.load.perSecond;
    const cpuRatio = cpuUsPerRequest(b) / cpuUsPerRequest(a);
    ratios.push(ratio);
    cpuRatios.push(cpuRatio);
    perRound.push({
      round,
      'ours req/s': Math.round(a.load.perSecond),
      'bare req/s': Math.round(b.load.perSecond),
      'ours / bare': fixed(ratio, 3),
      'bare CPU/req ÷ ours CPU/req': fixed(cpuRatio, 3),
    });
  }
  console.table(perRound);
  const bad = rows.filter(
    (r) => r.m.load.requests !== (r.m.load.statuses['200'] ?? 0) || r.m.load.errors > 0,
  );
  if (bad.length > 0)
    console.log('WARNING: some answers were not 200 or some requests failed (see the table)');
  const med = median(ratios);
  console.log(
    `median ratio ours / bare (req/s): ${med.toFixed(3)}× — goal ≥ ${GOAL_RATIO}×: ${med >= GOAL_RATIO ? 'met' : 'NOT met'}`,
  );
  console.log(`median ratio of server CPU per request (bare ÷ ours): ${median(cpuRatios).toFixed(3)}×`);
}

async function enquireBench(ours: ServerProcess, args: Args): Promise<void> {
  console.log(
    `\n2. POST /binds/:id/enquire, ${args.enquireConnections} connections, ${args.durationS} s per bind, ` +
      'enquire_link PDUs counted by the simulator from that bind in the same window',
  );
  const cases = [
    { bind: BENCH_BINDS.coalesced, minProbeIntervalMs: 0 },
    { bind: BENCH_BINDS.limited, minProbeIntervalMs: 1_000 },
  ];
  const rows = [];
  for (const c of cases) {
    const before = await ours.enquireLinks(c.bind);
    const m = await measure(
      ours,
      `/binds/${c.bind}/enquire`,
      args.enquireConnections,
      args.durationS,
      'POST',
    );
    const after = await ours.enquireLinks(c.bind);
    if (before.sessions !== 1 || after.sessions !== 1) {
      console.log(
        `WARNING: bind ${c.bind} had ${before.sessions} → ${after.sessions} sessions (reconnected?)`,
      );
    }
    const pdus = after.enquireLinks - before.enquireLinks;
    const s = m.load.statuses;
    const known = (s['200'] ?? 0) + (s['429'] ?? 0) + (s['504'] ?? 0);
    rows.push({
      bind: c.bind,
      minProbeIntervalMs: c.minProbeIntervalMs,
      'HTTP answers': m.load.requests,
      'req/s': Math.round(m.load.perSecond),
      'HTTP 200': s['200'] ?? 0,
      'HTTP 429': s['429'] ?? 0,
      'HTTP 504': s['504'] ?? 0,
      other: m.load.requests - known,
      errors: m.load.errors + m.load.timeouts,
      'enquire_link PDUs': pdus,
      'PDUs / HTTP': fixed(pdus / m.load.requests, 4),
      'HTTP / PDU': fixed(m.load.requests / pdus, 1),
      '200 p50 µs': Math.round(m.load.p50Us2xx),
      '200 p99 µs': Math.round(m.load.p99Us2xx),
      'server CPU %': Math.round((m.serverCpuMs / (m.load.durationS * 1_000)) * 100),
    });
  }
  console.table(rows);
  for (const r of rows) {
    console.log(
      `${r.bind} (minProbeIntervalMs ${r.minProbeIntervalMs}): ${r['HTTP answers']} HTTP answers, ` +
        `${r['enquire_link PDUs']} enquire_link PDUs to the SMSC (one per ${r['HTTP / PDU']} requests)`,
    );
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const profDir = path.join(os.tmpdir(), 'smpp-bridge-http-prof');
  // Sampled every 100 µs: a request costs some tens of µs.
  const profArgs = (kind: ServerKind): string[] =>
    args.cpuProf
      ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', path.join(profDir, kind)]
      : [];
  console.log(
    `http bench: node ${process.version}, ${os.availableParallelism()} CPUs; each server in its own ` +
      'process on 127.0.0.1, autocannon in this one',
  );
  if (args.only !== 'enquire') await healthBench(args, profArgs);
  if (args.only !== 'health') {
    const ours = await startServer('ours', profArgs('ours'));
    try {
      await enquireBench(ours, args);
    } finally {
      await ours.stop();
    }
  }
  if (args.cpuProf) console.log(`\nCPU profiles (one per server process and thread): ${profDir}/{ours,bare}`);
  console.log(`\ndone in ${((performance.now() - started) / 1_000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
