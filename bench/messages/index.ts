/**
 * npm run bench -- messages [--duration-s S] [--binds N] [--window W] [--serve-dir DIR]
 *                            [--phases single,batches,steady] [--steady-rate R]
 *
 * The outbound message path end to end, on this machine, in one run:
 *   1. raw: submit_sm → submit_sm_resp through our own sessions (N binds, window W each) straight to
 *      the simulator: the ceiling the bridge is measured against;
 *   2. the real service (`node dist/cli.js serve`, SQLite store with synchronous=FULL, N binds of
 *      window W to the same simulator) under autocannon:
 *        - single POST /messages at 50 connections: accepted (202) per second, then the time until
 *          the simulator has answered every accepted message → acknowledged end to end per second;
 *        - POST /messages/batch with 100 messages per request at 10 connections, the same two figures;
 *        - a steady 5,000 msg/s of single POSTs: accept latency p50/p99;
 *      and the store's longest commit (event-loop block) from /metrics when the service exports it.
 * The simulator runs in its own process. Receipts are not asked for (receipt: none), so the figure is
 * the submit path alone. Figures on a 2-core shared machine are noisy: compare ratios from one run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectSocket } from '../../src/session/connect.js';
import { SmppSession } from '../../src/session/session.js';
import { runLoad } from '../http/load.js';
import { forkSmsc, startServe, waitReady } from '../serve-process.js';
import type { FromSmsc, ToSmsc } from './smsc-child.js';

interface Args {
  durationS: number;
  binds: number;
  window: number;
  serveDir: string;
  /** Which service phases to run (all by default): to profile one alone. */
  phases: Set<string>;
  /** Messages per second the steady phase offers (default 5,000, the figure). */
  steadyRate: number;
}

const PHASES = ['single', 'batches', 'steady'];

function parseArgs(argv: string[]): Args {
  const args: Args = {
    durationS: 10,
    binds: 4,
    window: 100,
    serveDir: '.',
    phases: new Set(PHASES),
    steadyRate: 5_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
      return n;
    };
    if (flag === '--duration-s') args.durationS = value();
    else if (flag === '--binds') args.binds = Math.floor(value());
    else if (flag === '--window') args.window = Math.floor(value());
    else if (flag === '--serve-dir') args.serveDir = argv[++i] ?? '.';
    else if (flag === '--steady-rate') args.steadyRate = Math.floor(value());
    else if (flag === '--phases') {
      args.phases = new Set((argv[++i] ?? '').split(','));
      const unknown = [...args.phases].filter((p) => !PHASES.includes(p));
      if (unknown.length > 0) throw new Error(`--phases takes ${PHASES.join(',')}, not ${unknown.join(',')}`);
    } else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the SMSC child

type Counters = Extract<FromSmsc, { submitsAnswered: number }>;

interface Smsc {
  port: number;
  read(): Promise<Counters>;
  close(): void;
}

async function startSmsc(): Promise<Smsc> {
  const smsc = await forkSmsc<ToSmsc, FromSmsc>(join(import.meta.dirname, 'smsc-child.ts'));
  return {
    port: smsc.port,
    read: () => smsc.ask({ cmd: 'read' }, (m): m is Counters => 'submitsAnswered' in m),
    close: () => smsc.send({ cmd: 'exit' }),
  };
}

// ------------------------------------------------------------------ 1. raw sessions

async function rawSubmitRate(
  port: number,
  binds: number,
  window: number,
  durationS: number,
): Promise<number> {
  const sessions: SmppSession[] = [];
  for (let i = 0; i < binds; i++) {
    const socket = await connectSocket({ host: '127.0.0.1', port, connectTimeoutMs: 5_000 });
    const session = new SmppSession(socket, {
      role: 'esme',
      windowSize: window,
      enquireLinkIntervalMs: 0,
      windowWaitTimeoutMs: 60_000,
    });
    await session.bind('bind_transceiver', { system_id: `raw${i}`, password: 'bench' });
    sessions.push(session);
  }
  let done = 0;
  let stop = false;
  const submit = {
    source_addr_ton: 5,
    source_addr: 'Bench',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900123',
    short_message: Buffer.from('Hello from the messages bench'),
  };
  const worker = async (session: SmppSession): Promise<void> => {
    while (!stop) {
      await session.request('submit_sm', submit);
      done++;
    }
  };
  const workers = sessions.flatMap((s) => Array.from({ length: window }, () => worker(s)));
  await sleep(1_000);
  const start = done;
  const t0 = performance.now();
  await sleep(durationS * 1_000);
  const rate = ((done - start) * 1_000) / (performance.now() - t0);
  stop = true;
  await Promise.allSettled(workers);
  for (const s of sessions) await s.close();
  return rate;
}

// ------------------------------------------------------------------ 2. the service

/** Waits until the simulator has answered `target` submits; returns when (performance.now()), or null on stall. */
async function waitAnswered(smsc: Smsc, target: number, stallMs = 15_000): Promise<number | null> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const { submitsAnswered } = await smsc.read();
    const now = performance.now();
    if (submitsAnswered >= target) return now;
    if (submitsAnswered !== last) {
      last = submitsAnswered;
      lastChange = now;
    } else if (now - lastChange > stallMs) {
      console.error(`stalled at ${submitsAnswered} of ${target} answered`);
      return null;
    }
    await sleep(20);
  }
}

