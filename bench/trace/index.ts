// npm run bench -- trace [--binds N] [--rounds R] [--probe-ms MS]
//
// What the per-bind PDU trace (src/binds/pdu-trace.ts) costs:
// 1. record: ns per PDU recorded into a full ring (steady state: every record evicts one), for the
//    keepalive PDUs (stored in 9 bytes) and for a 115-octet submit_sm (stored raw), and a bind
//    (password masked). Median of --rounds rounds of 1,000,000 records.
// 2. probe path: enquire_link round trips through a real loopback session (our ESME against a
//    session-layer SMSC in a child process), with the trace on and off in interleaved rounds:
//    probes per second and median RTT. "Costs nothing measurable" = the difference is inside the
//    spread between rounds of the same setting.
// 3. memory: --binds (default 10,000) traces filled with keepalive traffic (a connection, the bind
//    and 1,000 enquire_link pairs each, so every ring has wrapped and holds its last 200 PDUs);
//    then the same with message traffic (submit_sm + submit_sm_resp). RSS, heap and ArrayBuffer
//    memory after a GC, against the process before the traces existed, each case in a fresh child
//    process; once as is and once with V8's young generation held at 1 MB (filling 10,000 rings
//    churns enough to grow it by ~30 MB of RSS that a fresh process shows and a running service
//    already has: the second figure is what the traces themselves keep).
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PduTrace } from '../../src/binds/pdu-trace.js';
import { decodePdu, encodePdu } from '../../src/protocol/codec.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { connectSocket } from '../../src/session/connect.js';
import { SmppSession } from '../../src/session/session.js';
import { startRawSmsc } from '../../test/helpers/raw-smsc.js';

interface Args {
  binds: number;
  rounds: number;
  probeMs: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { binds: 10_000, rounds: 5, probeMs: 1_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const n = Number(argv[i + 1]);
    if (flag === '--binds') args.binds = Math.floor(n);
    else if (flag === '--rounds') args.rounds = Math.max(1, Math.floor(n));
    else if (flag === '--probe-ms') args.probeMs = Math.floor(n);
    else throw new Error(`unknown flag ${flag}`);
    i++;
  }
  return args;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const ENQUIRE = encodePdu(createPdu('enquire_link', { sequence_number: 7 }));
const ENQUIRE_RESP = encodePdu(createPdu('enquire_link_resp', { sequence_number: 7 }));
const SUBMIT = encodePdu(
  createPdu('submit_sm', {
    sequence_number: 8,
    source_addr: 'MyBrand',
    destination_addr: '447700900123',
    short_message: Buffer.from('Your code is 123456. It expires in 10 minutes. Thanks'),
    tlvs: [
      { tag: 0x0204, value: 1 },
      { tag: 0x020a, value: 1234 },
    ],
  }),
);
const SUBMIT_RESP = encodePdu(createPdu('submit_sm_resp', { sequence_number: 8, message_id: '5f3a9c1e' }));
const BIND = encodePdu(
  createPdu('bind_transceiver', { sequence_number: 1, system_id: 'esme', password: 'secret' }),
);

// ---------------------------------------------------------------- 1. record

function recordNs(pdu: Buffer, rounds: number): number {
  const trace = new PduTrace({ size: 200 });
  for (let i = 0; i < 10_000; i++) trace.record(i % 2 === 0, pdu);
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const n = 1_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) trace.record((i & 1) === 0, pdu);
    per.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(per);
}

/** The session decodes every PDU it receives: the yardstick for what recording one costs. */
function decodeNs(pdu: Buffer, rounds: number): number {
  const per: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const n = 1_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (decodePdu(pdu).ok) sink++;
    per.push(Number(process.hrtime.bigint() - t0) / n);
  }
  if (sink === 0) throw new Error('nothing decoded');
  return median(per);
}

// ---------------------------------------------------------------- 2. probe path

async function child(): Promise<void> {
  const smsc = await startRawSmsc({ session: { enquireLinkIntervalMs: 0, sessionInitTimeoutMs: 0 } });
  process.send?.({ port: smsc.port });
  process.on('message', () => process.exit(0));
}

async function probeRound(
  port: number,
  traced: boolean,
  ms: number,
): Promise<{ perSecond: number; rttP50Us: number }> {
  const socket = await connectSocket({ host: '127.0.0.1', port, connectTimeoutMs: 2_000 });
  const trace = new PduTrace({ size: 200 });
  const session = new SmppSession(socket, {
    role: 'esme',
    enquireLinkIntervalMs: 0,
    ...(traced ? { recorder: trace } : {}),
  });
  await session.bind('bind_transceiver', { system_id: 'bench', password: 'pw' });
  for (let i = 0; i < 500; i++) await session.probe();
  const rtts: number[] = [];
  const start = performance.now();
  while (performance.now() - start < ms) rtts.push((await session.probe()).rttMs * 1000);
  const elapsed = performance.now() - start;
  await session.close();
  if (traced && trace.recorded < rtts.length * 2) throw new Error('the trace did not see the probes');
  return { perSecond: (rtts.length / elapsed) * 1000, rttP50Us: median(rtts) };
}

