/**
 * `smpp-bridge simulator`: runs the SMSC simulator (and its HTTP control API) until SIGINT or
 * SIGTERM, then closes everything and resolves 0. Usage errors resolve 2, a start that fails
 * (port taken, unreadable TLS files) 1. Logs JSON lines with pino to stdout, the listening
 * address first (with the real port, so `--port 0` is usable).
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { ConfigError } from '../config/config-error.js';
import { LOG_LEVELS, type LogLevel } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { type RunningControlApi, startControlApi } from '../simulator/control-api.js';
import { SimulatorError } from '../simulator/errors.js';
import { loadSimulatorConfig, type SimulatorFileConfig } from '../simulator/sim-config.js';
import { createSimulator, type SimulatorOptions, type SmscSimulator } from '../simulator/simulator.js';
import { ExitCode, parseCommandArgs, UsageError } from './args.js';
import { trapStopSignals } from './run-until-signal.js';

export const DEFAULT_SMPP_PORT = 2775;
export const DEFAULT_CONTROL_PORT = 2776;

const USAGE = `usage: smpp-bridge simulator [options]

Runs an SMSC simulator: binds ESMEs, answers submit_sm and friends, sends delivery receipts,
and plays faults switched on over its HTTP control API (or from the config file).

  --host HOST                    SMPP listen address (default 0.0.0.0)
  --port PORT                    SMPP port (default ${DEFAULT_SMPP_PORT}; 0 = any free port, logged)
  --config FILE                  YAML config: accounts, receipts, faults, TLS, ...
                                 (see config/simulator.example.yaml); flags override it
  --control-host HOST            HTTP control API address (default 127.0.0.1)
  --control-port PORT|off        HTTP control API port (default ${DEFAULT_CONTROL_PORT}; 0 = any free port;
                                 off = no control API)
  --enquire-link-interval-ms N   send our own enquire_link after N ms of silence (default 0 = never)
  --tls-key FILE --tls-cert FILE serve SMPP over TLS
  --log-level LEVEL              ${LOG_LEVELS.join('|')} (default info)
  -h, --help                     this text

Without accounts (no --config, or none in it) any system_id and password may bind.
Stops cleanly on SIGINT or SIGTERM.`;

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535)
    throw new UsageError(`${flag} must be a port from 0 to 65535, got "${value}"`);
  return Number(value);
}

function milliseconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 2_147_483_647)
    throw new UsageError(`${flag} must be a whole number of milliseconds, got "${value}"`);
  return Number(value);
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${flag}: cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

interface Plan {
  simulator: Omit<SimulatorOptions, 'logger'>;
  control: { enabled: boolean; host: string; port: number };
  logLevel: LogLevel;
}

/** Flags over the config file over the defaults. */
function plan(argv: string[]): Plan | 'help' {
  const values = parseCommandArgs(argv, {
    host: { type: 'string' },
    port: { type: 'string', short: 'p' },
    config: { type: 'string', short: 'c' },
    'control-host': { type: 'string' },
    'control-port': { type: 'string' },
    'enquire-link-interval-ms': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-cert': { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined)) {
    throw new UsageError('--tls-key and --tls-cert go together');
  }
  const controlPortFlag = values['control-port'];
  const controlOff = controlPortFlag === 'off';
  const controlPort = controlOff ? undefined : port(controlPortFlag, '--control-port');
  const smppPort = port(values.port, '--port');
  const interval = milliseconds(values['enquire-link-interval-ms'], '--enquire-link-interval-ms');

  const file: SimulatorFileConfig = values.config
    ? loadSimulatorConfig(values.config)
    : { simulator: {}, control: {} };
  const simulator: Omit<SimulatorOptions, 'logger'> = {
    ...file.simulator,
    host: values.host ?? file.simulator.host ?? '0.0.0.0',
    port: smppPort ?? file.simulator.port ?? DEFAULT_SMPP_PORT,
  };
  if (interval !== undefined) simulator.enquireLinkIntervalMs = interval;
  if (values['tls-key'] !== undefined && values['tls-cert'] !== undefined) {
    simulator.tls = {
      key: readPem(values['tls-key'], '--tls-key'),
      cert: readPem(values['tls-cert'], '--tls-cert'),
    };
  }
  return {
    simulator,
    control: {
      enabled: !controlOff && (file.control.enabled ?? true),
      host: values['control-host'] ?? file.control.host ?? '127.0.0.1',
      port: controlPort ?? file.control.port ?? DEFAULT_CONTROL_PORT,
    },
    logLevel: (level as LogLevel | undefined) ?? file.logLevel ?? 'info',
  };
}

export async function runSimulatorCommand(argv: string[]): Promise<number> {
  let p: Plan;
  try {
    const planned = plan(argv);
    if (planned === 'help') {
      console.log(USAGE);
      return ExitCode.Ok;
    }
    p = planned;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return ExitCode.Usage;
    }
    if (!(error instanceof UsageError)) throw error;
    console.error(`simulator: ${error.message}\n\n${USAGE}`);
    return ExitCode.Usage;
  }

  const logger = pino({ level: p.logLevel, base: { component: 'simulator' } });
  const log = logger as unknown as Logger;
  let sim: SmscSimulator;
  try {
    sim = createSimulator({ ...p.simulator, logger: log });
  } catch (error) {
    if (error instanceof SimulatorError) {
      console.error(error.message);
      return ExitCode.Usage;
    }
    throw error;
  }

  // Listening for SIGTERM before anything starts: one that comes during the start is not lost.
  // Under `npm run simulator`, also stop when npm's shell goes (see serve.ts).
  const signals = trapStopSignals(logger, { exitWithParent: process.env.npm_lifecycle_event !== undefined });
  let control: RunningControlApi | null = null;
  try {
    const address = await sim.listen();
    logger.info(
      { host: address.host, port: address.port, tls: Boolean(p.simulator.tls) },
      `SMSC simulator listening on ${address.host}:${address.port}${p.simulator.tls ? ' (TLS)' : ''}`,
    );
    if (p.control.enabled) {
      control = await startControlApi(sim, { host: p.control.host, port: p.control.port, logger: log });
      logger.info({ url: control.url, controlPort: control.port }, `control API listening on ${control.url}`);
    } else {
      logger.info('control API off');
    }
  } catch (error) {
    signals.release();
    logger.fatal({ err: (error as Error).message }, `cannot start: ${(error as Error).message}`);
    await control?.close();
    await sim.close();
    return ExitCode.Failure;
  }

  return signals.until(async () => {
    await control?.close();
    await sim.close();
    logger.info('stopped');
  });
}
