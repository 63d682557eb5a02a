// npm run bench -- session: enquire_link round-trip time and submit_sm throughput through one
// session, ours against a raw socket ping-pong and against the `smpp` package (client + server).
// Our ESME talks to two SMSCs: a bare SmppSession in the SMSC role (the session layer alone, as
// the smpp package's server is its session alone) and the simulator (what the project ships).
// Every server runs in a child process (its own event loop and thread) and reports its CPU time
// over IPC, so a saturated server is never the hidden bottleneck. Loopback only, about a minute.
// The cases run in interleaved rounds so that noise from other work on the machine (2 shared
// cores in CI) falls on every case alike; samples and counts are pooled over the rounds.
import { type ChildProcess, fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import smpp from 'smpp';
import type { PduInit } from '../../src/protocol/pdu.js';
import { connectSocket } from '../../src/session/connect.js';
import { SmppSession } from '../../src/session/session.js';
import { createSimulator } from '../../src/simulator/simulator.js';
import { startRawSmsc } from '../../test/helpers/raw-smsc.js';

type ServerKind = 'session' | 'simulator' | 'raw' | 'smpp';

const ROUNDS = 6;
const RTT_ROUND_MS = 400;
const THROUGHPUT_ROUNDS = 3;
const THROUGHPUT_ROUND_MS = 800;
const WARMUP_MS = 500;
const ROUND_WARMUP_MS = 150;
const WINDOWS = [1, 10, 100];

// ---------------------------------------------------------------- child: one server

async function serve(kind: ServerKind): Promise<number> {
  if (kind === 'session') {
    // SmppSession as SMSC: accepts any bind, answers submit_sm with a counter as message_id.
    const smsc = await startRawSmsc({ session: { enquireLinkIntervalMs: 0, sessionInitTimeoutMs: 0 } });
    return smsc.port;
  }
  if (kind === 'simulator') {
    // The simulator with no faults: accepts any bind, stores each message, answers submit_sm.
    const simulator = createSimulator({ sessionInitTimeoutMs: 0 });
    return (await simulator.listen()).port;
  }
  if (kind === 'raw') {
    // Echo: every 16-octet message comes straight back.
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }
  let messageId = 0;
  const server = smpp.createServer((session) => {
    session.on('error', () => {});
    session.on('bind_transceiver', (pdu) => session.send(pdu.response({ system_id: 'NODE-SMPP' })));
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('submit_sm', (pdu) => session.send(pdu.response({ message_id: (++messageId).toString(16) })));
    session.on('unbind', (pdu) => {
      session.send(pdu.response());
      session.close();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as { port: number }).port;
}

type ToChild = { cmd: 'cpu-reset' } | { cmd: 'cpu-read' } | { cmd: 'exit' };
type FromChild = { ready: number } | { cpuMs: number };

async function childMain(kind: ServerKind): Promise<void> {
  const port = await serve(kind);
  let base = process.cpuUsage();
  process.on('message', (msg: ToChild) => {
    if (msg.cmd === 'cpu-reset') base = process.cpuUsage();
    else if (msg.cmd === 'cpu-read') {
      const used = process.cpuUsage(base);
      process.send?.({ cpuMs: (used.user + used.system) / 1_000 } satisfies FromChild);
    } else process.exit(0);
  });
  process.send?.({ ready: port } satisfies FromChild);
}

// ---------------------------------------------------------------- parent: the measurements

interface Server {
  port: number;
  cpuReset(): void;
  cpuReadMs(): Promise<number>;
  stop(): void;
}

function startServer(kind: ServerKind): Promise<Server> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['child', kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (): Promise<FromChild> => new Promise((resolve) => child.once('message', resolve));
  return next().then((msg) => {
    if (!('ready' in msg)) throw new Error(`child ${kind} did not start`);
    return {
      port: msg.ready,
      cpuReset: () => child.send({ cmd: 'cpu-reset' } satisfies ToChild),
      cpuReadMs: async () => {
        const reply = next();
        child.send({ cmd: 'cpu-read' } satisfies ToChild);
        const m = await reply;
        return 'cpuMs' in m ? m.cpuMs : Number.NaN;
      },
      stop: () => {
        child.send({ cmd: 'exit' } satisfies ToChild);
      },
    };
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

interface RttCase {
  name: string;
  once: () => Promise<unknown>;
  samples: number[];
}

interface RttResult {
  name: string;
  samples: number;
  p50Us: number;
  p99Us: number;
}

async function runFor(
  ms: number,
  once: () => Promise<unknown>,
  record?: (us: number) => void,
): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    await once();
    record?.(Number(process.hrtime.bigint() - t0) / 1_000);
  }
}

/** Each case back to back (one in flight), in interleaved rounds; microseconds per call. */
async function measureRtt(cases: RttCase[]): Promise<RttResult[]> {
  for (const c of cases) await runFor(WARMUP_MS, c.once);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) await runFor(RTT_ROUND_MS, c.once, (us) => c.samples.push(us));
  }
  return cases.map((c) => {
    const sorted = Float64Array.from(c.samples).sort();
    return {
      name: c.name,
      samples: sorted.length,
      p50Us: percentile(sorted, 0.5),
      p99Us: percentile(sorted, 0.99),
    };
  });
}

async function ourEsme(port: number, windowSize = 10): Promise<SmppSession> {
  const socket = await connectSocket({ host: '127.0.0.1', port, connectTimeoutMs: 5_000 });
  const session = new SmppSession(socket, {
    role: 'esme',
    windowSize,
    enquireLinkIntervalMs: 0,
    windowWaitTimeoutMs: 60_000,
  });
  await session.bind('bind_transceiver', { system_id: 'bench', password: 'bench' });
  return session;
}

function theirEsme(port: number): Promise<smpp.Session> {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: '127.0.0.1', port }, () => {
      session.send(new smpp.PDU('bind_transceiver', { system_id: 'bench', password: 'bench' }), (resp) => {
        if (resp.command_status === 0) resolve(session);
        else reject(new Error(`smpp package bind refused: ${resp.command_status}`));
      });
    });
    session.on('error', reject);
  });
}

