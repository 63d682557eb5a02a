/**
 * The validated configuration the service runs on: every default filled in, short forms
 * normalised, TLS files read. Built by loadConfig() from a file (or from nothing, in demo
 * mode) plus environment overrides.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindOptions, BindTuning } from '../binds/bind-options.js';
import { DEFAULT_BIND_TUNING } from '../binds/bind-options.js';
import { DEFAULT_DEDUP_WINDOW_MS, DEFAULT_REASSEMBLY_TIMEOUT_MS } from '../bridge/mo-reassembly.js';
import { DEFAULT_OUTBOUND, type OutboundOptions } from '../bridge/outbound/options.js';
import type { RouteConfig } from '../bridge/routing.js';
import type { SimAccount } from '../simulator/accounts.js';
import { DEFAULT_WEBHOOKS, type WebhooksConfig } from '../webhooks/config.js';
import type { LogLevel, ReadinessPolicy } from './schema.js';

export type { LogLevel, ReadinessPolicy } from './schema.js';

export interface HttpConfig {
  host: string;
  /** 0 = any free port. */
  port: number;
  bodyLimitBytes: number;
  /** Whole request (headers and body) must arrive within this; slower clients get 408 and are closed. */
  requestTimeoutMs: number;
  /** The request headers must arrive within this. At most requestTimeoutMs. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (0 = close after each response). */
  keepAliveTimeoutMs: number;
  /** Connections open at once; further ones are closed at once. */
  maxConnections: number;
}

export interface ShutdownConfig {
  /** Bounds the whole unbinding on SIGTERM: binds still waiting then are abandoned (sockets destroyed). */
  unbindTimeoutMs: number;
  /** How long in-flight HTTP requests may finish after the listener closed; then their connections are cut. */
  httpDrainTimeoutMs: number;
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

export interface StoreConfig {
  /** The SQLite file (relative paths: from the working directory). */
  path: string;
  /**
   * postgres://… selects the PostgreSQL store (for several replicas) instead of the SQLite file;
   * its password is a secret (redacted wherever config is shown). Env: SMPP_BRIDGE_STORE_URL.
   */
  url?: string;
  /** full: a commit survives power loss; normal: it survives process crashes only. */
  synchronous: 'full' | 'normal';
  /** Finished messages are removed after this many days. */
  retentionDays: number;
}

/** Bind ownership by leases (src/bridge/ownership): one replica runs each bind. */
export interface LeasesConfig {
  /** A lease not renewed for this long may be taken by another replica. */
  ttlMs: number;
  /** How often a replica renews its leases and rebalances; the TTL must exceed twice this. */
  renewIntervalMs: number;
  /** This replica's name in the store; default `<hostname>:<pid>`. Env: SMPP_BRIDGE_LEASE_OWNER. */
  owner?: string;
}

/** Mobile-originated messages (src/bridge/inbound). */
export interface MoConfig {
  /** A multi-part MO still missing parts this long after its first part is delivered with `incomplete: true`. */
  reassemblyTimeoutMs: number;
  /** A deliver_sm seen again within this window is a redelivery (our answer was lost): delivered once. */
  dedupWindowMs: number;
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
  shutdown: ShutdownConfig;
  /** perBindHistograms: per-bind RTT histograms and PDU counts on /metrics (about 40 series per bind). */
  metrics: { enabled: boolean; perBindHistograms: boolean };
  store: StoreConfig;
  leases: LeasesConfig;
  mo: MoConfig;
  /** The tuning every bind starts from: the built-in defaults overlaid with the file's `defaults`. */
  defaults: BindTuning;
  binds: BindOptions[];
  /** Outbound routes; empty = one `default` route over every transmitter-capable bind. */
  routes: RouteConfig[];
  /** The outbound engine's knobs, defaults filled in. */
  outbound: OutboundOptions;
  simulator: SimulatorConfig;
  /** Where events go (webhooks.endpoints) and how the sender tries. */
  webhooks: WebhooksConfig;
}

export const DEFAULT_HTTP: HttpConfig = {
  host: '0.0.0.0',
  port: 8080,
  bodyLimitBytes: 65_536,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_024,
};
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
export const DEFAULT_READINESS: ReadinessConfig = { policy: 'all', minHealthy: 1 };
export const DEFAULT_SHUTDOWN: ShutdownConfig = { unbindTimeoutMs: 5_000, httpDrainTimeoutMs: 1_000 };
export const DEFAULT_STORE: StoreConfig = {
  path: './data/smpp-bridge.db',
  synchronous: 'full',
  retentionDays: 7,
};
export const DEFAULT_LEASES: LeasesConfig = { ttlMs: 10_000, renewIntervalMs: 2_000 };
export const DEFAULT_MO: MoConfig = {
  reassemblyTimeoutMs: DEFAULT_REASSEMBLY_TIMEOUT_MS,
  dedupWindowMs: DEFAULT_DEDUP_WINDOW_MS,
};
export const DEFAULT_SIMULATOR: SimulatorConfig = { enabled: false, host: '127.0.0.1', port: 0 };

/** The configuration of demo mode: no binds yet, the simulator on a free loopback port. */
export function demoConfig(): ServiceConfig {
  return {
    demo: true,
    http: { ...DEFAULT_HTTP },
    log: { level: DEFAULT_LOG_LEVEL },
    auth: { tokens: [], protectReads: false },
    readiness: { ...DEFAULT_READINESS },
    shutdown: { ...DEFAULT_SHUTDOWN },
    metrics: { enabled: true, perBindHistograms: false },
    // Demo data is throwaway: a file of this process in the OS temp directory.
    store: { ...DEFAULT_STORE, path: join(tmpdir(), `smpp-bridge-demo-${process.pid}.db`) },
    leases: { ...DEFAULT_LEASES },
    mo: { ...DEFAULT_MO },
    defaults: { ...DEFAULT_BIND_TUNING, reconnect: { ...DEFAULT_BIND_TUNING.reconnect } },
    binds: [],
    routes: [],
    outbound: { ...DEFAULT_OUTBOUND, retry: { ...DEFAULT_OUTBOUND.retry } },
    simulator: { ...DEFAULT_SIMULATOR, enabled: true },
    webhooks: { ...DEFAULT_WEBHOOKS, endpoints: [], callbackEvents: [...DEFAULT_WEBHOOKS.callbackEvents] },
  };
}
