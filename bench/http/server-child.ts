// One HTTP server of the HTTP benchmark, in a process of its own (forked by index.ts), so that it
// has an event loop and a thread to itself and the load generator never shares them.
//
//   ours: the SMSC simulator, a BindRegistry with three binds to it and buildApp() over them,
//         with the pino logger `serve` builds (level info, redaction) writing to the null device.
//   bare: fastify with logger off and one route, GET /hello → { hello: 'world' }.
//
// Both listen on 127.0.0.1 port 0 and report the port over IPC. On request they report their own
// CPU time (process.cpuUsage), and (ours) the enquire_link PDUs the simulator
// received from one bind's sessions.
import os from 'node:os';
import Fastify from 'fastify';
import pino from 'pino';
import type { BindSupervisor } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { LOG_REDACT_PATHS } from '../../src/cli/service-logger.js';
import { buildApp } from '../../src/http/app.js';
import { createSimulator, type SmscSimulator } from '../../src/simulator/simulator.js';
import { BENCH_BINDS, type FromChild, type ServerKind, type ToChild } from './messages.js';

interface Running {
  port: number;
  enquireLinks(systemId: string): { enquireLinks: number; sessions: number };
  close(): Promise<void>;
}

const QUIET_KEEPALIVE_MS = 600_000;

async function waitHealthy(binds: BindSupervisor[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!binds.every((b) => b.refreshHealth().status === 'healthy')) {
    if (performance.now() > deadline) {
      const states = binds.map((b) => `${b.id}: ${b.refreshHealth().status} (${b.state})`).join(', ');
      throw new Error(`binds not healthy after ${timeoutMs} ms: ${states}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function enquireLinksFrom(
  simulator: SmscSimulator,
  systemId: string,
): { enquireLinks: number; sessions: number } {
  let enquireLinks = 0;
  let sessions = 0;
  for (const s of simulator.sessions()) {
    if (s.systemId !== systemId) continue;
    sessions++;
    enquireLinks += s.counters.in.enquire_link ?? 0;
  }
  return { enquireLinks, sessions };
}

async function startOurs(): Promise<Running> {
  const simulator = createSimulator({ sessionInitTimeoutMs: 0 });
  const smsc = await simulator.listen();
  const registry = new BindRegistry();
  const bind = (id: string, extra: Partial<BindOptions>): BindSupervisor =>
    registry.add(
      withBindDefaults({
        id,
        host: smsc.host,
        port: smsc.port,
        systemId: id,
        password: 'bench',
        ...extra,
      }),
    );
  const binds = [
    bind(BENCH_BINDS.health, {}),
    // Keepalive out of the way of the enquire windows: the simulator counts only manual probes.
    bind(BENCH_BINDS.coalesced, { minProbeIntervalMs: 0, enquireLinkIntervalMs: QUIET_KEEPALIVE_MS }),
    bind(BENCH_BINDS.limited, { enquireLinkIntervalMs: QUIET_KEEPALIVE_MS }),
  ];
  registry.startAll();
  await waitHealthy(binds, 10_000);
  const logger = pino(
    { level: 'info', redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } },
    pino.destination(os.devNull),
  );
  const app = await buildApp({
    registry,
    config: {
      auth: { tokens: [], protectReads: false },
      readiness: { policy: 'all', minHealthy: 1 },
      http: { bodyLimitBytes: 65_536 },
      metrics: { enabled: true },
    },
    logger,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    enquireLinks: (systemId) => enquireLinksFrom(simulator, systemId),
    close: async () => {
      await app.close();
      await registry.stopAll(2_000);
      await simulator.close();
    },
  };
}

async function startBare(): Promise<Running> {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    enquireLinks: () => ({ enquireLinks: 0, sessions: 0 }),
    close: () => app.close(),
  };
}

async function childMain(kind: ServerKind): Promise<void> {
  const send = (msg: FromChild): void => {
    process.send?.(msg);
  };
  let running: Running;
  try {
    running = kind === 'ours' ? await startOurs() : await startBare();
  } catch (error) {
    send({ failed: (error as Error).message });
    process.exit(1);
  }
  process.on('message', (msg: ToChild) => {
    if (msg.cmd === 'cpu-read') {
      const used = process.cpuUsage();
      send({ cpuMs: (used.user + used.system) / 1_000 });
    } else if (msg.cmd === 'enquire-links') send(running.enquireLinks(msg.systemId));
    else {
      // process.exit (not a kill) so that --cpu-prof writes its profile.
      void running.close().finally(() => process.exit(0));
    }
  });
  // The parent went away without saying exit: do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ ready: { port: running.port } });
}

const kind = process.argv[2];
if (kind === 'ours' || kind === 'bare') void childMain(kind);