function rawClient(port: number): Promise<{ ping(): Promise<void>; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.setNoDelay(true);
      const message = Buffer.alloc(16, 0x2a);
      let pending: (() => void) | null = null;
      let received = 0;
      socket.on('data', (chunk) => {
        received += chunk.length;
        if (received >= 16 && pending) {
          received -= 16;
          const done = pending;
          pending = null;
          done();
        }
      });
      resolve({
        ping: () =>
          new Promise<void>((done) => {
            pending = done;
            socket.write(message);
          }),
        close: () => socket.destroy(),
      });
    });
    socket.on('error', reject);
  });
}

const SUBMIT: PduInit<'submit_sm'> = {
  source_addr_ton: 5,
  source_addr: 'Bench',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447700900123',
  short_message: Buffer.from('Hello world'),
};

interface ThroughputCase {
  name: string;
  server: Server;
  submit: () => Promise<unknown>;
  count: number;
  elapsedMs: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

interface ThroughputResult {
  name: string;
  window: number;
  perSecond: number;
  serverCpuPct: number;
  clientCpuPct: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One round: `window` submits kept in flight (sliding window), measured after a short warm-up. */
async function throughputRound(c: ThroughputCase, window: number, ms: number): Promise<void> {
  let done = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      await c.submit();
      done++;
    }
  };
  const workers = Array.from({ length: window }, worker);
  await sleep(ROUND_WARMUP_MS);
  c.server.cpuReset();
  const clientBase = process.cpuUsage();
  const startDone = done;
  const t0 = performance.now();
  await sleep(ms);
  c.elapsedMs += performance.now() - t0;
  c.count += done - startDone;
  const client = process.cpuUsage(clientBase);
  c.clientCpuMs += (client.user + client.system) / 1_000;
  c.serverCpuMs += await c.server.cpuReadMs();
  stop = true;
  await Promise.all(workers);
}

async function measureThroughput(window: number, cases: ThroughputCase[]): Promise<ThroughputResult[]> {
  for (const c of cases) await throughputRound(c, window, WARMUP_MS);
  for (const c of cases) Object.assign(c, { count: 0, elapsedMs: 0, serverCpuMs: 0, clientCpuMs: 0 });
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    for (const c of cases) await throughputRound(c, window, THROUGHPUT_ROUND_MS);
  }
  return cases.map((c) => ({
    name: c.name,
    window,
    perSecond: Math.round((c.count / c.elapsedMs) * 1_000),
    serverCpuPct: Math.round((c.serverCpuMs / c.elapsedMs) * 100),
    clientCpuPct: Math.round((c.clientCpuMs / c.elapsedMs) * 100),
  }));
}

function theirSubmit(session: smpp.Session): () => Promise<smpp.PDU> {
  return () =>
    new Promise((resolve) =>
      session.send(
        new smpp.PDU('submit_sm', {
          source_addr_ton: 5,
          source_addr: 'Bench',
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: '447700900123',
          short_message: 'Hello world',
        }),
        resolve,
      ),
    );
}

