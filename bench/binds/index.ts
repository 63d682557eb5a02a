// npm run bench -- binds [--binds N] [--duration-s S] [--interval-ms MS] [--probes N] [--no-capture]
//                        [--scrapes N] [--renders N] [--serve-dir DIR]... [--only serve|render|scale|accuracy]
//
// 0. Serve (serve.ts): the real `serve` process with N binds, measured from outside: time to all
//    bound, RSS, CPU, /metrics and GET /binds at that scale. Render (render.ts): one /metrics
//    exposition at N binds in this process, alone: its CPU and the longest slice. Then two measurements of the bind layer, with the SMSC (the simulator, plus a 16-octet echo server)
// in a child process that reports its own CPU:
//
// 1. Scale: N binds (default 10,000) in this process, one BindRegistry, keepalive every
//    --interval-ms (default 5000: N / 5 probes per second). Time until all are bound, then over
//    --duration-s (default 60): RSS, CPU of this process, event-loop delay (monitorEventLoopDelay),
//    probes answered and failed, binds that left 'healthy'. Then the time stopAll() takes.
// 2. Probe accuracy: one bind. The RTT it reports against a raw socket ping-pong measured the same
//    way in the same run, and against the time between the PDUs on the wire (tshark on lo, when
//    installed and allowed to capture): idle, and with 100 submit_sm queued in the same tick ahead
//    of each probe.
//
// 10,000 sockets need as many file descriptors in each process: the bench raises its soft limit
// (re-running itself under `ulimit -n`) when the hard limit allows. Binds connect round robin to
// 127.0.0.1–127.0.0.4 (all loopback on Linux; the simulator listens on 0.0.0.0) so ephemeral
// ports never run short.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BindSupervisor } from '../../src/binds/bind.js';
import { withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { encodePdu } from '../../src/protocol/codec.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { startCapture, tsharkAvailable } from './capture.js';
import { renderBench } from './render.js';
import { serveBench } from './serve.js';
import type { FromSmsc, ToSmsc } from './smsc-child.js';

const SELF = fileURLToPath(import.meta.url);
const SMSC_CHILD = fileURLToPath(new URL('./smsc-child.ts', import.meta.url));
const LOOPBACK_HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
const ENQUIRE_LINK = 0x00000015;
const ENQUIRE_LINK_RESP = 0x80000015;

interface Args {
  binds: number;
  durationS: number;
  intervalMs: number;
  probes: number;
  scrapes: number;
  renders: number;
  serveDirs: string[];
  capture: boolean;
  only: 'serve' | 'render' | 'scale' | 'accuracy' | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    binds: 10_000,
    durationS: 60,
    intervalMs: 5_000,
    probes: 4_000,
    scrapes: 5,
    renders: 5,
    serveDirs: [],
    capture: true,
    only: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: expected a number`);
      return n;
    };
    if (flag === '--binds') args.binds = Math.floor(value());
    else if (flag === '--duration-s') args.durationS = value();
    else if (flag === '--interval-ms') args.intervalMs = Math.floor(value());
    else if (flag === '--probes') args.probes = Math.floor(value());
    else if (flag === '--scrapes') args.scrapes = Math.max(1, Math.floor(value()));
    else if (flag === '--renders') args.renders = Math.max(1, Math.floor(value()));
    else if (flag === '--serve-dir') args.serveDirs.push(argv[++i] ?? '.');
    else if (flag === '--no-capture') args.capture = false;
    else if (flag === '--only') {
      const what = argv[++i];
      if (what !== 'serve' && what !== 'render' && what !== 'scale' && what !== 'accuracy')
        throw new Error('--only: serve, render, scale or accuracy');
      args.only = what;
    } else throw new Error(`unknown option ${flag}`);
  }
  if (args.serveDirs.length === 0) args.serveDirs.push(process.cwd());
  return args;
}

// ---------------------------------------------------------------- file descriptors

function shell(command: string): string {
  return spawnSync('sh', ['-c', command], { encoding: 'utf8' }).stdout.trim();
}

/** Re-runs this bench under a raised `ulimit -n` when N binds need more descriptors. Returns true if it did. */
function raiseFdLimit(binds: number): boolean {
  const needed = binds + 1_024;
  const soft = Number(shell('ulimit -n'));
  if (!Number.isFinite(soft) || soft >= needed || process.env.BINDS_BENCH_RELAUNCHED) return false;
  const hardText = shell('ulimit -Hn');
  const hard = hardText === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hardText);
  if (hard < needed) {
    console.error(`warning: ${binds} binds need ~${needed} file descriptors; the hard limit is ${hard}`);
    return false;
  }
  console.error(`raising the file descriptor limit from ${soft} to ${needed}`);
  const run = spawnSync(
    'sh',
    [
      '-c',
      `ulimit -n ${needed} && exec "$@"`,
      'sh',
      process.execPath,
      ...process.execArgv,
      SELF,
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, BINDS_BENCH_RELAUNCHED: '1' } },
  );
  process.exitCode = run.status ?? 1;
  return true;
}

// ---------------------------------------------------------------- the SMSC child

interface Smsc {
  simPort: number;
  echoPort: number;
  cpuReset(): void;
  read(): Promise<{ cpuMs: number; rssBytes: number; sessions: number; bound: number }>;
  /** Delays every answer of the simulator by `ms` (0: none). */
  delay(ms: number): Promise<void>;
  stop(): Promise<void>;
}

async function startSmsc(maxConnections: number): Promise<Smsc> {
  const child: ChildProcess = fork(SMSC_CHILD, [String(maxConnections)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (): Promise<FromSmsc> => new Promise((resolve) => child.once('message', resolve));
  const first = await next();
  if (!('ready' in first)) throw new Error('the SMSC child did not start');
  return {
    ...first.ready,
    cpuReset: () => child.send({ cmd: 'cpu-reset' } satisfies ToSmsc),
    read: async () => {
      const reply = next();
      child.send({ cmd: 'cpu-read' } satisfies ToSmsc);
      const m = await reply;
      if (!('cpuMs' in m)) throw new Error('unexpected message from the SMSC child');
      return m;
    },
    delay: async (ms) => {
      const reply = next();
      child.send({ cmd: 'delay', ms } satisfies ToSmsc);
      await reply;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send({ cmd: 'exit' } satisfies ToSmsc);
      }),
  };
}

// ---------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function quantile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function us(ms: number): string {
  return Number.isFinite(ms) ? (ms * 1_000).toFixed(1) : 'n/a';
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

// ---------------------------------------------------------------- 1. scale

async function scale(smsc: Smsc, args: Args): Promise<void> {
  const n = args.binds;
  console.log(
    `\n## scale: ${n} binds, enquire_link every ${args.intervalMs} ms, ${args.durationS} s steady\n`,
  );
  globalThis.gc?.();
  await sleep(200);
  const rss0 = process.memoryUsage.rss();
  const heap0 = process.memoryUsage().heapUsed;

  const registry = new BindRegistry({ sweepIntervalMs: 1_000 });
  let probesOk = 0;
  let probesFailed = 0;
  let leftHealthy = 0;
  let maxRttMs = 0;
  registry.on('probe', (p) => {
    if (p.ok) {
      probesOk++;
      if (p.rttMs > maxRttMs) maxRttMs = p.rttMs;
    } else probesFailed++;
  });
  registry.on('transition', (t) => {
    if (t.from === 'healthy') leftHealthy++;
  });
  const binds: BindSupervisor[] = [];
  for (let i = 0; i < n; i++) {
    binds.push(
      registry.add(
        withBindDefaults({
          id: `b${i}`,
          host: LOOPBACK_HOSTS[i % LOOPBACK_HOSTS.length]!,
          port: smsc.simPort,
          systemId: `bench${i}`,
          password: 'bench',
          enquireLinkIntervalMs: args.intervalMs,
          connectTimeoutMs: 30_000,
          bindTimeoutMs: 30_000,
        }),
      ),
    );
  }

  const t0 = performance.now();
  smsc.cpuReset();
  const cpuStart0 = process.cpuUsage();
  registry.startAll();
  const milestones = new Map<number, number>();
  const deadline = t0 + 120_000;
  for (;;) {
    let bound = 0;
    for (const b of binds) if (b.state === 'bound') bound++;
    for (const share of [0.5, 0.9, 1]) {
      if (!milestones.has(share) && bound >= Math.ceil(share * n))
        milestones.set(share, performance.now() - t0);
    }
    if (bound === n || performance.now() > deadline) {
      if (bound < n) console.log(`only ${bound} of ${n} bound after 120 s`);
      break;
    }
    await sleep(50);
  }
  const bindCpu = process.cpuUsage(cpuStart0);
  const bindWallMs = performance.now() - t0;
  const smscBind = await smsc.read();
  const reconnectsDuringBind = binds.reduce((sum, b) => sum + b.health().counters.reconnects, 0);

  // Let every bind probe at least once, then measure the steady state.
  await sleep(args.intervalMs + 1_000);
  probesOk = 0;
  probesFailed = 0;
  leftHealthy = 0;
  maxRttMs = 0;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  smsc.cpuReset();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const rss: number[] = [];
  const heap: number[] = [];
  while (performance.now() - w0 < args.durationS * 1_000) {
    await sleep(1_000);
    rss.push(process.memoryUsage.rss());
    heap.push(process.memoryUsage().heapUsed);
  }
  const wallMs = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  const smscSteady = await smsc.read();
  const leftHealthyInWindow = leftHealthy;
  const failedInWindow = probesFailed;
  const okInWindow = probesOk;
  const healthy = binds.filter((b) => b.status === 'healthy').length;
  const rttP50 = quantile(
    binds
      .slice(0, 1_000)
      .map((b) => b.health().rtt.p50 ?? Number.NaN)
      .filter(Number.isFinite),
    0.5,
  );

  // What stays when the garbage is gone (run-bench passes --expose-gc).
  globalThis.gc?.();
  await sleep(100);
  const rssAfterGc = process.memoryUsage.rss();
  const heapAfterGc = process.memoryUsage().heapUsed;
  const arrayBuffers = process.memoryUsage().arrayBuffers;
  const timeline = rss
    .filter((_, i) => i % Math.max(1, Math.floor(rss.length / 12)) === 0)
    .map((r) => mb(r))
    .join(' ');

  const tStop = performance.now();
  const { timedOut } = await registry.stopAll(30_000);
  const stopMs = performance.now() - tStop;

  const cpuPct = ((cpu.user + cpu.system) / 1_000 / wallMs) * 100;
  const smscPct = (smscSteady.cpuMs / wallMs) * 100;
  const rssMean = rss.reduce((a, b) => a + b, 0) / rss.length;
  const rssMax = Math.max(...rss);
  const heapMean = heap.reduce((a, b) => a + b, 0) / heap.length;
  // The histogram records the time between 10 ms timer ticks: the delay is what exceeds 10 ms.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - 10).toFixed(2);
  const m = (share: number) => ((milestones.get(share) ?? Number.NaN) / 1_000).toFixed(2);
  console.log(
    table(
      ['measure', 'value', 'goal'],
      [
        ['binds bound', `${binds.filter((b) => b.health().counters.binds > 0).length} / ${n}`, `${n}`],
        ['time to 50 % / 90 % / all bound (s)', `${m(0.5)} / ${m(0.9)} / ${m(1)}`, '≤ 30 s'],
        ['reconnects while binding', reconnectsDuringBind, '—'],
        [
          'CPU while binding, this process / SMSC (% of one core)',
          `${((bindCpu.user + bindCpu.system) / 10 / bindWallMs).toFixed(0)} / ${((smscBind.cpuMs / bindWallMs) * 100).toFixed(0)}`,
          '—',
        ],
        ['RSS before the binds (MB)', mb(rss0), '—'],
        ['RSS steady, mean / max (MB)', `${mb(rssMean)} / ${mb(rssMax)}`, '≤ 300 MB'],
        ['RSS per bind, (mean − before) / N (KB)', ((rssMean - rss0) / n / 1024).toFixed(1), '≤ 30 KB'],
        ['RSS after a full GC (MB)', mb(rssAfterGc), '—'],
        ['live JS heap per bind after a full GC (KB)', ((heapAfterGc - heap0) / n / 1024).toFixed(1), '—'],
        ['array buffers per bind (RTT ring) (KB)', (arrayBuffers / n / 1024).toFixed(1), '—'],
        ['JS heap per bind, mean incl. garbage (KB)', ((heapMean - heap0) / n / 1024).toFixed(1), '—'],
        ['CPU steady, this process (% of one core)', cpuPct.toFixed(1), '≤ 25 %'],
        ['CPU steady, SMSC child (% of one core)', smscPct.toFixed(1), '—'],
        [
          'event-loop delay p50 / p99 / max (ms)',
          `${ms(delay.percentile(50))} / ${ms(delay.percentile(99))} / ${ms(delay.max)}`,
          'p99 ≤ 20 ms',
        ],
        [
          'probes answered per second',
          (okInWindow / (wallMs / 1_000)).toFixed(0),
          `≈ ${(n / (args.intervalMs / 1_000)).toFixed(0)}`,
        ],
        ['probes failed', failedInWindow, '0'],
        ["RTT p50 (median of 1,000 binds' p50) / max (µs)", `${us(rttP50)} / ${us(maxRttMs)}`, '—'],
        ['binds that left healthy during the window', leftHealthyInWindow, '0'],
        ['healthy at the end', `${healthy} / ${n}`, `${n}`],
        [
          `stopAll() (unbind every bind) (s)${timedOut ? ' — timed out' : ''}`,
          (stopMs / 1_000).toFixed(2),
          '—',
        ],
      ],
    ),
  );
  console.log(`\nRSS over the window (MB): ${timeline}`);
}