// ---------------------------------------------------------------- 3. memory

function memory(): { rss: number; heap: number; buffers: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, buffers: m.arrayBuffers };
}

function fill(binds: number, pairs: number, request: Buffer, response: Buffer): PduTrace[] {
  const traces: PduTrace[] = [];
  let t = 1_796_605_200_000_000;
  for (let b = 0; b < binds; b++) {
    const trace = new PduTrace({ size: 200, nowUs: () => (t += 15_000_000 + (b % 977)) });
    trace.connection({
      localAddress: '127.0.0.1',
      localPort: 40_000 + (b % 20_000),
      remoteAddress: '127.0.0.2',
      remotePort: 2775,
    });
    trace.record(true, BIND);
    for (let i = 0; i < pairs; i++) {
      request.writeUInt32BE(i + 2, 12);
      response.writeUInt32BE(i + 2, 12);
      trace.record(true, request);
      trace.record(false, response);
    }
    traces.push(trace);
  }
  return traces;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(`node ${process.version}, ${args.binds} binds, ${args.rounds} rounds`);

  console.log('\n1. record: ns per PDU into a full 200-PDU ring (median of rounds of 1,000,000)');
  console.log('   PDU                                            record   decodePdu (same PDU, same run)');
  for (const [name, pdu] of [
    ['enquire_link (16 octets, compact)', ENQUIRE],
    ['enquire_link_resp (16 octets, compact)', ENQUIRE_RESP],
    [`submit_sm (${SUBMIT.length} octets, raw)`, SUBMIT],
    [`bind_transceiver (${BIND.length} octets, password masked)`, BIND],
  ] as const) {
    const record = recordNs(pdu, args.rounds);
    const decode = decodeNs(pdu, args.rounds);
    console.log(
      `   ${name.padEnd(46)} ${record.toFixed(0).padStart(5)} ns ${decode.toFixed(0).padStart(6)} ns   record/decode ${(record / decode).toFixed(2)}`,
    );
  }

  console.log(
    `\n2. probe path: enquire_link round trips over loopback, ${args.probeMs} ms per round, rounds interleaved`,
  );
  const smsc: ChildProcess = fork(SELF, ['child'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    smsc.once('message', (m) => resolve((m as { port: number }).port)),
  );
  const results = {
    off: [] as { perSecond: number; rttP50Us: number }[],
    on: [] as { perSecond: number; rttP50Us: number }[],
  };
  for (let r = 0; r < args.rounds * 2; r++) {
    const traced = r % 2 === 1;
    results[traced ? 'on' : 'off'].push(await probeRound(port, traced, args.probeMs));
  }
  smsc.send('exit');
  for (const key of ['off', 'on'] as const) {
    const rows = results[key];
    const rates = rows.map((x) => x.perSecond);
    console.log(
      `   trace ${key.padEnd(3)} probes/s median ${median(rates).toFixed(0)} (rounds ${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}), RTT p50 median ${median(rows.map((x) => x.rttP50Us)).toFixed(1)} µs`,
    );
  }
  const ratio = median(results.on.map((x) => x.perSecond)) / median(results.off.map((x) => x.perSecond));
  console.log(`   on/off probes/s ratio ${ratio.toFixed(3)}`);

  console.log(
    `\n3. memory of ${args.binds} traces (200 PDUs each, all wrapped), after GC, each case in a fresh process`,
  );
  for (const traffic of ['keepalive', 'messages'] as const) {
    for (const semiSpace of [false, true]) {
      const execArgv = ['--import', 'tsx', '--expose-gc', ...(semiSpace ? ['--max-semi-space-size=1'] : [])];
      const proc = fork(SELF, ['memory', traffic, String(args.binds)], {
        execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      await new Promise((resolve) => proc.once('exit', resolve));
    }
  }
}

/** One memory case (child process): the traces' cost against the process before them. */
function memoryCase(traffic: 'keepalive' | 'messages', binds: number): void {
  const base = memory();
  const traces =
    traffic === 'keepalive'
      ? fill(binds, 1_000, Buffer.from(ENQUIRE), Buffer.from(ENQUIRE_RESP))
      : fill(binds, 300, Buffer.from(SUBMIT), Buffer.from(SUBMIT_RESP));
  const after = memory();
  const ring = traces.reduce((n, t) => n + t.allocatedBytes, 0);
  const semi = process.execArgv.includes('--max-semi-space-size=1') ? ', young gen 1 MB' : '';
  console.log(
    `   ${traffic.padEnd(9)}${semi.padEnd(18)} RSS +${mb(after.rss - base.rss)}, heap +${mb(after.heap - base.heap)}, ArrayBuffers +${mb(after.buffers - base.buffers)}; ring ${(ring / binds).toFixed(0)} B + heap ${((after.heap - base.heap) / binds).toFixed(0)} B per bind (${traces.length} traces)`,
  );
}

const SELF = fileURLToPath(import.meta.url);
if (process.argv[2] === 'child') void child();
else if (process.argv[2] === 'memory')
  memoryCase(process.argv[3] as 'keepalive' | 'messages', Number(process.argv[4]));
else void main();
