/**
 * `smpp-bridge serve`: wires config, binds, the embedded simulator (demo mode) and the HTTP API
 * into one process, and shuts it down in order on SIGTERM/SIGINT: readiness fails at once,
 * binds unbind within a bound, HTTP closes, exit 0. A second signal exits at once.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { withBindDefaults } from './binds/bind-options.js';
import { BindRegistry } from './binds/registry.js';
import { ConfigError } from './config/config-error.js';
import { loadConfig } from './config/load-config.js';
import type { ServiceConfig } from './config/service-config.js';
import { buildApp } from './http/app.js';
import type { Logger } from './logger.js';
import { runUntilSignal } from './run-until-signal.js';
import { createSimulator, type SmscSimulator } from './simulator/simulator.js';

const USAGE = `usage: smpp-bridge serve [--config FILE]

Runs the bridge: keeps the configured SMPP binds alive and serves the REST API.
  --config FILE   YAML config (or set SMPP_BRIDGE_CONFIG); without one, demo mode starts
                  the embedded SMSC simulator and a bind 'demo' to it
  -h, --help      this text
Environment: SMPP_BRIDGE_CONFIG, HOST, PORT, LOG_LEVEL, SMPP_BRIDGE_API_TOKENS`;

/** Paths pino removes from every log line: secrets never reach the logs. */
export const LOG_REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'binds[*].password',
  'config.binds[*].password',
  'tls.key',
  '*.tls.key',
  'auth.tokens',
  '*.auth.tokens',
  'req.headers.authorization',
  'headers.authorization',
];

export interface RunningService {
  config: ServiceConfig;
  registry: BindRegistry;
  simulator: SmscSimulator | null;
  url: string;
  /** Graceful shutdown; resolves when everything is closed. */
  shutdown(): Promise<void>;
}

/** Starts the service from a loaded config (used by `serve` and by tests). */
export async function startService(config: ServiceConfig, logger: pino.Logger): Promise<RunningService> {
  const log = logger as unknown as Logger;
  let simulator: SmscSimulator | null = null;
  const binds = [...config.binds];
  if (config.demo || config.simulator.enabled) {
    simulator = createSimulator({
      host: config.simulator.host,
      port: config.simulator.port,
      logger: log.child({ component: 'simulator' }),
      ...(config.simulator.accounts ? { accounts: config.simulator.accounts } : {}),
    });
    const address = await simulator.listen();
    logger.info(
      { host: address.host, port: address.port },
      `embedded SMSC simulator listening on ${address.host}:${address.port}`,
    );
    if (config.demo) {
      binds.push(
        withBindDefaults(
          { id: 'demo', host: address.host, port: address.port, systemId: 'demo', password: 'demo' },
          {
            ...config.defaults,
            enquireLinkIntervalMs: Math.min(config.defaults.enquireLinkIntervalMs, 5_000),
          },
        ),
      );
      logger.info(
        `demo mode: no config given (--config FILE or SMPP_BRIDGE_CONFIG), so bind 'demo' connects to the embedded simulator at ${address.host}:${address.port}`,
      );
    }
  }

  const registry = new BindRegistry({ logger: log });
  for (const bind of binds) registry.add(bind);
  const app = await buildApp({ registry, config, logger });
  const url = await app.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url, binds: binds.map((b) => b.id) }, `smpp-bridge listening on ${url}`);
  registry.startAll();

  let shuttingDown: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    if (shuttingDown) return shuttingDown;
    shuttingDown = (async () => {
      registry.drain();
      logger.info(
        { unbindTimeoutMs: config.shutdown.unbindTimeoutMs },
        'shutting down: readiness now fails; unbinding',
      );
      const { timedOut } = await registry.stopAll(config.shutdown.unbindTimeoutMs);
      if (timedOut) logger.warn('some binds did not unbind in time');
      await app.close();
      if (simulator) await simulator.close();
      logger.info('stopped');
    })();
    return shuttingDown;
  };
  return { config, registry, simulator, url, shutdown };
}

export async function runServe(argv: string[]): Promise<number> {
  let configPath: string | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    configPath = values.config;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let config: ServiceConfig;
  try {
    config = loadConfig({ configPath, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }

  const logger = pino({ level: config.log.level, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } });
  let service: RunningService;
  try {
    service = await startService(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, `cannot start: ${(error as Error).message}`);
    return 1;
  }

  return runUntilSignal(logger as unknown as Logger, service.shutdown);
}