const message = (i: number) => ({
  to: `+4477009${String(i % 100_000).padStart(5, '0')}`,
  from: 'Bench',
  text: 'Hello from the messages bench',
  receipt: 'none',
});

interface StoreFigures {
  longestMs: number | null;
  commits: number;
  units: number;
  busyMs: number;
  /** The served process's CPU time (user + system), ms. */
  cpuMs: number;
}

/** The store's group-commit figures from /metrics (smpp_store_*), when the service exports them. */
async function storeFigures(url: string): Promise<StoreFigures> {
  const text = await fetch(`${url}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const value = (name: string): number | null => {
    const line = text.split('\n').find((l) => new RegExp(`^${name}(\\{|\\s)`).test(l));
    return line ? Number(line.split(/\s+/).at(-1)) : null;
  };
  const longest = value('smpp_store_longest_commit_seconds');
  return {
    longestMs: longest === null ? null : longest * 1_000,
    commits: value('smpp_store_commits_total') ?? 0,
    units: value('smpp_store_units_total') ?? 0,
    busyMs: (value('smpp_store_busy_seconds_total') ?? 0) * 1_000,
    cpuMs: (value('process_cpu_seconds_total') ?? 0) * 1_000,
  };
}

/**
 * The served process's CPU time per message, ms: on a shared machine the rate follows how much CPU
 * the process was given; its CPU per message does much less.
 */
function cpuPerMessage(before: StoreFigures, after: StoreFigures, messages: number): string {
  return messages > 0 ? ((after.cpuMs - before.cpuMs) / messages).toFixed(3) : 'n/a';
}

/** Units per commit, mean commit (BEGIN to end of COMMIT) and the store's share of the phase's wall time. */
function groupFigures(before: StoreFigures, after: StoreFigures, wallMs: number): string {
  const commits = after.commits - before.commits;
  if (commits <= 0) return 'n/a (not exported)';
  const busy = after.busyMs - before.busyMs;
  return `${((after.units - before.units) / commits).toFixed(1)} / ${(busy / commits).toFixed(2)} / ${((100 * busy) / wallMs).toFixed(0)} %`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(
    `messages bench: node ${process.version}, ${args.binds} binds × window ${args.window}, ${args.durationS} s runs`,
  );
  const smsc = await startSmsc();
  const rows: [string, string][] = [];
  try {
    const raw = await rawSubmitRate(smsc.port, args.binds, args.window, args.durationS);
    rows.push(['raw sessions: submit_sm acknowledged per second', raw.toFixed(0)]);

    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-messages-'));
    const binds = Array.from(
      { length: args.binds },
      (_, i) =>
        `  - id: b${i}\n    host: 127.0.0.1\n    port: ${smsc.port}\n    systemId: bridge${i}\n    password: bench\n    windowSize: ${args.window}\n`,
    ).join('');
    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      `http:\n  host: 127.0.0.1\n  port: 0\nlog:\n  level: info\nstore:\n  path: ${join(dir, 'bench.db')}\nbinds:\n${binds}`,
    );
    const service = await startServe(args.serveDir, configPath);
    try {
      await waitReady(service.url, 30_000);
      const json = { 'content-type': 'application/json' };

      const GROUPS = 'store: units per commit / mean commit ms / store share of the wall time';
      const CPU = 'serve CPU ms per message (accepted and acknowledged)';
      let figures = await storeFigures(service.url);
      let now = figures;
      let before: number;
      let t0: number;
      let done: number | null;
      if (args.phases.has('single')) {
        // Single POSTs at 50 connections.
        figures = await storeFigures(service.url);
        before = (await smsc.read()).submitsAnswered;
        t0 = performance.now();
        const single = await runLoad({
          url: `${service.url}/messages`,
          method: 'POST',
          headers: json,
          body: JSON.stringify(message(1)),
          connections: 50,
          durationS: args.durationS,
        });
        const accepted = single.statuses['202'] ?? 0;
        done = await waitAnswered(smsc, before + accepted);
        rows.push([
          'single POST, 50 connections: accepted (202) per second',
          (accepted / single.durationS).toFixed(0),
        ]);
        rows.push([
          'single POST: acknowledged by the SMSC end to end per second',
          done === null ? 'stalled' : ((accepted * 1_000) / (done - t0)).toFixed(0),
        ]);
        rows.push([
          'single POST: accept latency p50 / p99 (ms)',
          `${(single.p50Us2xx / 1e3).toFixed(2)} / ${(single.p99Us2xx / 1e3).toFixed(2)}`,
        ]);
        now = await storeFigures(service.url);
        rows.push([`single POST: ${GROUPS}`, groupFigures(figures, now, performance.now() - t0)]);
        rows.push([`single POST: ${CPU}`, cpuPerMessage(figures, now, accepted)]);
        rows.push([
          'single POST: other statuses',
          JSON.stringify(Object.fromEntries(Object.entries(single.statuses).filter(([k]) => k !== '202'))),
        ]);
      }
      if (args.phases.has('batches')) {
        // Batches of 100 at 10 connections.
        figures = await storeFigures(service.url);
        before = (await smsc.read()).submitsAnswered;
        t0 = performance.now();
        const batchBody = JSON.stringify({ messages: Array.from({ length: 100 }, (_, i) => message(i)) });
        const batch = await runLoad({
          url: `${service.url}/messages/batch`,
          method: 'POST',
          headers: json,
          body: batchBody,
          connections: 10,
          durationS: args.durationS,
        });
        const batchOk = Object.entries(batch.statuses)
          .filter(([k]) => k.startsWith('2'))
          .reduce((n, [, c]) => n + c, 0);
        const batchMessages = batchOk * 100;
        done = await waitAnswered(smsc, before + batchMessages);
        rows.push([
          'batches of 100, 10 connections: messages accepted per second',
          (batchMessages / batch.durationS).toFixed(0),
        ]);
        rows.push([
          'batches: acknowledged by the SMSC end to end per second',
          done === null ? 'stalled' : ((batchMessages * 1_000) / (done - t0)).toFixed(0),
        ]);
        now = await storeFigures(service.url);
        rows.push([`batches: ${GROUPS}`, groupFigures(figures, now, performance.now() - t0)]);
        rows.push([`batches: ${CPU}`, cpuPerMessage(figures, now, batchMessages)]);
      }
      if (args.phases.has('steady')) {
        // A steady rate (5,000 msg/s unless --steady-rate): below saturation, latency and CPU per message.
        const rate = args.steadyRate.toLocaleString('en-US');
        figures = await storeFigures(service.url);
        t0 = performance.now();
        before = (await smsc.read()).submitsAnswered;
        const steady = await runLoad({
          url: `${service.url}/messages`,
          method: 'POST',
          headers: json,
          body: JSON.stringify(message(2)),
          connections: 50,
          durationS: args.durationS,
          overallRate: args.steadyRate,
        });
        const steadyAccepted = steady.statuses['202'] ?? 0;
        await waitAnswered(smsc, before + steadyAccepted);
        rows.push([
          `steady ${rate}/s offered: accepted per second`,
          (steadyAccepted / steady.durationS).toFixed(0),
        ]);
        rows.push([
          `steady ${rate}/s: accept latency p50 / p99 (ms)`,
          `${(steady.p50Us2xx / 1e3).toFixed(2)} / ${(steady.p99Us2xx / 1e3).toFixed(2)}`,
        ]);
        now = await storeFigures(service.url);
        rows.push([`steady: ${GROUPS}`, groupFigures(figures, now, performance.now() - t0)]);
        rows.push([`steady: ${CPU}`, cpuPerMessage(figures, now, steadyAccepted)]);
      }
      rows.push([
        'store: longest commit, event loop blocked (ms)',
        now.longestMs === null ? 'n/a (not exported)' : now.longestMs.toFixed(1),
      ]);
    } finally {
      service.child.kill('SIGTERM');
      await new Promise((r) => service.child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    smsc.close();
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | ----: |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
