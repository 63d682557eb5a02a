/**
 * The validated configuration the service runs on: every default filled in, short forms
 * normalised, TLS files read. Built by loadConfig() from a file (or from nothing, in demo
 * mode) plus environment overrides.
 */
import type { BindOptions, BindTuning } from '../binds/bind-options.js';
import { DEFAULT_BIND_TUNING } from '../binds/bind-options.js';
import type { SimAccount } from '../simulator/accounts.js';
import type { LogLevel, ReadinessPolicy } from './schema.js';

export type { LogLevel, ReadinessPolicy } from './schema.js';

export interface HttpConfig {
  host: string;
  /** 0 = any free port. */
  port: number;
  bodyLimitBytes: number;
}

export interface AuthConfig {
  /** Accepted bearer tokens; empty = no authentication. */
  tokens: string[];
  /** false: health, readiness and metrics GETs stay open even when tokens are set. */
  protectReads: boolean;
}

export interface ReadinessConfig {
  /** all binds healthy | any one | a majority | at least `minHealthy`. */
  policy: ReadinessPolicy;
  minHealthy: number;
}

/** The simulator's own account type: bind types, bind limits and the over-limit status included. */
export type SimulatorAccount = SimAccount;

export interface SimulatorConfig {
  enabled: boolean;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Accepted credentials; undefined = any system_id/password binds. */
  accounts?: SimulatorAccount[];
}

export interface ServiceConfig {
  /** No config file: run the embedded simulator and (added by the process wiring) a bind to it. */
  demo: boolean;
  /** Absolute path of the file the config came from; undefined in demo mode or for parsed text. */
  source?: string;
  http: HttpConfig;
  log: { level: LogLevel };
  auth: AuthConfig;
  readiness: ReadinessConfig;
  shutdown: { unbindTimeoutMs: number };
  metrics: { enabled: boolean };
  /** The tuning every bind starts from: the built-in defaults overlaid with the file's `defaults`. */
  defaults: BindTuning;
  binds: BindOptions[];
  simulator: SimulatorConfig;
}

export const DEFAULT_HTTP: HttpConfig = { host: '0.0.0.0', port: 8080, bodyLimitBytes: 65_536 };
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
export const DEFAULT_READINESS: ReadinessConfig = { policy: 'all', minHealthy: 1 };
export const DEFAULT_SHUTDOWN_UNBIND_TIMEOUT_MS = 5_000;
export const DEFAULT_SIMULATOR: SimulatorConfig = { enabled: false, host: '127.0.0.1', port: 0 };

/** The configuration of demo mode: no binds yet, the simulator on a free loopback port. */
export function demoConfig(): ServiceConfig {
  return {
    demo: true,
    http: { ...DEFAULT_HTTP },
    log: { level: DEFAULT_LOG_LEVEL },
    auth: { tokens: [], protectReads: false },
    readiness: { ...DEFAULT_READINESS },
    shutdown: { unbindTimeoutMs: DEFAULT_SHUTDOWN_UNBIND_TIMEOUT_MS },
    metrics: { enabled: true },
    defaults: { ...DEFAULT_BIND_TUNING, reconnect: { ...DEFAULT_BIND_TUNING.reconnect } },
    binds: [],
    simulator: { ...DEFAULT_SIMULATOR, enabled: true },
  };
}
