/**
 * The `serve` part of the binds benchmark: the real service, built with `npm run build` and started
 * as `node dist/cli.js serve --config <tmp>.yaml` (default V8 flags, log level info to a pipe the
 * bench drains), with N binds to the simulator in the SMSC child process. Measured from outside,
 * as an operator would: time until the SMSC sees every bind bound, RSS (VmRSS, VmHWM) and CPU of
 * the service from /proc, then the HTTP surface at that scale — /metrics series, bytes and scrape
 * time with /livez polled every few ms during each scrape (its worst latency is the event-loop
 * block a scrape causes), GET /binds bytes, and the median last probe RTT of all binds. Bounded:
 * every wait has a deadline and the service gets SIGKILL if SIGTERM has not ended it in 30 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, stopServe } from '../serve-process.js';

export interface ServeSmsc {
  simPort: number;
  cpuReset(): void;
  read(): Promise<{ cpuMs: number; rssBytes: number; sessions: number; bound: number }>;
}

export interface ServeArgs {
  /** Checkouts whose service to run, one after the other (default: this one). */
  serveDirs: string[];
  binds: number;
  durationS: number;
  intervalMs: number;
  scrapes: number;
}

const LOOPBACK_HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
const CLK_TCK = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function quantile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), counted after "pid (comm)": indices 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1_000;
}

/** Current and peak resident set of a process in bytes, from /proc/<pid>/status. */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

