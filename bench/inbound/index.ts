/**
 * npm run bench -- inbound [--count N] [--rate R] [--binds B] [--window W] [--serve-dir DIR]
 *
 * The inbound message path end to end, on this machine, in one run: the simulator (its own
 * process) floods MO deliver_sm — `--count` per bind at up to `--rate` per second per bind, through
 * its burst API — into the real service (`node dist/cli.js serve`, SQLite store, synchronous=full,
 * `--binds` receiver binds, each with up to `--window` deliver_sm unanswered: the simulator's window,
 * 10 by default as in most SMSCs) with one webhook endpoint subscribed to message.received, pointing at
 * an HTTP receiver in this process. Prints:
 *   - deliver_sm acknowledged (ESME_ROK, i.e. stored durably) per second, over the flood;
 *   - webhooks delivered per second (2xx received here), from the first MO to the last webhook;
 *   - the age of the oldest pending webhook when the flood ends, and the time from the end of the
 *     flood until every webhook arrived (the outbox drained);
 *   - the store's commits, units per commit and longest commit (event-loop block) from /metrics;
 *   - serve's CPU time per MO (flood and drain), the figure the machine's load skews least.
 * `SERVE_NODE_ARGS` passes flags to the served process (e.g. --cpu-prof), `SMSC_NODE_ARGS` to the
 * simulator's. `--serve-dir` runs another build's dist/ (a before/after comparison). Figures on a 2-core
 * shared machine are noisy: compare ratios from one run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkSmsc, startServe, waitReady } from '../serve-process.js';
import type { FromSmsc, ToSmsc } from './smsc-child.js';

interface Args {
  count: number;
  rate: number;
  binds: number;
  window: number;
  serveDir: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { count: 20_000, rate: 20_000, binds: 2, window: 10, serveDir: '.' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
      return Math.floor(n);
    };
    if (flag === '--count') args.count = value();
    else if (flag === '--rate') args.rate = value();
    else if (flag === '--binds') args.binds = value();
    else if (flag === '--window') args.window = value();
    else if (flag === '--serve-dir') args.serveDir = argv[++i] ?? '.';
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Counts = Extract<FromSmsc, { delivered: number }>;

interface Smsc {
  port: number;
  send(msg: ToSmsc): void;
  read(): Promise<Counts>;
}

async function startSmsc(windowSize: number): Promise<Smsc> {
  const smsc = await forkSmsc<ToSmsc, FromSmsc>(join(import.meta.dirname, 'smsc-child.ts'), {
    args: [String(windowSize)],
    nodeArgs: (process.env.SMSC_NODE_ARGS ?? '').split(' ').filter(Boolean),
  });
  return {
    port: smsc.port,
    send: (m) => smsc.send(m),
    read: () => smsc.ask({ cmd: 'read' }, (m): m is Counts => 'delivered' in m),
  };
}

/**
 * CPU time (user + system, ms) a process used so far, from /proc (Linux; null elsewhere). On a
 * shared machine this, per MO, is the figure that load does not skew much.
 */
function cpuMsOf(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return null;
  }
}

