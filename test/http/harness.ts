/**
 * Shared setup of the HTTP tests: the SMSC simulator on a loopback port, binds pointing at it (or
 * at a closed port), a real BindRegistry, and an app built over them. Everything is closed by
 * `close()`, so each test file leaves no socket or timer behind.
 */
import net from 'node:net';
import pino from 'pino';
import type { BindSupervisor } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry, type ReadinessPolicy } from '../../src/binds/registry.js';
import { type App, type BuildAppDeps, buildApp, type HttpAppConfig } from '../../src/http/app.js';
import { createSimulator, type SmscSimulator } from '../../src/simulator/simulator.js';

/** The password of every test bind: no response may ever contain it. */
export const PASSWORD = 'Zq8!sec9'; // SMPP passwords are at most 8 octets (reference §4.1)
/** The system_id whose sessions the simulator blackholes when a test switches that on. */
export const MUTE_SYSTEM_ID = 'mute';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger that keeps every line it writes, parsed. */
export function captureLogger(level = 'debug'): {
  logger: pino.Logger;
  lines: LogLine[];
  text: () => string;
} {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const logger = pino(
    { level },
    {
      write(chunk: string) {
        raw.push(chunk);
        lines.push(JSON.parse(chunk) as LogLine);
      },
    },
  );
  return { logger, lines, text: () => raw.join('') };
}

export function config(overrides: Partial<HttpAppConfig> = {}): HttpAppConfig {
  return {
    auth: { tokens: [], protectReads: false },
    readiness: { policy: 'all' as ReadinessPolicy, minHealthy: 1 },
    http: { bodyLimitBytes: 65_536 },
    metrics: { enabled: true },
    ...overrides,
  };
}

/** A TCP port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function bindOptions(id: string, port: number, extra: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id,
    host: '127.0.0.1',
    port,
    systemId: 'esme',
    password: PASSWORD,
    // Keepalive stays out of the way: the tests send the probes.
    enquireLinkIntervalMs: 60_000,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 60_000 },
    ...extra,
  });
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function waitBound(bind: BindSupervisor): Promise<void> {
  await waitFor(`bind ${bind.id} bound`, () => bind.state === 'bound');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Harness {
  simulator: SmscSimulator;
  port: number;
  registry: BindRegistry;
  /** Another registry, stopped by close(). */
  newRegistry(): BindRegistry;
  /** Builds an app (over the harness's registry unless deps name another); closed by close(). */
  app(deps?: Partial<BuildAppDeps>): Promise<App>;
  close(): Promise<void>;
}

/**
 * The simulator (accounts: esme and mute, both with PASSWORD) and a registry. Binds are added by
 * the test (bindOptions) and started with registry.startAll().
 */
export async function startHarness(): Promise<Harness> {
  const simulator = createSimulator({
    accounts: [
      { systemId: 'esme', password: PASSWORD },
      { systemId: MUTE_SYSTEM_ID, password: PASSWORD },
    ],
  });
  const { port } = await simulator.listen();
  const registry = new BindRegistry();
  const registries = [registry];
  const apps: App[] = [];
  return {
    simulator,
    port,
    registry,
    newRegistry() {
      const r = new BindRegistry();
      registries.push(r);
      return r;
    },
    async app(deps = {}) {
      const app = await buildApp({ registry, config: config(), ...deps });
      apps.push(app);
      return app;
    },
    async close() {
      for (const app of apps) await app.close();
      for (const r of registries) await r.stopAll(2_000);
      await simulator.close();
    },
  };
}
