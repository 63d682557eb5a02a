/**
 * A validated config file → ServiceConfig: fills every default, folds `defaults` into each
 * bind (bind value, else `defaults`, else built-in), expands short forms (`tx`, `'3.4'`,
 * `tls: true`) and puts the PEM text read by tls-files.ts in place of the file paths.
 */
import {
  type BindOptions,
  type BindTuning,
  DEFAULT_BIND_TUNING,
  DEFAULT_TLS,
  type TlsOptions,
  withBindDefaults,
} from '../binds/bind-options.js';
import { outboundOptions } from '../bridge/outbound/options.js';
import type { RouteConfig } from '../bridge/routing.js';
import { CommandStatus } from '../protocol/command-status.js';
import { resolveAccounts } from '../simulator/accounts.js';
import { resolveWebhooks } from '../webhooks/config.js';
import {
  BIND_TYPE_NAMES,
  type BindInput,
  type ConfigFileInput,
  INTERFACE_VERSION_SPELLINGS,
  type LogLevel,
  type ReadinessPolicy,
} from './schema.js';
import {
  DEFAULT_HTTP,
  DEFAULT_LEASES,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MO,
  DEFAULT_READINESS,
  DEFAULT_SHUTDOWN,
  DEFAULT_SIMULATOR,
  DEFAULT_STORE,
  type ServiceConfig,
} from './service-config.js';
import type { TlsFileContents } from './tls-files.js';

type TuningInput = NonNullable<ConfigFileInput['defaults']>;

const TUNING_KEYS = Object.keys(DEFAULT_BIND_TUNING) as (keyof BindTuning)[];

export function resolveConfig(
  file: ConfigFileInput,
  tlsFiles: ReadonlyMap<number, TlsFileContents>,
): ServiceConfig {
  const defaults = overlayTuning(DEFAULT_BIND_TUNING, file.defaults ?? {});
  return {
    demo: false,
    http: { ...DEFAULT_HTTP, ...file.http },
    log: { level: (file.log?.level as LogLevel | undefined) ?? DEFAULT_LOG_LEVEL },
    auth: { tokens: [...new Set(file.auth?.tokens ?? [])], protectReads: file.auth?.protectReads ?? false },
    readiness: {
      policy: (file.readiness?.policy as ReadinessPolicy | undefined) ?? DEFAULT_READINESS.policy,
      minHealthy: file.readiness?.minHealthy ?? DEFAULT_READINESS.minHealthy,
    },
    shutdown: { ...DEFAULT_SHUTDOWN, ...file.shutdown },
    metrics: {
      enabled: file.metrics?.enabled ?? true,
      perBindHistograms: file.metrics?.perBindHistograms ?? false,
    },
    store: { ...DEFAULT_STORE, ...file.store },
    leases: { ...DEFAULT_LEASES, ...file.leases },
    mo: { ...DEFAULT_MO, ...file.mo },
    defaults,
    binds: (file.binds ?? []).map((bind, index) => resolveBind(bind, defaults, tlsFiles.get(index) ?? {})),
    routes: (file.routes ?? []).map((route) => ({ ...route }) as RouteConfig),
    outbound: outboundOptions(file.outbound ?? {}),
    simulator: resolveSimulator(file.simulator),
    webhooks: resolveWebhooks(file.webhooks),
  };
}

/** `base` with the keys `overlay` sets; `reconnect` is merged key by key. */
function overlayTuning(base: BindTuning, overlay: TuningInput): BindTuning {
  const tuning: BindTuning = { ...base, reconnect: { ...base.reconnect, ...overlay.reconnect } };
  for (const key of TUNING_KEYS) {
    if (key === 'reconnect' || key === 'inboundErrorStatus') continue;
    const value = overlay[key];
    if (typeof value === 'number') tuning[key] = value;
  }
  const status = overlay.inboundErrorStatus;
  if (status !== undefined) {
    tuning.inboundErrorStatus =
      typeof status === 'number' ? status : CommandStatus[status as keyof typeof CommandStatus];
  }
  return tuning;
}

/** One bind entry (validated) → BindOptions: `defaults` folded in, short forms expanded, PEM text in place. */
export function resolveBind(bind: BindInput, defaults: BindTuning, pem: TlsFileContents): BindOptions {
  const { tls, bindType, interfaceVersion, reconnect, inboundErrorStatus, ...rest } = bind;
  const tuning = overlayTuning(defaults, { reconnect, inboundErrorStatus });
  return withBindDefaults(
    {
      ...rest,
      reconnect: tuning.reconnect,
      ...(tuning.inboundErrorStatus === undefined ? {} : { inboundErrorStatus: tuning.inboundErrorStatus }),
      tls: resolveTls(tls, pem),
      ...(bindType === undefined ? {} : { bindType: BIND_TYPE_NAMES[bindType] }),
      ...(interfaceVersion === undefined
        ? {}
        : { interfaceVersion: INTERFACE_VERSION_SPELLINGS.get(interfaceVersion) }),
    },
    defaults,
  );
}

function resolveTls(tls: BindInput['tls'], pem: TlsFileContents): TlsOptions {
  if (tls === undefined || tls === false) return { ...DEFAULT_TLS };
  if (tls === true) return { ...DEFAULT_TLS, enabled: true };
  const { ca: _ca, cert: _cert, key: _key, ...settings } = tls;
  return { ...DEFAULT_TLS, enabled: true, ...settings, ...pem };
}

function resolveSimulator(simulator: ConfigFileInput['simulator']): ServiceConfig['simulator'] {
  if (simulator === undefined) return { ...DEFAULT_SIMULATOR };
  const { accounts, ...rest } = simulator;
  return {
    ...DEFAULT_SIMULATOR,
    ...rest,
    // Status names become codes (crossFieldIssues has reported any that are unknown).
    ...(accounts === undefined ? {} : { accounts: resolveAccounts(accounts).accounts ?? [] }),
  };
}