// ---------------------------------------------------------------- 2. probe accuracy

interface Sample {
  rttMs: number;
  seq: number;
}

interface RawClient {
  localPort: number;
  /** One round trip; resolves with the time from just before the write to the 'data' event. */
  ping(): Promise<Sample>;
  close(): void;
}

/**
 * A bare socket doing ping-pong with as little JavaScript as possible: `request(seq)` gives the
 * bytes to send, and the answer is the next `answerLength` octets. With `hello`, that PDU is
 * written first and its answer (one whole PDU) read before the pings start.
 */
function rawClient(
  port: number,
  request: (seq: number) => Buffer,
  answerLength: number,
  hello?: Buffer,
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let pending: ((rxAt: bigint) => void) | null = null;
    let got = 0;
    let seq = 0x100;
    let greeting: Buffer | null = hello ? Buffer.alloc(0) : null;
    const client: RawClient = {
      localPort: 0,
      ping: () =>
        new Promise<Sample>((done) => {
          const n = ++seq;
          const bytes = request(n);
          const t = process.hrtime.bigint();
          pending = (rxAt) => done({ rttMs: Number(rxAt - t) / 1e6, seq: n });
          socket.write(bytes);
        }),
      close: () => socket.destroy(),
    };
    socket.on('data', (chunk) => {
      const rxAt = process.hrtime.bigint();
      if (greeting !== null) {
        greeting = Buffer.concat([greeting, chunk]);
        if (greeting.length >= 4 && greeting.length >= greeting.readUInt32BE(0)) {
          greeting = null;
          resolve(client);
        }
        return;
      }
      got += chunk.length;
      if (got >= answerLength && pending) {
        got -= answerLength;
        const p = pending;
        pending = null;
        p(rxAt);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      client.localPort = socket.localPort!;
      if (hello) socket.write(hello);
      else resolve(client);
    });
  });
}

