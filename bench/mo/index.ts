// npm run bench -- mo [--ms 5000] [--window 256] [--binds 2] [--sync full|normal]
// MO deliver_sm acknowledged per second, each one durably stored before its ESME_ROK: an SMSC
// (an SmppSession in the SMSC role on a loopback TCP port) floods deliver_sm on every bind with up to
// `--window` unanswered per bind; the bridge side is a BindRegistry whose inbound handler
// (src/bridge/inbound) stores each MO (fingerprint + message + the event sink's outbox row, one
// transaction) in a SqliteStore. Two cases in one run: single-part MO, and 3-part UDH MO (each part
// stored, the set joined when the last arrives). Prints acks/s, ack latency p50/p99, the store's
// group size, and the worst event-loop delay.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { createInboundHandler } from '../../src/bridge/inbound/index.js';
import type { InboundEventSink } from '../../src/bridge/ports.js';
import { EsmClass } from '../../src/protocol/constants.js';
import { SmppSession } from '../../src/session/session.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const { values } = parseArgs({
  options: {
    ms: { type: 'string', default: '5000' },
    window: { type: 'string', default: '256' },
    binds: { type: 'string', default: '2' },
    sync: { type: 'string', default: 'full' },
  },
});
const RUN_MS = Number(values.ms);
const WINDOW = Number(values.window);
const BINDS = Number(values.binds);
const SYNC = values.sync === 'normal' ? 'normal' : 'full';

/** The webhook fan-out's work inside the transaction: one outbox row per MO. */
const events: InboundEventSink = {
  async onMessageReceived(tx, received) {
    await tx.enqueueWebhook({
      messageId: received.message.id,
      endpoint: 'bench',
      type: 'message.received',
      payload: { id: received.message.id, text: received.text },
    });
  },
};

async function smsc(): Promise<{ port: number; sessions: SmppSession[]; close(): Promise<void> }> {
  const sessions: SmppSession[] = [];
  const server = net.createServer((socket) => {
    const s = new SmppSession(socket, {
      role: 'smsc',
      windowSize: WINDOW,
      enquireLinkIntervalMs: 0,
      sessionInitTimeoutMs: 0,
      onRequest: (pdu, session) => {
        if (pdu.command.startsWith('bind_')) session.acceptBind(pdu as never, 'BENCH');
        else session.respond(pdu);
      },
    });
    sessions.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy?.();
        server.close(() => resolve());
      }),
  };
}

interface Result {
  name: string;
  acks: number;
  errors: number;
  acksPerS: number;
  messagesPerS: number;
  p50Ms: number;
  p99Ms: number;
  avgGroup: number;
  longestGroupMs: number;
  worstLoopMs: number;
  /** The most deliver_sm the handler held at once (all binds). */
  maxInFlight: number;
  /** Time a unit (one deliver_sm's transaction) held the writer, COMMIT excluded. */
  workUsPerUnit: number;
  /** Mean COMMIT (with FULL: the fsync). */
  commitMs: number;
}

let serial = 0;

async function run(name: string, partsPerMessage: 1 | 3): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bench-mo-'));
  const store = openSqliteStore({ path: join(dir, 'bench.db'), synchronous: SYNC });
  const inbound = createInboundHandler({
    store,
    events,
    receipts: { onReceipt: async () => {} },
    routeOfBind: () => 'bench',
  });
  const server = await smsc();
  let inFlight = 0;
  let maxInFlight = 0;
  const registry = new BindRegistry({
    inbound: async (pdu, bind) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await inbound.handle(pdu, bind);
      } finally {
        inFlight--;
      }
    },
  });
  for (let i = 0; i < BINDS; i++) {
    registry.add(
      withBindDefaults({
        id: `b${i}`,
        host: '127.0.0.1',
        port: server.port,
        systemId: 'bench',
        password: 'bench',
        enquireLinkIntervalMs: 60_000,
      }),
    );
  }
  registry.startAll();
  while (registry.list().some((b) => b.state !== 'bound')) await new Promise((r) => setTimeout(r, 10));

  const latencies: number[] = [];
  let acks = 0;
  let errors = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const before = store.stats();
  loop.enable();
  const started = performance.now();
  const deadline = started + RUN_MS;
  const flood = async (session: SmppSession) => {
    const sender = async () => {
      while (performance.now() < deadline) {
        const n = serial++;
        const ref = n & 0xff;
        for (let seq = 1; seq <= partsPerMessage; seq++) {
          const text = Buffer.from(`MO ${n} part ${seq}: an ordinary text of ordinary length`);
          const short_message =
            partsPerMessage === 1 ? text : Buffer.concat([Buffer.from([5, 0, 3, ref, 3, seq]), text]);
          const t0 = performance.now();
          const resp = await session.request('deliver_sm', {
            source_addr: `49170${String(n % 100_000).padStart(5, '0')}`,
            destination_addr: '12345',
            esm_class: partsPerMessage === 1 ? 0 : EsmClass.UDHI,
            short_message,
          });
          latencies.push(performance.now() - t0);
          if (resp.command_status === 0) acks++;
          else errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, sender));
  };
  await Promise.all(server.sessions.map(flood));
  const elapsedS = (performance.now() - started) / 1000;
  loop.disable();
  const after = store.stats();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  const commits = after.commits - before.commits;
  const result: Result = {
    name,
    acks,
    errors,
    acksPerS: acks / elapsedS,
    messagesPerS: acks / partsPerMessage / elapsedS,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    avgGroup: commits > 0 ? (after.units - before.units) / commits : 0,
    longestGroupMs: after.longestGroupMs,
    worstLoopMs: loop.max / 1e6,
    maxInFlight,
    workUsPerUnit:
      after.units > before.units
        ? ((after.busyMs - before.busyMs - (after.commitMs - before.commitMs)) * 1000) /
          (after.units - before.units)
        : 0,
    commitMs: commits > 0 ? (after.commitMs - before.commitMs) / commits : 0,
  };
  await registry.stopAll(2_000);
  await inbound.close();
  await store.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const results = [await run('single-part MO', 1), await run('3-part UDH MO', 3)];
console.log(
  `MO deliver_sm acknowledged after a durable store (synchronous=${SYNC}), ${BINDS} binds × window ${WINDOW}, ${RUN_MS} ms per case`,
);
console.table(
  results.map((r) => ({
    case: r.name,
    'acked deliver_sm/s': Math.round(r.acksPerS),
    'messages/s': Math.round(r.messagesPerS),
    errors: r.errors,
    'ack p50 ms': r.p50Ms.toFixed(1),
    'ack p99 ms': r.p99Ms.toFixed(1),
    'avg group': r.avgGroup.toFixed(1),
    'longest group ms': r.longestGroupMs.toFixed(1),
    'worst loop delay ms': r.worstLoopMs.toFixed(1),
    'max in flight': r.maxInFlight,
    'µs/unit (no COMMIT)': Math.round(r.workUsPerUnit),
    'COMMIT ms': r.commitMs.toFixed(1),
  })),
);
process.exit(0);