async function metric(url: string, name: string): Promise<number | null> {
  const text = await fetch(`${url}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(/\s+/).at(-1)) : null;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const total = args.count * args.binds;
  console.log(
    `inbound bench: node ${process.version}, ${args.binds} binds × ${args.count} MO at up to ${args.rate}/s each, window ${args.window}`,
  );
  // The webhook receiver: counts deliveries, answers 204 at once.
  let received = 0;
  let lastReceivedAt = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      lastReceivedAt = performance.now();
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverPort = (receiver.address() as AddressInfo).port;

  const smsc = await startSmsc(args.window);
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-inbound-'));
  const binds = Array.from(
    { length: args.binds },
    (_, i) =>
      `  - id: b${i}\n    host: 127.0.0.1\n    port: ${smsc.port}\n    systemId: bridge${i}\n    password: bench\n    bindType: receiver\n`,
  ).join('');
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    `http:\n  host: 127.0.0.1\n  port: 0\nlog:\n  level: info\nstore:\n  path: ${join(dir, 'bench.db')}\n` +
      `webhooks:\n  endpoints:\n    - id: bench\n      url: http://127.0.0.1:${receiverPort}/hook\n` +
      `      secret: whsec_${Buffer.alloc(32, 7).toString('base64')}\n      events: [message.received]\n` +
      `      concurrency: 64\nbinds:\n${binds}`,
  );
  const service = await startServe(args.serveDir, configPath);
  const rows: [string, string][] = [];
  try {
    await waitReady(service.url, 60_000);
    const cpuAtStart = cpuMsOf(service.child.pid);
    const t0 = performance.now();
    for (let i = 0; i < args.binds; i++) {
      smsc.send({ cmd: 'burst', systemId: `bridge${i}`, count: args.count, ratePerSecond: args.rate });
    }
    // The flood: until every MO was answered (or failed, or stalled).
    let floodEnd = t0;
    let last = -1;
    let lastChange = t0;
    for (;;) {
      const r = await smsc.read();
      const now = performance.now();
      if (r.delivered + r.failed >= total) {
        floodEnd = now;
        break;
      }
      if (r.delivered !== last) {
        last = r.delivered;
        lastChange = now;
      } else if (now - lastChange > 15_000) {
        console.error(`stalled at ${r.delivered} of ${total} acknowledged`);
        floodEnd = now;
        break;
      }
      await sleep(20);
    }
    const acked = (await smsc.read()).delivered;
    const oldestAtEnd = await metric(service.url, 'smpp_webhook_outbox_oldest_pending_age_seconds');
    // The drain: until every webhook arrived.
    const drainDeadline = performance.now() + 120_000;
    while (received < acked && performance.now() < drainDeadline) await sleep(10);
    const drained = received >= acked;
    const cpuAtEnd = cpuMsOf(service.child.pid);
    rows.push([
      'deliver_sm acknowledged (stored durably) per second',
      ((acked * 1_000) / (floodEnd - t0)).toFixed(0),
    ]);
    rows.push([
      'webhooks delivered per second (first MO to last webhook)',
      ((received * 1_000) / (lastReceivedAt - t0)).toFixed(0),
    ]);
    rows.push([
      'oldest pending webhook when the flood ended (s)',
      oldestAtEnd === null ? 'n/a' : oldestAtEnd.toFixed(2),
    ]);
    rows.push([
      'outbox drained after the flood ended (s)',
      drained
        ? (Math.max(0, lastReceivedAt - floodEnd) / 1_000).toFixed(2)
        : `not within 120 s (${received} of ${acked})`,
    ]);
    const commits = await metric(service.url, 'smpp_store_commits_total');
    const units = await metric(service.url, 'smpp_store_units_total');
    const longest = await metric(service.url, 'smpp_store_longest_commit_seconds');
    rows.push([
      'store: commits / units per commit',
      commits && units ? `${commits} / ${(units / commits).toFixed(1)}` : 'n/a',
    ]);
    rows.push([
      'store: longest commit, event loop blocked (ms)',
      longest === null ? 'n/a' : (longest * 1_000).toFixed(1),
    ]);
    rows.push([
      'serve CPU per MO, stored and its webhook sent (µs)',
      cpuAtStart === null || cpuAtEnd === null || acked === 0
        ? 'n/a'
        : (((cpuAtEnd - cpuAtStart) * 1_000) / acked).toFixed(0),
    ]);
    const cpu = await smsc.read();
    rows.push(['simulator CPU (ms)', cpu.cpuMs.toFixed(0)]);
  } finally {
    if (service.child.exitCode === null && service.child.signalCode === null) {
      const exited = new Promise((r) => service.child.once('exit', r));
      service.child.kill('SIGTERM');
      await exited;
    } else console.error(`serve exited early (${service.child.exitCode ?? service.child.signalCode})`);
    smsc.send({ cmd: 'exit' });
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | ----: |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