function configYaml(args: ServeArgs, simPort: number): string {
  const lines = [
    'http: { host: 127.0.0.1, port: 0 }',
    'log: { level: info }',
    `defaults: { enquireLinkIntervalMs: ${args.intervalMs}, connectTimeoutMs: 30000, bindTimeoutMs: 30000 }`,
    'binds:',
  ];
  for (let i = 0; i < args.binds; i++) {
    lines.push(
      `  - { id: b${String(i).padStart(5, '0')}, host: ${LOOPBACK_HOSTS[i % LOOPBACK_HOSTS.length]}, port: ${simPort}, systemId: bench${i}, password: bench }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function timedGet(url: string): Promise<{ ms: number; text: string; status: number }> {
  const t = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  return { ms: performance.now() - t, text, status: res.status };
}

/** GET `path` while /livez is polled back to back (1 ms apart); the worst /livez latency is the stall. */
async function scrapeWithLivez(
  base: string,
  path: string,
): Promise<{ ms: number; bytes: number; text: string; livezMaxMs: number; livezCount: number }> {
  let done = false;
  const livez: number[] = [];
  const poller = (async () => {
    while (!done) {
      livez.push((await timedGet(`${base}/livez`)).ms);
      await sleep(1);
    }
  })();
  await sleep(20);
  const scrape = await timedGet(`${base}${path}`);
  done = true;
  await poller;
  return {
    ms: scrape.ms,
    bytes: Buffer.byteLength(scrape.text),
    text: scrape.text,
    livezMaxMs: Math.max(...livez),
    livezCount: livez.length,
  };
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

export async function serveBench(smsc: ServeSmsc, args: ServeArgs): Promise<void> {
  for (const dir of args.serveDirs) await serveOne(smsc, args, dir);
}

async function serveOne(smsc: ServeSmsc, args: ServeArgs, cwd: string): Promise<void> {
  const n = args.binds;
  const git = (...a: string[]) => spawnSync('git', a, { cwd, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD') || '(not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'src') === '' ? '' : ' + uncommitted changes in src';
  console.log(
    `\n## serve: the real service with ${n} binds, enquire_link every ${args.intervalMs} ms, ${args.durationS} s steady\n\n` +
      `service: ${cwd} at ${commit}${dirty}\n`,
  );
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed in ${cwd}`);
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, configYaml(args, smsc.simPort));
  const before = await smsc.read();

  smsc.cpuReset();
  const t0 = performance.now();
  const service = await startServe(cwd, configPath);
  const { pid, url } = service;
  const rows: (string | number)[][] = [];
  try {
    const listenMs = performance.now() - t0;
    // Bound, as the SMSC sees it: sessions that completed a bind, beyond those there before.
    const deadline = t0 + 120_000;
    let boundMs = Number.NaN;
    let rssPeakBinding = 0;
    for (;;) {
      const { bound } = await smsc.read();
      rssPeakBinding = Math.max(rssPeakBinding, rssOf(pid).rss);
      if (bound - before.bound >= n) {
        boundMs = performance.now() - t0;
        break;
      }
      if (performance.now() > deadline) {
        console.log(`only ${bound - before.bound} of ${n} bound after 120 s`);
        break;
      }
      await sleep(50);
    }
    const cpuBinding = cpuMsOf(pid);
    const smscBinding = await smsc.read();

    // Every bind probes at least once, then the steady window.
    await sleep(args.intervalMs + 1_000);
    smsc.cpuReset();
    const cpu0 = cpuMsOf(pid);
    const w0 = performance.now();
    const rss: number[] = [];
    while (performance.now() - w0 < args.durationS * 1_000) {
      await sleep(1_000);
      rss.push(rssOf(pid).rss);
    }
    const wallMs = performance.now() - w0;
    const cpuSteady = cpuMsOf(pid) - cpu0;
    const smscSteady = await smsc.read();
    const rssMean = rss.reduce((a, b) => a + b, 0) / rss.length;
    const rssMax = Math.max(...rss);

    // Every bind's last RTT before anything else asks the service for work (a stalled loop
    // delays the answers a probe waits for and would inflate it), page by page where the listing
    // pages (it returns all at once otherwise).
    const rtts: number[] = [];
    let listed = 0;
    let pages = 0;
    let cursor: string | null = null;
    let allBytes = 0;
    const tList = performance.now();
    do {
      const page = await timedGet(
        `${url}/binds?limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      allBytes += Buffer.byteLength(page.text);
      const body = JSON.parse(page.text) as {
        binds: { lastRttMs: number | null }[];
        nextCursor?: string | null;
      };
      pages++;
      listed += body.binds.length;
      for (const b of body.binds) if (b.lastRttMs !== null) rtts.push(b.lastRttMs);
      cursor = body.nextCursor ?? null;
    } while (cursor !== null && pages < 1_000);
    const listAllMs = performance.now() - tList;
    const unhealthy = await timedGet(`${url}/binds?status=unhealthy`);

    // The HTTP surface at this scale. /livez alone first: its latency without a scrape.
    const idleLivez: number[] = [];
    for (let i = 0; i < 200; i++) {
      idleLivez.push((await timedGet(`${url}/livez`)).ms);
      await sleep(5);
    }
    const scrapes: Awaited<ReturnType<typeof scrapeWithLivez>>[] = [];
    const cpuScrape0 = cpuMsOf(pid);
    for (let i = 0; i < args.scrapes; i++) {
      scrapes.push(await scrapeWithLivez(url, '/metrics'));
      await sleep(1_000);
    }
    const cpuPerScrape = (cpuMsOf(pid) - cpuScrape0) / args.scrapes;
    const listing = await scrapeWithLivez(url, '/binds');
    const last = scrapes.at(-1)!.text;
    const samples = last.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const perBind = samples.filter((l) => l.includes('bind="')).length;

    const ms = (v: number) => v.toFixed(1);
    const scrapeMs = scrapes.map((s) => s.ms);
    const livezMax = scrapes.map((s) => s.livezMaxMs);
    rows.push(
      ['service listening after (s)', (listenMs / 1_000).toFixed(2)],
      ['all bound, SMSC side (s)', (boundMs / 1_000).toFixed(2)],
      ['CPU until all bound, service (s of CPU)', (cpuBinding / 1_000).toFixed(1)],
      ['CPU until all bound, SMSC child (s of CPU)', (smscBinding.cpuMs / 1_000).toFixed(1)],
      ['RSS peak while binding (MB)', mb(rssPeakBinding)],
      [`RSS over ${args.durationS} s, mean / max (MB)`, `${mb(rssMean)} / ${mb(rssMax)}`],
      ['RSS high-water mark, VmHWM (MB)', mb(rssOf(pid).peak)],
      ['CPU steady, service (% of one core)', ((cpuSteady / wallMs) * 100).toFixed(1)],
      ['CPU steady, SMSC child (% of one core)', ((smscSteady.cpuMs / wallMs) * 100).toFixed(1)],
      ['/metrics series (samples) / with a bind label', `${samples.length} / ${perBind}`],
      ['/metrics bytes', `${Buffer.byteLength(last)} (${mb(Buffer.byteLength(last))} MB)`],
      [
        `/metrics scrape time, median / max of ${args.scrapes} (ms)`,
        `${ms(quantile(scrapeMs, 0.5))} / ${ms(Math.max(...scrapeMs))}`,
      ],
      ['CPU per scrape, service (ms)', ms(cpuPerScrape)],
      [
        '/livez latency idle, p50 / max (ms)',
        `${ms(quantile(idleLivez, 0.5))} / ${ms(Math.max(...idleLivez))}`,
      ],
      [
        '/livez worst latency during a scrape, median / max over scrapes (ms)',
        `${ms(quantile(livezMax, 0.5))} / ${ms(Math.max(...livezMax))}`,
      ],
      ['GET /binds bytes / time (ms)', `${listing.bytes} / ${ms(listing.ms)}`],
      ['GET /binds worst /livez latency during it (ms)', ms(listing.livezMaxMs)],
      [
        'every bind, ?limit=1000 pages: binds / pages / bytes / time (ms)',
        `${listed} / ${pages} / ${allBytes} / ${ms(listAllMs)}`,
      ],
      ['GET /binds?status=unhealthy bytes', Buffer.byteLength(unhealthy.text)],
      ['median last probe RTT over all binds (µs)', (quantile(rtts, 0.5) * 1_000).toFixed(0)],
    );
  } finally {
    const tStop = performance.now();
    const code = await stopServe(service);
    rows.push([`SIGTERM → exit (s), exit code ${code}`, ((performance.now() - tStop) / 1_000).toFixed(2)]);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(table(['measure', 'value'], rows));
}
