/**
 * `smpp-bridge serve`: wires config, binds, the embedded simulator (demo mode) and the HTTP API
 * into one process.
 *
 * Start: everything that started is closed again when a later step fails (HTTP port taken,
 * simulator port taken), and the command exits 1 with one line saying why; a bad or unreadable
 * config exits 2 before anything starts.
 *
 * Shutdown on SIGTERM/SIGINT, in order: readiness fails (503) → the HTTP listener stops
 * accepting and idle connections close → requests in flight get shutdown.httpDrainTimeoutMs,
 * then their connections are cut → the outbound engine stops claiming and lets submit_sm
 * responses in flight land (up to shutdown.unbindTimeoutMs) → every bind unbinds, the whole within
 * shutdown.unbindTimeoutMs (binds still waiting then are abandoned) → the message store closes
 * (demo mode: its temporary file is removed) → the embedded simulator closes → exit 0. A second
 * signal exits at once.
 *
 * The bind set is one desired set (config binds + the demo bind + binds created through the API,
 * src/cli/bind-catalog.ts) reconciled at start, after every bind API write and on SIGHUP, which
 * reloads the config file: a bad file is logged with its key paths and changes nothing.
 */
import { rmSync } from 'node:fs';
import type pino from 'pino';
import { withBindDefaults } from '../binds/bind-options.js';
import { BindRegistry } from '../binds/registry.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import type { ServiceConfig } from '../config/service-config.js';
import { type App, buildApp, closeApp } from '../http/app.js';
import type { Logger } from '../logger.js';
import { createSimulator, type SmscSimulator } from '../simulator/simulator.js';
import { ExitCode, parseCommandArgs, UsageError } from './args.js';
import { BindCatalog } from './bind-catalog.js';
import { type RunningMessagePath, startMessagePath } from './message-path.js';
import { trapStopSignals } from './run-until-signal.js';
import { createServiceLogger } from './service-logger.js';

export { LOG_REDACT_PATHS } from './service-logger.js';

const USAGE = `usage: smpp-bridge serve [--config FILE]

Runs the bridge: keeps the configured SMPP binds alive and serves the REST API.
  -c, --config FILE   YAML config (or set SMPP_BRIDGE_CONFIG); without one, demo mode starts
                      the embedded SMSC simulator and a bind 'demo' to it
  -h, --help          this text
Environment: SMPP_BRIDGE_CONFIG, HOST, PORT, LOG_LEVEL, SMPP_BRIDGE_API_TOKENS
Exit status: 0 stopped by SIGTERM/SIGINT, 1 cannot start or shutdown failed, 2 bad command line or config.`;

/** Seconds of slack on top of the shutdown bounds before the process exits regardless. */
const SHUTDOWN_SLACK_MS = 2_000;

export interface RunningService {
  config: ServiceConfig;
  registry: BindRegistry;
  simulator: SmscSimulator | null;
  /** The store and the outbound engine (messagePath is what the HTTP routes use). */
  messages: RunningMessagePath;
  /** The bind set: config binds + API binds (the bind management API). */
  catalog: BindCatalog;
  /**
   * Applies a reloaded config file (SIGHUP): its binds and `defaults`, through the same reconcile.
   * Other sections need a restart: their names are returned (and logged).
   */
  reload(next: ServiceConfig): Promise<{ restartNeeded: string[] }>;
  url: string;
  /** Graceful shutdown in the documented order; resolves when everything is closed. */
  shutdown(): Promise<void>;
}

/** Sections a reload (SIGHUP) does not apply: binds and `defaults` do, these need a restart. */
const RESTART_SECTIONS = [
  'http',
  'log',
  'auth',
  'readiness',
  'shutdown',
  'metrics',
  'store',
  'mo',
  'routes',
  'outbound',
  'simulator',
  'webhooks',
] as const satisfies readonly (keyof ServiceConfig)[];

/** A start that failed: the one line `serve` prints. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

/** `cannot listen on HOST:PORT: address already in use (EADDRINUSE)` and the like. */
function listenFailure(what: string, host: string, port: number, error: unknown): StartError {
  // The errno may sit under a wrapper (the simulator wraps it in its own error).
  let errno: unknown = error;
  while (errno instanceof Error && !/^E[A-Z]+$/.test(String((errno as NodeJS.ErrnoException).code))) {
    if (errno.cause === undefined) break;
    errno = errno.cause;
  }
  const code = /^E[A-Z]+$/.test(String((errno as NodeJS.ErrnoException).code))
    ? (errno as NodeJS.ErrnoException).code
    : undefined;
  const reason =
    code === 'EADDRINUSE'
      ? 'address already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EADDRNOTAVAIL'
          ? 'address not available on this machine'
          : (errno as Error).message;
  return new StartError(`${what} cannot listen on ${host}:${port}: ${reason}${code ? ` (${code})` : ''}`, {
    cause: error,
  });
}