async function main(): Promise<void> {
  const started = performance.now();
  const [ours, sim, raw, theirs] = await Promise.all([
    startServer('session'),
    startServer('simulator'),
    startServer('raw'),
    startServer('smpp'),
  ]);
  try {
    console.log('session bench: servers in child processes on 127.0.0.1; client in this process\n');

    // -------------------------------------------------------------- enquire_link RTT
    const rawC = await rawClient(raw.port);
    const esme = await ourEsme(ours.port);
    const simEsme = await ourEsme(sim.port);
    const nodeEsme = await theirEsme(theirs.port);
    // What the probe itself reports (hrtime at the socket write and at the read of the answer):
    // the figure the health model and metrics show, without the caller's promise round trip.
    const reported: number[] = [];
    const rtt = await measureRtt([
      { name: 'raw socket ping-pong (16 octets)', once: () => rawC.ping(), samples: [] },
      {
        name: 'ours: ESME probe() ↔ SmppSession SMSC',
        once: () => esme.probe().then((r) => reported.push(r.rttMs * 1_000)),
        samples: [],
      },
      { name: 'ours: ESME probe() ↔ simulator', once: () => simEsme.probe(), samples: [] },
      {
        name: 'smpp package: client ↔ server',
        once: () => new Promise((resolve) => nodeEsme.send(new smpp.PDU('enquire_link'), resolve)),
        samples: [],
      },
    ]);
    rawC.close();
    await esme.close();
    await simEsme.close();
    nodeEsme.destroy();

    // The first calls were the warm-up: keep as many as the measured rounds made.
    const reportedSorted = Float64Array.from(reported.slice(-rtt[1]!.samples)).sort();
    rtt.push({
      name: 'ours: rttMs the probe reports (same runs as above)',
      samples: reportedSorted.length,
      p50Us: percentile(reportedSorted, 0.5),
      p99Us: percentile(reportedSorted, 0.99),
    });
    const rawP50 = rtt[0]!.p50Us;
    const rawP99 = rtt[0]!.p99Us;
    console.log(`enquire_link round trip, one in flight, ${ROUNDS} interleaved rounds (µs)`);
    console.table(
      rtt.map((r) => ({
        case: r.name,
        samples: r.samples,
        p50: Number(r.p50Us.toFixed(1)),
        p99: Number(r.p99Us.toFixed(1)),
        'p50 / raw': Number((r.p50Us / rawP50).toFixed(2)),
        'p99 / raw': Number((r.p99Us / rawP99).toFixed(2)),
      })),
    );

    // -------------------------------------------------------------- submit_sm throughput
    const rows: ThroughputResult[] = [];
    const zero = { count: 0, elapsedMs: 0, serverCpuMs: 0, clientCpuMs: 0 };
    for (const window of WINDOWS) {
      const session = await ourEsme(ours.port, window);
      const simSession = await ourEsme(sim.port, window);
      const node = await theirEsme(theirs.port);
      rows.push(
        ...(await measureThroughput(window, [
          { name: 'ours', server: ours, submit: () => session.request('submit_sm', SUBMIT), ...zero },
          {
            name: 'ours ↔ simulator',
            server: sim,
            submit: () => simSession.request('submit_sm', SUBMIT),
            ...zero,
          },
          { name: 'smpp package', server: theirs, submit: theirSubmit(node), ...zero },
        ])),
      );
      await session.close();
      await simSession.close();
      node.destroy();
    }
    console.log(
      `\nsubmit_sm → submit_sm_resp through one session, N in flight (sliding window), ${THROUGHPUT_ROUNDS} interleaved rounds`,
    );
    console.table(
      rows.map((r) => ({
        case: r.name,
        window: r.window,
        'msg/s': r.perSecond,
        'server CPU %': r.serverCpuPct,
        'client CPU %': r.clientCpuPct,
      })),
    );
    for (const window of WINDOWS) {
      const a = rows.find((r) => r.name === 'ours' && r.window === window)!;
      const b = rows.find((r) => r.name === 'smpp package' && r.window === window)!;
      console.log(`window ${window}: ours / smpp package = ${(a.perSecond / b.perSecond).toFixed(2)}×`);
    }
    console.log(
      `\nours p50 / raw p50 = ${(rtt[1]!.p50Us / rawP50).toFixed(2)}× (goal ≤ 1.2×); ` +
        `total ${((performance.now() - started) / 1_000).toFixed(1)} s`,
    );
  } finally {
    ours.stop();
    sim.stop();
    raw.stop();
    theirs.stop();
  }
}

if (process.argv[2] === 'child') {
  await childMain(process.argv[3] as ServerKind);
} else {
  await main();
}