/** A raw socket bound to the simulator, then enquire_link ping-pong: 16 octets each way. */
function rawSmppClient(port: number): Promise<RawClient> {
  const enquireLink = encodePdu(createPdu('enquire_link', { sequence_number: 1 }));
  const bind = encodePdu(
    createPdu('bind_transceiver', {
      sequence_number: 1,
      system_id: 'raw',
      password: 'raw',
      interface_version: 0x34,
    }),
  );
  return rawClient(
    port,
    (seq) => {
      enquireLink.writeUInt32BE(seq, 12);
      return enquireLink;
    },
    16,
    bind,
  );
}

async function accuracy(smsc: Smsc, args: Args): Promise<void> {
  console.log(`\n## probe accuracy: ${args.probes} probes each, one bind\n`);
  const capture = args.capture ? await startCapture([smsc.simPort, smsc.echoPort], smsc.simPort) : null;
  if (args.capture && capture === null && !tsharkAvailable())
    console.log('(tshark not installed: no wire times)\n');
  const registry = new BindRegistry();
  const bind = registry.add(
    withBindDefaults({
      id: 'accuracy',
      host: '127.0.0.1',
      port: smsc.simPort,
      systemId: 'accuracy',
      password: 'bench',
      enquireLinkIntervalMs: 0,
      minProbeIntervalMs: 0,
      windowSize: 1_000,
    }),
  );
  registry.startAll();
  while (bind.state !== 'bound') await sleep(10);
  const echo = await rawClient(smsc.echoPort, () => Buffer.alloc(16, 1), 16);
  const rawSmpp = await rawSmppClient(smsc.simPort);
  const ours = async (): Promise<Sample> => {
    const p = await bind.probe();
    return { rttMs: p.rttMs, seq: p.sequenceNumber };
  };

  // Interleaved sample by sample, in rotating order, so that the machine's moods (a 2-vCPU VM
  // wakes threads fast or slowly for seconds at a time) fall on all three alike.
  const clients = [echo.ping, rawSmpp.ping, ours];
  const samples: Sample[][] = [[], [], []];
  for (let i = 0; i < 500; i++) for (const c of clients) await c();
  for (let i = 0; i < args.probes; i++) {
    for (let k = 0; k < 3; k++) {
      const which = (i + k) % 3;
      samples[which]!.push(await clients[which]!());
    }
  }
  const [echoSamples, rawSmppSamples, idle] = samples as [Sample[], Sample[], Sample[]];

  // Busy: 100 submit_sm queued in the same tick, ahead of each probe.
  const busy: (Sample & { callerMs: number })[] = [];
  const submit = {
    source_addr: 'Bench',
    destination_addr: '447700900123',
    short_message: Buffer.from('Hello world'),
  };
  for (let i = 0; i < 500; i++) {
    const submits: Promise<unknown>[] = [];
    for (let k = 0; k < 100; k++) submits.push(bind.request('submit_sm', submit));
    const t = performance.now();
    const p = await bind.probe();
    busy.push({ rttMs: p.rttMs, seq: p.sequenceNumber, callerMs: performance.now() - t });
    await Promise.all(submits);
  }
  // A busy tick: 1 ms of synchronous work right after probe() returns, the SMSC answering 3 ms
  // late. Had the enquire_link waited in our process for the tick to end, or had the clock started
  // at the call, the reported RTT would exceed the wire time by the 1 ms.
  await smsc.delay(3);
  const tick: (Sample & { callerMs: number })[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    const probing = bind.probe();
    while (performance.now() - t < 1) {
      // busy
    }
    const p = await probing;
    tick.push({ rttMs: p.rttMs, seq: p.sequenceNumber, callerMs: performance.now() - t });
  }
  await smsc.delay(0);
  echo.close();
  rawSmpp.close();
  await registry.stopAll(5_000);
  const wire = capture ? await capture.stop() : null;

  // Wire round trips. SMPP: enquire_link → enquire_link_resp by connection and sequence_number.
  // Echo: each data segment to the echo server paired with the next one coming back.
  const wireOf = new Map<string, number>();
  const echoWire: number[] = [];
  if (wire) {
    const sentAt = new Map<string, number>();
    for (const p of wire.pdus) {
      if (p.commandId === ENQUIRE_LINK && p.dstPort === smsc.simPort)
        sentAt.set(`${p.srcPort}:${p.seq}`, p.t);
      else if (p.commandId === ENQUIRE_LINK_RESP && p.srcPort === smsc.simPort) {
        const key = `${p.dstPort}:${p.seq}`;
        const t = sentAt.get(key);
        if (t !== undefined) wireOf.set(key, (p.t - t) * 1_000);
      }
    }
    let out: number | undefined;
    for (const seg of wire.segments) {
      if (seg.dstPort === smsc.echoPort && seg.srcPort === echo.localPort) out = seg.t;
      else if (seg.srcPort === smsc.echoPort && seg.dstPort === echo.localPort && out !== undefined) {
        echoWire.push((seg.t - out) * 1_000);
        out = undefined;
      }
    }
  }
  // Our bind's connection is the other one to the simulator.
  const ourPort = wire?.pdus.find(
    (p) => p.dstPort === smsc.simPort && p.srcPort !== rawSmpp.localPort && p.commandId === ENQUIRE_LINK,
  )?.srcPort;
  const wireFor = (port: number | undefined, list: Sample[]) =>
    list.flatMap((s) => wireOf.get(`${port}:${s.seq}`) ?? []);
  const excessFor = (port: number | undefined, list: Sample[]) =>
    list.flatMap((s) => {
      const w = wireOf.get(`${port}:${s.seq}`);
      return w === undefined ? [] : [s.rttMs - w];
    });

  const rawP50 = quantile(
    rawSmppSamples.map((s) => s.rttMs),
    0.5,
  );
  const row = (name: string, values: number[], withRatio = true) => {
    const p50 = quantile(values, 0.5);
    return [
      name,
      values.length,
      us(p50),
      us(quantile(values, 0.9)),
      us(quantile(values, 0.99)),
      withRatio ? `${(p50 / rawP50).toFixed(2)}×` : '',
    ];
  };
  const ms = (list: Sample[]) => list.map((s) => s.rttMs);
  const rows: (string | number)[][] = [
    row('echo ping-pong (16 octets), raw socket', ms(echoSamples)),
    row('enquire_link ping-pong, raw socket', ms(rawSmppSamples)),
    row('bind probe, reported rttMs', ms(idle)),
  ];
  if (wire) {
    // The warm-up is in the capture too: keep the measured pings only.
    rows.push(row('echo ping-pong, on the wire', echoWire.slice(-echoSamples.length)));
    rows.push(row('enquire_link, raw socket, on the wire', wireFor(rawSmpp.localPort, rawSmppSamples)));
    rows.push(row('bind probe, on the wire', wireFor(ourPort, idle)));
    rows.push(
      row(
        'echo, raw socket: measured − wire',
        echoWire.slice(-echoSamples.length).map((w, i) => echoSamples[i]!.rttMs - w),
        false,
      ),
    );
    rows.push(
      row('enquire_link, raw socket: measured − wire', excessFor(rawSmpp.localPort, rawSmppSamples), false),
    );
    rows.push(row('bind probe: reported − wire', excessFor(ourPort, idle), false));
  }
  rows.push(row('busy: bind probe, reported rttMs', ms(busy)));
  if (wire) {
    rows.push(row('busy: bind probe, on the wire', wireFor(ourPort, busy)));
    rows.push(row('busy: reported − wire', excessFor(ourPort, busy), false));
  }
  rows.push(
    row(
      'busy: probe() call → resolved (caller)',
      busy.map((s) => s.callerMs),
    ),
  );
  rows.push(row('busy tick + SMSC 3 ms late: reported rttMs', ms(tick), false));
  if (wire) {
    rows.push(row('busy tick + SMSC 3 ms late: on the wire', wireFor(ourPort, tick), false));
    rows.push(row('busy tick + SMSC 3 ms late: reported − wire', excessFor(ourPort, tick), false));
  }
  console.log(table(['round trip (µs)', 'n', 'p50', 'p90', 'p99', '/ raw enquire_link p50'], rows));
  const reported = quantile(ms(idle), 0.5);
  console.log(
    `\nreported p50 / raw-socket enquire_link p50 = ${(reported / rawP50).toFixed(2)}× (goal ≤ 1.2×); ` +
      `/ echo p50 = ${(reported / quantile(ms(echoSamples), 0.5)).toFixed(2)}×`,
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.only === 'render') {
    await renderBench(args);
    return;
  }
  if (args.only !== 'accuracy' && raiseFdLimit(args.binds)) return;
  console.log(
    `binds bench: node ${process.version}, ${process.arch}, ${shell('nproc')} CPUs, fd limit ${shell('ulimit -n')}`,
  );
  const smsc = await startSmsc(args.binds + 1_000);
  try {
    if (args.only === undefined || args.only === 'serve') await serveBench(smsc, args);
    if (args.only === undefined) await renderBench(args);
    if (args.only === undefined || args.only === 'scale') await scale(smsc, args);
    if (args.only === undefined || args.only === 'accuracy') await accuracy(smsc, args);
  } finally {
    await smsc.stop();
  }
}

await main();