/**
 * Demo mode's SQLite store is a throwaway file of this process in the OS temp directory
 * (service-config.ts demoConfig): removed, with its -wal and -shm, once the store closed at a clean
 * shutdown or a failed start. A crash leaves it behind. Nothing to remove with store.url (PostgreSQL).
 */
function demoStoreRemover(config: ServiceConfig): () => void {
  if (!config.demo || (config.store.url !== undefined && config.store.url !== '')) return () => {};
  const { path } = config.store;
  return () => {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
  };
}

/** Starts the service from a loaded config (used by `serve` and by tests). Throws StartError, with everything closed again. */
export async function startService(config: ServiceConfig, logger: pino.Logger): Promise<RunningService> {
  const log = logger as unknown as Logger;
  /** Closers of what has started, run in reverse when a later step fails. */
  const started: (() => Promise<unknown>)[] = [];
  try {
    let simulator: SmscSimulator | null = null;
    const binds = [...config.binds];
    if (config.demo || config.simulator.enabled) {
      const sim = createSimulator({
        host: config.simulator.host,
        port: config.simulator.port,
        logger: log.child({ component: 'simulator' }),
        ...(config.simulator.accounts ? { accounts: config.simulator.accounts } : {}),
      });
      started.push(() => sim.close());
      const address = await sim.listen().catch((error: unknown) => {
        throw listenFailure('the embedded simulator', config.simulator.host, config.simulator.port, error);
      });
      simulator = sim;
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
    await registry.reconcile(binds);
    started.push(() => registry.stopAll(config.shutdown.unbindTimeoutMs));
    const removeDemoStore = demoStoreRemover(config);
    // Runs after the message path's close (closers run in reverse), or after its failed start.
    started.push(async () => removeDemoStore());
    const messages = await startMessagePath(config, registry, log, { binds });
    started.push(() => messages.close());
    // The config as run: the demo bind counts as a config bind (read-only through the API).
    const running: ServiceConfig = { ...config, binds };
    const catalog = new BindCatalog({ registry, store: messages.store, config: running, logger: log });
    await catalog.apply();
    const app: App = await buildApp({
      registry,
      config,
      logger,
      messagePath: messages.messagePath,
      webhooks: messages.webhooks,
      inboundMetrics: messages.inbound.metrics,
      messages: {
        callbackUrlPolicy: { allowPrivate: config.webhooks.allowPrivateCallbackUrls },
        callbackUrlsAllowed: config.webhooks.allowCallbackUrl,
      },
      bindAdmin: catalog,
    });
    started.push(() => app.close());
    const url = await app
      .listen({ host: config.http.host, port: config.http.port })
      .catch((error: unknown) => {
        throw listenFailure('the HTTP API', config.http.host, config.http.port, error);
      });
    logger.info({ url, binds: registry.list().map((b) => b.id) }, `smpp-bridge listening on ${url}`);
    // Bind ownership: other replicas' API binds are picked up before each pass; the first pass
    // takes this replica's share of the binds (all of them when it runs alone) and starts them,
    // then startAll() holds the others as standby with their owners.
    messages.ownership.setBeforePass(() => catalog.refresh());
    await messages.ownership.start();
    registry.startAll();

    let shuttingDown: Promise<void> | null = null;
    const shutdown = (): Promise<void> => {
      shuttingDown ??= (async () => {
        const { httpDrainTimeoutMs, unbindTimeoutMs } = config.shutdown;
        registry.drain();
        messages.ownership.drain();
        logger.info(
          { httpDrainTimeoutMs, unbindTimeoutMs },
          'shutting down: readiness fails; HTTP stops accepting, requests in flight may finish',
        );
        const { cut } = await closeApp(app, httpDrainTimeoutMs);
        if (cut) logger.warn(`HTTP requests still in flight after ${httpDrainTimeoutMs} ms were cut`);
        logger.info('HTTP closed; the outbound sender stops, submit_sm responses in flight may land');
        const { outstanding } = await messages.stopSending(unbindTimeoutMs);
        if (outstanding > 0) {
          logger.warn(
            `${outstanding} submit_sm responses did not land within ${unbindTimeoutMs} ms; those parts become unknown at the next start`,
          );
        }
        logger.info('HTTP closed; unbinding');
        const { abandoned } = await registry.stopAll(unbindTimeoutMs);
        if (abandoned.length > 0) {
          logger.warn(
            { abandoned },
            `${abandoned.length} binds did not unbind within ${unbindTimeoutMs} ms; their connections were closed`,
          );
        }
        await messages.close(httpDrainTimeoutMs);
        removeDemoStore();
        if (simulator) await simulator.close();
        logger.info('stopped');
      })();
      return shuttingDown;
    };
    const reload = async (next: ServiceConfig): Promise<{ restartNeeded: string[] }> => {
      const restartNeeded = RESTART_SECTIONS.filter(
        (key) => JSON.stringify(next[key]) !== JSON.stringify(config[key]),
      );
      const result = await catalog.reload({
        ...next,
        binds: [...next.binds, ...binds.slice(config.binds.length)],
      });
      logger.info(
        { added: result.added, removed: result.removed, rebound: result.rebound, tuned: result.tuned },
        `config reloaded from ${next.source ?? 'the config file'}: ${result.added.length} binds added, ${result.removed.length} removed, ${result.rebound.length} reconnected, ${result.tuned.length} retuned`,
      );
      if (restartNeeded.length > 0) {
        logger.warn(
          { sections: restartNeeded },
          `config sections changed that apply only at the next start: ${restartNeeded.join(', ')}`,
        );
      }
      return { restartNeeded };
    };
    return { config, registry, simulator, messages, catalog, url, shutdown, reload };
  } catch (error) {
    for (const close of started.reverse()) await close().catch(() => {});
    if (error instanceof StartError) throw error;
    throw new StartError((error as Error).message, { cause: error });
  }
}

export async function runServe(argv: string[]): Promise<number> {
  let configPath: string | undefined;
  try {
    const values = parseCommandArgs(argv, {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log(USAGE);
      return ExitCode.Ok;
    }
    configPath = values.config;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`serve: ${error.message}\n\n${USAGE}`);
    return ExitCode.Usage;
  }

  let config: ServiceConfig;
  try {
    config = loadConfig({ configPath, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return ExitCode.Usage;
    }
    throw error;
  }

  const logger = createServiceLogger({ level: config.log.level, secrets: config.auth.tokens });
  const { httpDrainTimeoutMs, unbindTimeoutMs } = config.shutdown;
  // Listening for SIGTERM before anything starts: one that comes during the start is not lost.
  const signals = trapStopSignals(logger as unknown as Logger, {
    // The steps run one after another: HTTP drain, submit_sm drain, unbind, webhook grace.
    deadlineMs: 2 * (httpDrainTimeoutMs + unbindTimeoutMs) + SHUTDOWN_SLACK_MS,
    // Under `npm start` (npm sets npm_lifecycle_event), a shell sits between npm and us and may
    // die of the SIGTERM npm forwards without passing it on: stop when it goes. Run directly
    // (containers: `node dist/cli.js serve`), a re-parented service keeps running.
    exitWithParent: process.env.npm_lifecycle_event !== undefined,
  });
  // Trapped before the start too: SIGHUP's default action would end the process.
  let started: RunningService | undefined;
  const stopReloads = reloadOnHangup(
    logger,
    () => started,
    () => loadConfig({ configPath, env: process.env }),
  );
  let service: RunningService;
  try {
    service = await startService(config, logger);
    started = service;
  } catch (error) {
    stopReloads();
    signals.release();
    const message = (error as Error).message;
    logger.fatal({ err: error }, `cannot start: ${message}`);
    console.error(`smpp-bridge: cannot start: ${message}`);
    return ExitCode.Failure;
  }
  try {
    return await signals.until(service.shutdown);
  } finally {
    stopReloads();
  }
}

/**
 * SIGHUP reloads the config file: its binds and `defaults` go through the same reconcile as the
 * bind API. A file that does not load is logged (every problem with its key path) and the
 * running binds stay as they are. Reloads run one at a time; returns the release.
 */
export function reloadOnHangup(
  logger: pino.Logger,
  running: () => Pick<RunningService, 'config' | 'reload'> | undefined,
  load: () => ServiceConfig,
): () => void {
  let reloading: Promise<void> = Promise.resolve();
  const onHangup = (): void => {
    reloading = reloading.then(async () => {
      const service = running();
      if (service === undefined) {
        logger.warn('SIGHUP during the start: ignored (send it again once the service listens)');
        return;
      }
      if (service.config.demo) {
        logger.warn('SIGHUP: demo mode has no config file to reload');
        return;
      }
      logger.info('SIGHUP: reloading the config file');
      let next: ServiceConfig;
      try {
        next = load();
      } catch (error) {
        const issues = error instanceof ConfigError ? error.issues : undefined;
        logger.error(
          { err: error, issues },
          `config reload failed; the running binds are unchanged: ${(error as Error).message}`,
        );
        return;
      }
      try {
        await service.reload(next);
      } catch (error) {
        logger.error({ err: error }, `config reload could not be applied: ${(error as Error).message}`);
      }
    });
  };
  process.on('SIGHUP', onHangup);
  return () => {
    process.off('SIGHUP', onHangup);
  };
}
